"""Watching which parts of a book a run gives its workers."""

from __future__ import annotations

import pytest

from app.services.reconcile_worker import Worker


def parts_given(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    """The parts given to workers from now on: (index, whether the part went along, rather
    than being one the worker holds or reads itself)."""
    given: list[tuple[int, bool]] = []
    real = Worker.give

    def give(self: Worker, index: int, part: object) -> None:
        given.append((index, part is not None))
        real(self, index, part)

    monkeypatch.setattr(Worker, "give", give)
    return given
