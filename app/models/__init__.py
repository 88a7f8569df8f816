"""SQLAlchemy models, the workspace engine and its migrations."""
