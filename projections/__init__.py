"""The read model derived from the session logs: tables, pure projection logic, catch-up, rebuild."""
