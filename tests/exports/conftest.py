"""A fresh workspace with the export seed for each test."""

from __future__ import annotations

import pytest

from app.models.workspace import Workspace
from tests.exports.seed import seed


@pytest.fixture()
def ws(db_path):
    workspace = Workspace.open(db_path)
    yield workspace
    workspace.close()


@pytest.fixture()
def seeded(ws):
    return seed(ws)
