"""The Qt desktop app."""

from app.ui import runtime as _runtime  # noqa: F401 - must run before any signal is emitted
