"""A big book read in shares, each by the process that reconciles it, gives exactly the
parts (and the result) of reading it whole and splitting it."""

from __future__ import annotations

import logging
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select, update

import app.services.reconcile_worker as worker_module
from app.domain.reconciliation import policy_resolver
from app.models.entities import PsaBillingLine
from app.models.review import Finding
from app.models.workspace import Workspace
from app.services import reconcile as service
from app.services.book_shares import BookShares, ShareJob
from app.services.finding_rows import Found, id_maps, stored_values
from app.services.reconcile import one_snapshot, reconcile_period
from app.services.reconcile_book import SUB_ID, Book, build_facts
from app.services.reconcile_charges import UsageRead
from app.services.reconcile_facts import plan_shares
from app.services.reconcile_worker import PartedRun, Worker, reconcile_part, workers
from tests.services.small_demo import PERIOD, small_demo, whole_book
from tests.services.worker_spy import parts_given

FIELDS = ("subs", "seat_rows", "lines", "lots", "sub_lines", "companies", "customer_map",
          "steps", "pending", "products", "product_map", "motion_map", "overrides", "rules",
          "kinds")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return small_demo(tmp_path_factory.mktemp("shares"))


@pytest.fixture(scope="module")
def book(demo) -> Book:
    return whole_book(demo)


@contextmanager
def _snapshot(path: Path) -> Iterator:
    """A session in one snapshot of the workspace, its usage read as the service reads it."""
    ws = Workspace.open(path)
    try:
        with ws.begin() as session:
            one_snapshot(session)
            usage = UsageRead(session, PERIOD)
            session.info["usage"] = usage
            yield session
    finally:
        ws.close()


def _dbapi(session):  # noqa: ANN001, ANN202
    return session.connection().connection.driver_connection


@pytest.mark.parametrize("count", [3, 20])
def test_shares_read_are_the_parts_of_the_whole_book(demo, book, count):
    """Read in two shares, every part is the part splitting the whole book gives, less the
    subscriptions found plainly in step before their rows were read: the same rows in the
    same order, the same small tables, and the same facts and in-step count built."""
    whole = book.split(count)
    with _snapshot(demo) as session:
        shares = plan_shares(session, PERIOD, count)
        middle = count // 2
        read = {**shares.read(_dbapi(session), range(middle)),
                **shares.read(_dbapi(session), range(middle, count))}
    assert sorted(read) == list(range(count))
    policy_for = policy_resolver(book.rules)
    quiet = 0
    for n, part in read.items():
        ids = {row[SUB_ID] for row in part.subs}
        keys = part.keys()
        gone = [row for row in whole[n].subs if row[SUB_ID] not in ids]
        assert sum(part.quiet.values()) == len(gone)
        quiet += len(gone)
        assert [tuple(row) for row in part.subs] == \
            [tuple(row) for row in whole[n].subs if row[SUB_ID] in ids]
        for name in FIELDS:
            mine, theirs = getattr(part, name), getattr(whole[n], name)
            if name == "subs":
                continue
            if name in ("seat_rows", "lots", "sub_lines"):
                theirs = {k: v for k, v in theirs.items() if k in keys or k in ids}
            if name == "lines":
                assert set(mine) <= set(theirs) and list(mine) == [i for i in theirs if i in mine]
                only_gone = {line for row in gone for line in book.sub_lines[row[SUB_ID]]}
                assert set(theirs) - set(mine) <= only_gone, (n, name)
                continue
            assert mine == theirs, (n, name)
        with_usage = replace(part, usage=whole[n].usage)  # read apart (UsageRead)
        built, built_whole = build_facts(with_usage, PERIOD, policy_for), \
            build_facts(whole[n], PERIOD, policy_for)
        assert built.facts == built_whole.facts and built.in_step == built_whole.in_step
    assert quiet > 0  # the demo has plainly billed subscriptions, left unread
    assert sum(len(part.subs) for part in read.values()) + quiet == len(book.subs)


class _Planned:
    """A DBAPI connection that notes how SQLite plans each statement it runs."""

    def __init__(self, connection) -> None:  # noqa: ANN001
        self.connection = connection
        self.plans: dict[str, list[str]] = {}

    def execute(self, sql: str, params=()):  # noqa: ANN001, ANN202
        if sql.lstrip().upper().startswith("SELECT"):
            self.plans[sql] = [row[3] for row in self.connection.execute(
                f"EXPLAIN QUERY PLAN {sql}", params)]
        return self.connection.execute(sql, params)


def test_a_shares_seat_lines_are_searched_per_loud_subscription(demo):
    """Each loud subscription of a share has its seat lines searched by its own key, never
    every seat line of its connection read (as the pair listed IN a subquery would be)."""
    with _snapshot(demo) as session:
        shares = plan_shares(session, PERIOD, 2)
        planned = _Planned(_dbapi(session))
        shares.read(planned, [0])
    for sql, _ in shares.statements.seat_rows:
        plan = planned.plans[sql]
        assert plan[0] == "SCAN temp.trueup_share_subscriptions", plan
        assert plan[1].startswith(
            "SEARCH charge_lines USING INDEX ix_charge_lines_subscription_ends "
            "(connection_id=? AND subscription_external_id=? AND charge_end"), plan


def _whole_found(book: Book, stored: dict[str, str]) -> tuple:
    whole = reconcile_part(PERIOD, book)
    loaded = id_maps(book)
    return (tuple((d.key, d.inputs_hash) for d in whole.findings),
            {d.key: stored_values(d, loaded) for d in whole.findings if d.key not in stored},
            whole)


def _shared_run(path: Path, helpers: list[Worker], stored: dict[str, str] | None = None
                ) -> Found:
    with _snapshot(path) as session:
        run = PartedRun(PERIOD, helpers, rows=True, stored=stored)
        run.share_out(plan_shares(session, PERIOD, run.count), str(path), _dbapi(session))
        return run.result(Book(usage=dict(session.info["usage"].groups(session))))


def test_a_worker_reading_its_own_share_gives_the_whole_books_findings(demo, book,
                                                                       monkeypatch):
    """The worker reads its share itself and this process reads its own: the findings, the
    rows of the new ones and the changed ones whole, exactly as from the whole book."""
    entries, rows, whole = _whole_found(book, {})
    same, moved = whole.findings[::3], whole.findings[1::3]
    stored = {d.key: d.inputs_hash for d in same} | {d.key: "an older hash" for d in moved}
    given = parts_given(monkeypatch)
    _slow_here(monkeypatch, 0.2)  # the worker, starting, still finds its share left
    with workers(1) as helpers:
        found = _shared_run(demo, helpers, stored)
        assert helpers[0].failure is None
    assert found.entries == entries and found.summary == whole.summary
    assert found.rows == {key: row for key, row in rows.items() if key not in stored}
    assert {key: d.explanation_json for key, d in found.drafts.items()} == \
        {d.key: d.explanation_json for d in moved}
    assert set(found.values) == {d.key for d in moved}
    share = worker_module.PARTS_PER_PROCESS - 1  # the worker's: one part fewer than here
    assert sum(not sent for _, sent in given) == share  # its own, read there


def test_a_worker_that_cannot_read_its_share_leaves_it_here(demo, book, monkeypatch, caplog):
    entries, rows, _ = _whole_found(book, {})
    monkeypatch.setattr(ShareJob, "__init__", _elsewhere(ShareJob.__init__))
    read: list[tuple[int, ...]] = []
    real = BookShares.read

    def reading(self, connection, parts):
        read.append(tuple(parts))
        return real(self, connection, parts)

    monkeypatch.setattr(BookShares, "read", reading)
    with caplog.at_level(logging.WARNING), workers(1) as helpers:
        found = _shared_run(demo, helpers)
        assert "unable to open database file" in helpers[0].failure
    assert "reconciling its parts here" in caplog.text
    assert (found.entries, found.rows) == (entries, rows)
    assert len(read) == 1 + worker_module.PARTS_PER_PROCESS - 1  # its parts, one by one here


def _elsewhere(init):  # noqa: ANN001, ANN202
    """ShareJob's __init__, its workspace file a path where there is none."""
    def init_elsewhere(self, path, shares, held):  # noqa: ANN001, ANN202
        init(self, str(Path(path).with_name("gone.sqlite")), shares, held)
    return init_elsewhere


def _worker_slow(seconds: float, *, first_only: bool = False) -> list[str]:
    """A worker that sleeps before every part (the first worker to start only, if so)."""
    script = ("import os, sys, tempfile, time\n"
              "import app.services.reconcile_worker as w\n"
              "marker = os.path.join(tempfile.gettempdir(), f'trueup-slow-{os.getppid()}')\n"
              "try:\n"
              "    os.close(os.open(marker, os.O_CREAT | os.O_EXCL))\n"
              "    slow = True\n"
              "except FileExistsError:\n"
              f"    slow = not {first_only}\n"
              "real = w.reconcile_part\n"
              "def part(period, book):\n"
              f"    time.sleep({seconds} if slow else 0)\n"
              "    return real(period, book)\n"
              "w.reconcile_part = part\n"
              "w.work()\n")
    return [sys.executable, "-P", "-c", script]


def test_parts_of_a_slow_workers_share_are_read_here(demo, book, monkeypatch):
    """The worker running slowly, this process takes parts of its share: it reads each
    itself, in its own snapshot, and the findings are the same."""
    entries, rows, _ = _whole_found(book, {})
    monkeypatch.setattr(worker_module, "_command", lambda: _worker_slow(2))
    read: list[tuple[int, ...]] = []
    real = BookShares.read

    def reading(self, connection, parts):
        read.append(tuple(parts))
        return real(self, connection, parts)

    monkeypatch.setattr(BookShares, "read", reading)
    with workers(1) as helpers:
        found = _shared_run(demo, helpers)
        assert helpers[0].failure is None
    assert (found.entries, found.rows) == (entries, rows)
    assert len(read) > 1 and all(len(parts) == 1 for parts in read[1:])


def test_a_worker_reads_a_part_of_another_workers_share(demo, book, monkeypatch, tmp_path):
    """Two workers, one slow: the other, done with its share, takes parts of the slow one's,
    given without their rows (this process never read them), and reads them itself."""
    entries, rows, _ = _whole_found(book, {})
    monkeypatch.setattr(worker_module, "_command", lambda: _worker_slow(1.5, first_only=True))
    monkeypatch.setattr(worker_module, "_environment",
                        lambda real=worker_module._environment: {**real(),
                                                                 "TMPDIR": str(tmp_path)})
    monkeypatch.setattr(worker_module, "PARTS_PER_PROCESS", 3)
    given: list[tuple[int, int, bool]] = []
    shares: dict[int, tuple[int, ...]] = {}
    real_give, real_send = Worker.give, Worker.send_shares

    def give(self, index, part):
        given.append((id(self), index, part is not None))
        real_give(self, index, part)

    def send_shares(self, period, job):
        shares[id(self)] = job.held
        real_send(self, period, job)

    monkeypatch.setattr(Worker, "give", give)
    monkeypatch.setattr(Worker, "send_shares", send_shares)
    _slow_here(monkeypatch, 1.0)
    with workers(2) as helpers:
        found = _shared_run(demo, helpers)
        assert [worker.failure for worker in helpers] == [None, None]
    assert (found.entries, found.rows) == (entries, rows)
    assert sorted(index for held in shares.values() for index in held) == [5, 6, 7, 8]
    assert any(not sent and index not in shares[worker] and index >= 5
               for worker, index, sent in given)


def _slow_here(monkeypatch, seconds: float) -> None:
    real = PartedRun._here

    def slow(self, part):
        import time

        time.sleep(seconds)
        return real(self, part)

    monkeypatch.setattr(PartedRun, "_here", slow)


def _stored(ws: Workspace) -> list[tuple]:
    with ws.begin() as s:
        return sorted((f.key, f.amount, f.inputs_hash, f.status, f.version, f.explanation)
                      for f in s.scalars(select(Finding)))


def test_a_commit_before_the_workers_read_starts_the_run_again(demo, tmp_path, monkeypatch):
    """Someone commits after the run's snapshot began, before a worker read its share: the
    worker may have read the newer rows, so the run's write fails and it starts again on
    the new snapshot. What it stores is what a run after that commit stores."""
    before, after = tmp_path / "before.sqlite", tmp_path / "after.sqlite"
    shutil.copy2(demo, before)
    shutil.copy2(demo, after)
    monkeypatch.setattr(worker_module, "available_cores", lambda: 2)

    def change(ws: Workspace) -> None:
        with ws.engine.begin() as conn:
            ids = conn.scalars(select(PsaBillingLine.id).order_by(PsaBillingLine.id)).all()
            conn.execute(update(PsaBillingLine).where(PsaBillingLine.id.in_(ids[::3]))
                         .values(quantity=PsaBillingLine.quantity + 2))

    ws = Workspace.open(after)
    try:
        change(ws)
        reconcile_period(ws, PERIOD.label, user="ann")
        expected = _stored(ws)
    finally:
        ws.close()
    monkeypatch.setattr(worker_module, "MIN_SUBSCRIPTIONS", 1)
    ws = Workspace.open(before)
    real, planned = service.plan_shares, []

    def planning(session, period, count):
        shares = real(session, period, count)
        if not planned:
            change(ws)  # on a connection of its own, committed
        planned.append(count)
        return shares

    monkeypatch.setattr(service, "plan_shares", planning)
    messages: list[str] = []
    try:
        reconcile_period(ws, PERIOD.label, user="ann",
                         progress=lambda done, total, message: messages.append(message))
        stored = _stored(ws)
    finally:
        ws.close()
    assert len(planned) == 2 and "the workspace changed meanwhile; reconciling again" in messages
    assert stored == expected
