"""Use cases shared by the UI and the CLI."""
