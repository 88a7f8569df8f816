"""SQLAlchemy models, the workspace engine and its migrations.

Importing any model module registers every table, so foreign keys always resolve.
"""

from app.models import entities as _entities  # noqa: F401
