"""The app's screens beyond the dashboard and the review grid, each a QWidget taking
(workspace, runner, parent) with a `refresh()` and signals for navigation requests.

Imported lazily by name so that opening one screen does not import every other one.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

PAGES = {
    "MappingPage": "app.ui.pages.mapping",
    "CalendarPage": "app.ui.pages.calendar",
    "PushQueuePage": "app.ui.pages.push_queue",
    "ActivityPage": "app.ui.pages.activity",
    "SettingsPage": "app.ui.pages.settings",
    "ImportDialog": "app.ui.pages.import_dialog",
    "start_import": "app.ui.pages.import_dialog",
}
__all__ = list(PAGES)


def __getattr__(name: str) -> Any:
    if name in PAGES:
        return getattr(import_module(PAGES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
