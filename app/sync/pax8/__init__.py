"""Pax8 Partner API: the connector (`Pax8Connector`) and, for tests and the demo, the sandbox
server in `app.sync.pax8.sandbox` (imported on its own so production code never loads it)."""

from app.sync.pax8.connector import MAX_PAGE_SIZE, PAX8_BASE_URL, Pax8Connector

__all__ = ["MAX_PAGE_SIZE", "PAX8_BASE_URL", "Pax8Connector"]
