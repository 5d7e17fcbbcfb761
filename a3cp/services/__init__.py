"""Application services: load state through the recorder, let the domain decide, append."""
