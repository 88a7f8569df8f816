"""A book reconciled in parts, here and in worker processes, gives exactly the whole book's
result: the same findings in the same order, the same summary."""

from __future__ import annotations

import io
import json
import logging
import pickle
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

import app.services.reconcile_worker as worker_module
from app.domain.reconciliation import merge_results, policy_resolver, reconcile
from app.domain.reconciliation.quiet import in_step, plain_seats
from app.models import usage_days
from app.models.entities import PsaBillingLine
from app.models.review import Finding
from app.models.workspace import Workspace
from app.services.book_shares import BookShares
from app.services.finding_rows import (
    ACTION,
    finding_values,
    id_maps,
    merge_found,
    stored_values,
)
from app.services.reconcile import one_snapshot, reconcile_period
from app.services.reconcile_book import Book, build_facts
from app.services.reconcile_facts import read_book
from app.services.reconcile_worker import (
    WORKER_FLAG,
    PartedRun,
    Worker,
    WorkerFailed,
    parts_for,
    reconcile_in_parts,
    reconcile_part,
    workers,
    write_frame,
)
from tests.services.small_demo import PERIOD, small_demo, whole_book
from tests.services.worker_spy import parts_given

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return small_demo(tmp_path_factory.mktemp("parts"))


@pytest.fixture(scope="module")
def book(demo) -> Book:
    return whole_book(demo)


def _same(a, b) -> None:
    assert [d.key for d in a.findings] == [d.key for d in b.findings]
    assert [(d.amount, d.inputs_hash, d.explanation_json) for d in a.findings] == \
        [(d.amount, d.inputs_hash, d.explanation_json) for d in b.findings]
    assert a.summary == b.summary


def test_the_demos_usage_days_give_what_its_lines_give(demo, book, monkeypatch):
    """The demo's imports and syncs added its usage up by day, and the book was read from
    those days; read from the lines themselves, the usage is the same."""
    ws = Workspace.open(demo)
    try:
        with ws.engine.connect() as conn:
            assert usage_days.current(conn)
        monkeypatch.setattr(usage_days, "current", lambda conn: False)
        with ws.begin() as session:
            one_snapshot(session)
            from_lines = read_book(session, PERIOD)
    finally:
        ws.close()
    assert len(book.usage) >= 3
    assert from_lines.usage == book.usage


def test_the_demo_has_findings_of_many_kinds_to_compare(book):
    result = reconcile_part(PERIOD, book)
    assert len({d.kind for d in result.findings}) >= 8 and result.summary.subscriptions > 40


@pytest.mark.parametrize("parts", [2, 3, 4, 7])
def test_parts_merged_are_the_whole_book(book, parts):
    whole = reconcile_part(PERIOD, book)
    split = book.split(parts)
    assert sum(len(p.subs) for p in split) == len(book.subs)
    assert all(p.subs for p in split)  # 25 customers spread over every part
    _same(merge_results(reconcile_part(PERIOD, p) for p in split), whole)


def test_a_customers_subscriptions_stay_in_one_part(book):
    """What a customer's subscriptions share (one-time charges, usage of one product) is
    decided within one part."""
    split = book.split(3)
    owner = {}
    for index, part in enumerate(split):
        for sub in part.subs:
            company = part.customer_map.get(sub[16])
            assert owner.setdefault(("psa", company) if company else ("vendor", sub[14]),
                                    index) == index
            if company is not None:  # its one-time charges travel with it
                assert all(line.company_id != company for other in split if other is not part
                           for line in other.lines.values() if line.is_one_time)


def test_a_line_mapped_to_subscriptions_of_two_parts_goes_to_both(book):
    """Mapped to a subscription of another customer too (a mapping mistake a run must
    still show alike), a PSA line travels with each; every part keeps only its own rows."""
    first, second = book.split(2)
    mine = next(sub for sub in first.subs if first.sub_lines.get(sub[0]))
    theirs = next(sub for sub in second.subs if sub[0] in second.sub_lines)
    line_id = first.sub_lines[mine[0]][0]
    assert line_id not in second.lines  # another customer's line
    crossed = replace(book, sub_lines={**book.sub_lines,
                                       theirs[0]: [*book.sub_lines[theirs[0]], line_id]})
    first, second = crossed.split(2)
    assert line_id in first.lines and line_id in second.lines
    for part in (first, second):
        ids = {sub[0] for sub in part.subs}
        assert set(part.sub_lines) <= ids and set(part.lots) <= ids
        assert set(part.seat_rows) | set(part.usage) <= part.keys()
    _same(merge_results(reconcile_part(PERIOD, p) for p in (first, second)),
          reconcile_part(PERIOD, crossed))


def test_a_part_survives_the_trip_to_a_worker(book):
    [part, _] = book.split(2)
    state = part.__getstate__()
    assert "_bulk" in state and "subs" not in state  # SQLite's plain values: one blob
    again = pickle.loads(pickle.dumps(part))
    assert again.__dict__ == part.__dict__
    _same(reconcile_part(PERIOD, again), reconcile_part(PERIOD, part))


def test_a_part_with_typed_values_travels_pickled(book):
    """PostgreSQL's rows hold dates and Decimals, which marshal refuses: pickled as they are."""
    [part, _] = book.split(2)
    key = next(iter(part.seat_rows))
    part.seat_rows[key] = [(*row[:2], date.fromisoformat(row[2]), *row[3:])
                           for row in part.seat_rows[key]]
    assert "_bulk" not in part.__getstate__()
    again = pickle.loads(pickle.dumps(part))
    assert again.__dict__ == part.__dict__


def test_worker_processes_give_the_whole_books_result(book):
    with workers(2) as helpers:
        result = reconcile_in_parts(PERIOD, book, helpers)
        assert [w.failure for w in helpers] == [None, None]
    _same(result, reconcile_part(PERIOD, book))


def test_every_part_makes_its_new_findings_rows(book):
    """Asked for rows, each part (here and in the worker) turns its new findings into the
    findings table's rows, the worker's sent instead of its findings: the same rows as
    made from the whole book's ids, in the whole book's order."""
    whole = reconcile_part(PERIOD, book)
    with workers(1) as helpers:
        found = PartedRun(PERIOD, helpers, rows=True).result(book)
        assert helpers[0].failure is None
    assert found.entries == tuple((d.key, d.inputs_hash) for d in whole.findings)
    assert found.summary == whole.summary and not found.drafts
    loaded = id_maps(book)
    assert found.rows == {d.key: stored_values(d, loaded) for d in whole.findings}


def test_a_rows_action_is_the_findings_action_data(book):
    """The action column holds the very data the ORM would store, non-ASCII included
    (written as UTF-8, where json would escape it)."""
    loaded = id_maps(book)
    drafts = reconcile_part(PERIOD, book).findings[:20]
    for draft in [*drafts, replace(drafts[0], product_name="Büro 365 \u2013 Größe\x7f")]:
        action = finding_values(draft, loaded)[ACTION]
        assert json.loads(stored_values(draft, loaded)[ACTION]) == action
    assert action["product_name"] == "Büro 365 \u2013 Größe\x7f"


def test_findings_the_period_stored_come_whole_only_when_changed(book):
    """A finding already stored may have changed: the store compares and updates it, so a
    part sends it whole when its hash differs from the stored one, and its key alone when
    not. Only the new ones come as rows."""
    whole = reconcile_part(PERIOD, book)
    same, moved = whole.findings[::3], whole.findings[1::3]
    stored = {d.key: d.inputs_hash for d in same} | {d.key: "an older hash" for d in moved}
    with workers(1) as helpers:
        found = PartedRun(PERIOD, helpers, rows=True, stored=stored).result(book)
        assert helpers[0].failure is None
    assert found.entries == tuple((d.key, d.inputs_hash) for d in whole.findings)
    assert {key: d.explanation_json for key, d in found.drafts.items()} == \
        {d.key: d.explanation_json for d in moved}
    assert set(found.rows) == {d.key for d in whole.findings} - set(stored)


def test_parts_handed_out_before_the_usage_is_read_get_it_after(book):
    """The service hands the parts out while the usage read ends: the workers get their
    usage in a second frame, and the result is still the whole book's."""
    without_usage = replace(book, usage={})
    with workers(1) as helpers:
        run = PartedRun(PERIOD, helpers)
        run.hand_out(without_usage)
        assert run.parts is not None and all(not part.usage for part in run.parts)
        result = run.result(book).result()
        assert helpers[0].failure is None and helpers[0].process.wait(timeout=30) == 0
    assert any(part.usage for part in run.parts)  # the demo bills usage: it went out
    _same(result, reconcile_part(PERIOD, book))


def test_a_worker_that_dies_leaves_its_part_here(book, monkeypatch, caplog):
    monkeypatch.setattr(worker_module, "_command",
                        lambda: [sys.executable, "-c", "import sys; sys.exit('out of memory')"])
    with caplog.at_level(logging.WARNING), workers(1) as helpers:
        result = reconcile_in_parts(PERIOD, book, helpers)
    assert "the reconcile worker" in helpers[0].failure and "out of memory" in \
        helpers[0].failure
    assert "reconciling its parts here" in caplog.text
    _same(result, reconcile_part(PERIOD, book))


def test_a_worker_gone_before_it_reads_its_part_says_why(monkeypatch):
    """Writing to a worker that has exited fails with a broken pipe, which says nothing of
    the cause: the failure reported is what the worker said, with its exit code."""
    monkeypatch.setattr(worker_module, "_command",
                        lambda: [sys.executable, "-c", "import sys; sys.exit('no room')"])
    worker = Worker()
    try:
        assert worker.process is not None and worker.process.wait(timeout=30) == 1
        with pytest.raises(WorkerFailed) as failed:
            worker.give(0, None)
        assert "could not take its part" in str(failed.value)
        assert "exit code 1" in str(failed.value) and "no room" in str(failed.value)
    finally:
        worker.stop()


def test_a_worker_that_failed_before_it_was_written_to_is_heard_out(monkeypatch):
    """A worker that fails before its usage is written to it says why in a last frame on
    its way out: a broken pipe on the write does not hide it."""
    said = ("import sys\n"
            "from app.services.reconcile_worker import write_frame\n"
            "write_frame(sys.stdout.buffer, ('error', 'unable to open database file'))\n")
    monkeypatch.setattr(worker_module, "_command", lambda: [sys.executable, "-P", "-c", said])
    worker = Worker()
    try:
        assert worker.process is not None and worker.process.wait(timeout=30) == 0
        worker.start_taking({})
        with pytest.raises(WorkerFailed, match="failed: unable to open database file"):
            worker.request()
    finally:
        worker.stop()


def _worker_running(body: str) -> list[str]:
    """A worker whose `reconcile_part` first runs `body` (with `calls`, how many parts it
    has been given so far)."""
    script = ("import os, time\n"
              "import app.services.reconcile_worker as w\n"
              "real, calls = w.reconcile_part, []\n"
              "def part(period, book):\n"
              "    calls.append(1)\n"
              f"    {body}\n"
              "    return real(period, book)\n"
              "w.reconcile_part = part\n"
              "w.work()\n")
    return [sys.executable, "-P", "-c", script]


def _slow_here(monkeypatch, seconds: float) -> None:
    real = PartedRun._here

    def slow(self, part):
        time.sleep(seconds)
        return real(self, part)

    monkeypatch.setattr(PartedRun, "_here", slow)


def _given_in_a_run(book, monkeypatch) -> list[tuple[int, bool]]:
    """The parts given to one worker in a run, which must give the whole book's result."""
    given = parts_given(monkeypatch)
    with workers(1) as helpers:
        result = reconcile_in_parts(PERIOD, book, helpers)
        assert helpers[0].failure is None
    _same(result, reconcile_part(PERIOD, book))
    return given


def test_a_slow_worker_leaves_more_parts_to_this_process(book, monkeypatch):
    """A worker running slowly (another program took its core, say) takes fewer parts:
    this process takes the rest of its share, and the result is the same."""
    monkeypatch.setattr(worker_module, "_command", lambda: _worker_running("time.sleep(2)"))
    _slow_here(monkeypatch, 0.25)
    given = _given_in_a_run(book, monkeypatch)
    assert 1 <= len(given) < worker_module.PARTS_PER_PROCESS
    assert not any(sent for _, sent in given)


def test_a_fast_worker_takes_parts_of_this_process_share(book, monkeypatch):
    """This process running slowly: the worker, done with its own share, is sent parts of
    this one's, and the result is the same."""
    _slow_here(monkeypatch, 0.5)
    given = _given_in_a_run(book, monkeypatch)
    share = worker_module.PARTS_PER_PROCESS
    assert len(given) > share and sum(sent for _, sent in given) == len(given) - share


def test_a_part_taken_for_a_worker_that_could_not_be_given_it_is_done_here(book, monkeypatch):
    """Whatever goes wrong while a part is being given to a worker, that part is not lost."""
    def broken(self, index, part):
        raise RuntimeError("pipe trouble")

    monkeypatch.setattr(Worker, "give", broken)
    _slow_here(monkeypatch, 0.25)  # the worker asks before every part is taken here
    with workers(1) as helpers:
        result = reconcile_in_parts(PERIOD, book, helpers)
        assert "pipe trouble" in helpers[0].failure
    _same(result, reconcile_part(PERIOD, book))


def test_an_answer_that_cannot_be_read_is_reconciled_here(book, monkeypatch, caplog):
    """A part the worker answered whose answer cannot be read back is reconciled here: not
    lost, not counted twice."""
    real, tried = Worker.answer, []

    def answer(self, span):
        tried.append(span[0])
        if len(tried) == 1:
            raise EOFError("the reconcile worker's answer was cut short")
        return real(self, span)

    monkeypatch.setattr(Worker, "answer", answer)
    _slow_here(monkeypatch, 0.25)  # the worker answers some parts before all are taken
    with caplog.at_level(logging.WARNING), workers(1) as helpers:
        result = reconcile_in_parts(PERIOD, book, helpers)
        assert helpers[0].failure is None
    assert len(tried) > 1 and "answer could not be read" in caplog.text
    _same(result, reconcile_part(PERIOD, book))


def test_a_workers_answers_file_goes_with_it(book):
    with workers(1) as helpers:
        reconcile_in_parts(PERIOD, book, helpers)
        answers = helpers[0]._answers
        assert answers is not None and answers.exists()
    assert not answers.exists()


@pytest.mark.parametrize("body, said", [
    ("os._exit(3) if len(calls) == 2 else None", "exit code 3"),
    ("1 / 0 if len(calls) == 2 else None", "ZeroDivisionError")])
def test_a_worker_failing_midway_leaves_the_rest_here(book, monkeypatch, caplog, body, said):
    """The part a worker was reconciling when it died, or failed, is reconciled here with
    every part nobody took: nothing is lost, nothing counted twice."""
    monkeypatch.setattr(worker_module, "_command", lambda: _worker_running(body))
    _slow_here(monkeypatch, 0.25)  # the worker asks for a second part before all are taken
    given = parts_given(monkeypatch)
    with caplog.at_level(logging.WARNING), workers(1) as helpers:
        result = reconcile_in_parts(PERIOD, book, helpers)
    assert said in helpers[0].failure and "reconciling its parts here" in caplog.text
    assert len(given) == 2
    _same(result, reconcile_part(PERIOD, book))


def test_a_worker_that_cannot_start_leaves_its_part_here(book, monkeypatch):
    monkeypatch.setattr(worker_module, "_command", lambda: [str(ROOT / "no-such-program")])
    with workers(1) as helpers:
        result = reconcile_in_parts(PERIOD, book, helpers)
    assert helpers[0].failure.startswith("could not start a reconcile worker")
    _same(result, reconcile_part(PERIOD, book))


def test_a_failing_job_is_reported_with_its_traceback():
    worker = Worker()
    try:
        worker.send(PERIOD, Book(kinds={}, subs=[(1, 99, "s", "sku", "p", "1", None, None,
                                                  "USD", "P1M", "Monthly", None, None,
                                                  "active", "c", "C", 1)]))
        worker.send_usage({})
        assert worker.result() is None
        assert "failed" in worker.failure and "KeyError: 99" in worker.failure
    finally:
        worker.stop()


def test_the_entry_point_serves_a_worker(book):
    """`main.py --reconcile-worker` (the packaged app's way) is a worker, not the CLI."""
    [part, _] = book.split(2)
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), WORKER_FLAG],
                          input=_job(part), capture_output=True, check=True, timeout=120)
    status, answer = pickle.loads(done.stdout)
    assert status == "ok"
    _same(merge_found([answer]).result(), reconcile_part(PERIOD, part))


def test_small_books_stay_in_one_process():
    assert parts_for(4_999, cores=8) == 1
    assert parts_for(40_000, cores=1) == 1
    assert parts_for(40_000, cores=2) == 2
    assert parts_for(40_000, cores=16) == 4


def test_reconcile_period_uses_workers_for_a_big_book(demo, tmp_path, monkeypatch):
    """With the threshold lowered, the service reconciles the demo in two processes, each
    reading its share of the book, and stores what one process stores."""
    one, two = tmp_path / "one.sqlite", tmp_path / "two.sqlite"
    shutil.copy2(demo, one)
    shutil.copy2(demo, two)
    started = []
    real = worker_module.workers

    def counted(count):
        started.append(count)
        return real(count)

    monkeypatch.setattr(worker_module, "available_cores", lambda: 2)
    shared, share_out = [], PartedRun.share_out

    def sharing(self, shares, path, connection):  # noqa: ANN001, ANN202
        shared.append(path)
        return share_out(self, shares, path, connection)

    monkeypatch.setattr(PartedRun, "share_out", sharing)
    reports = []
    for path, threshold in ((one, 10**9), (two, 1)):
        monkeypatch.setattr(worker_module, "MIN_SUBSCRIPTIONS", threshold)
        monkeypatch.setattr("app.services.reconcile.workers", counted)
        ws = Workspace.open(path)
        try:
            reports.append(reconcile_period(ws, PERIOD.label, user="ann"))
            reports.append(_stored(ws))
            # A re-run after the PSA changed: some findings change, some go, some stay.
            with ws.begin() as s:
                lines = s.scalars(select(PsaBillingLine).order_by(PsaBillingLine.id)).all()
                for line in lines[::4]:
                    line.quantity += 1
            reports.append(reconcile_period(ws, PERIOD.label, user="ann"))
            reports.append(_stored(ws))
        finally:
            ws.close()
    assert started == [0, 0, 1, 1]
    assert shared == [str(two)] * 2  # the worker read its share of the workspace itself
    assert reports[:4] == reports[4:] and reports[1] and reports[3] != reports[1]
    rerun = reports[2]
    assert rerun.changed and rerun.unchanged and rerun.new + rerun.resolved


def test_this_process_reads_its_share_once_the_workers_have_their_usage(
        demo, tmp_path, monkeypatch):
    """A worker starts on its parts as soon as it has read its share: its usage is sent
    before this process reads its own share, not after (the worker would wait, idle)."""
    path = tmp_path / "book.sqlite"
    shutil.copy2(demo, path)
    events: list[object] = []
    real_taking, real_read = Worker.start_taking, BookShares.read

    def taking(self, usage, **how):  # noqa: ANN001, ANN202
        real_taking(self, usage, **how)
        events.append("usage sent")

    def read(self, connection, parts):  # noqa: ANN001, ANN202
        events.append(("read here", tuple(parts)))
        return real_read(self, connection, parts)

    monkeypatch.setattr(Worker, "start_taking", taking)
    monkeypatch.setattr(BookShares, "read", read)
    monkeypatch.setattr(worker_module, "available_cores", lambda: 2)
    monkeypatch.setattr(worker_module, "MIN_SUBSCRIPTIONS", 1)
    ws = Workspace.open(path)
    try:
        report = reconcile_period(ws, PERIOD.label, user="ann")
    finally:
        ws.close()
    assert report.findings
    share = range(worker_module.PARTS_PER_PROCESS + 1)  # the worker's is one part fewer
    assert events[:2] == ["usage sent", ("read here", tuple(share))]


def test_a_worker_still_reading_its_share_does_not_hold_this_process_up(monkeypatch):
    """The usage goes to a worker in the background: however much of it there is (more
    than a pipe holds), a worker that has not read it yet (here, one asleep) does not keep
    this process from going on to read its own share."""
    monkeypatch.setattr(worker_module, "_command",
                        lambda: [sys.executable, "-c", "import time; time.sleep(120)"])
    usage = {(1, f"sub-{n}"): [("usage", "x" * 100)] for n in range(10_000)}  # a megabyte
    with workers(1) as (worker,):
        sending = threading.Thread(target=worker.start_taking, args=(usage,), daemon=True)
        sending.start()
        sending.join(timeout=30)
        assert not sending.is_alive()


def _stored(ws: Workspace) -> list[tuple]:
    with ws.begin() as s:
        return sorted((f.id, f.key, f.amount, f.inputs_hash, f.status, f.version, f.explanation)
                      for f in s.scalars(select(Finding)))


def test_a_worker_runs_its_own_program_wherever_it_is_started(book, tmp_path, monkeypatch):
    """A folder holding another copy of the program (another checkout, say) as the working
    folder: the worker still runs the copy that started it."""
    decoy = tmp_path / "app" / "services"
    decoy.mkdir(parents=True)
    for folder in (tmp_path / "app", decoy):
        (folder / "__init__.py").write_text("")
    (decoy / "reconcile_worker.py").write_text("raise SystemExit('the wrong program')\n")
    monkeypatch.chdir(tmp_path)
    [part, _] = book.split(2)
    worker = Worker()
    try:
        worker.send(PERIOD, part)
        worker.send_usage(part.usage)
        answer = worker.result()
        assert worker.failure is None and answer is not None
    finally:
        worker.stop()
    _same(merge_found([answer]).result(), reconcile_part(PERIOD, part))


def test_a_job_left_unfinished_is_a_failure_not_a_hang(book):
    worker = Worker()
    try:
        worker.send(PERIOD, book)  # and never its usage
        assert worker.result() is None
        assert "ended early" in worker.failure
    finally:
        worker.stop()


def test_subscriptions_found_in_step_without_facts_change_nothing(book):
    """The builder counts plainly in-step subscriptions instead of building them: the
    result is that of building every one, and each it left out is one the engine's own
    rule, on the built facts, also finds in step."""
    policy_for = policy_resolver(book.rules)
    built, everything = build_facts(book, PERIOD, policy_for), build_facts(book, PERIOD)
    assert built.in_step > 0 and everything.in_step == 0
    assert len(built.facts) + built.in_step == len(everything.facts)
    _same(reconcile(PERIOD, built.facts, policy_for=policy_for,
                    in_step_already=built.in_step),
          reconcile(PERIOD, everything.facts, policy_for=policy_for))
    kept = {f.vendor_subscription_id for f in built.facts}
    for facts in everything.facts:
        if facts.vendor_subscription_id not in kept:
            plain = plain_seats(facts)
            assert plain is not None and in_step(PERIOD, plain, policy_for(facts),
                                                 facts.one_time_charges())


def test_a_worker_without_python_stdio_still_answers(book):
    """A windowed app has no sys.stdin or sys.stdout: the worker reads and answers on the
    pipes' descriptors all the same."""
    [part, _] = book.split(2)
    code = ("import sys; sys.stdin = sys.stdout = None; "
            "from app.services.reconcile_worker import serve; serve()")
    done = subprocess.run([sys.executable, "-c", code], input=_job(part), cwd=ROOT,
                          capture_output=True, check=True, timeout=120)
    status, answer = pickle.loads(done.stdout)
    assert status == "ok"
    _same(merge_found([answer]).result(), reconcile_part(PERIOD, part))


def test_a_worker_loads_no_database_layer():
    """A worker starts fast because it imports the domain and the book: not SQLAlchemy,
    nor the package metadata behind the version it never shows."""
    code = ("import sys, app.services.reconcile_worker; "
            "print('sqlalchemy' in sys.modules, 'importlib.metadata' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True, timeout=60)
    assert done.stdout.strip() == "False False"


def test_a_worker_exits_without_tearing_down_once_it_has_answered(book):
    """The parent waits for the worker's exit: freeing a big part object by object at
    interpreter teardown would keep it waiting, so the worker leaves at once."""
    [part, _] = book.split(2)
    code = ("import atexit, sys; atexit.register(lambda: print('torn down', file=sys.stderr)); "
            "from app.services.reconcile_worker import work; work()")
    done = subprocess.run([sys.executable, "-c", code], input=_job(part, rows=True), cwd=ROOT,
                          capture_output=True, timeout=120)
    assert done.returncode == 0 and b"torn down" not in done.stderr
    status, answer = pickle.loads(done.stdout)
    assert status == "ok" and answer.rows and not answer.drafts


def _job(part: Book, *, rows: bool = False) -> bytes:
    """A worker's job for a part, as a parent writes it: the part, then its usage, whether
    to answer with rows and the period's stored findings (none)."""
    job = io.BytesIO()
    write_frame(job, (PERIOD, part))
    write_frame(job, (part.usage, rows, {}))
    return job.getvalue()


def test_threads_answering_workers_get_the_lock_promptly_while_parts_are_reconciled(
        book, monkeypatch):
    """A worker waiting for its next part waits for the thread that gives it to get
    Python's lock from this process's reconciling: the interval at which it is handed over
    is short while the parts are served, and what it was afterwards, failure or not."""
    seen: list[float] = []
    real = Worker.give

    def give(self, index, part):
        seen.append(sys.getswitchinterval())
        real(self, index, part)

    monkeypatch.setattr(Worker, "give", give)
    _slow_here(monkeypatch, 0.25)  # the worker asks before every part is taken here
    before = sys.getswitchinterval()
    with workers(1) as helpers:
        reconcile_in_parts(PERIOD, book, helpers)
    assert seen and set(seen) == {worker_module.ANSWER_SWITCH_SECONDS}
    assert sys.getswitchinterval() == before

    monkeypatch.setattr(worker_module.PartedRun, "_here",
                        lambda self, part: (_ for _ in ()).throw(RuntimeError("engine")))
    with workers(1) as helpers, pytest.raises(RuntimeError, match="engine"):
        reconcile_in_parts(PERIOD, book, helpers)
    assert sys.getswitchinterval() == before


def test_runs_serving_workers_at_once_restore_the_interval_when_the_last_ends():
    before = sys.getswitchinterval()
    first, second = worker_module.prompt_threads(), worker_module.prompt_threads()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first run ends while the second serves on
    assert sys.getswitchinterval() == worker_module.ANSWER_SWITCH_SECONDS
    second.__exit__(None, None, None)
    assert sys.getswitchinterval() == before
