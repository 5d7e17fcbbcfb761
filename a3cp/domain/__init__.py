"""Pure domain logic: folds events into state and decides new events. No I/O here."""
