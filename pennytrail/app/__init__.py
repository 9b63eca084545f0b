"""The application layer: what the command, the Dagster assets and the portal call."""
