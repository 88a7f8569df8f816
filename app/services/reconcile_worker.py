"""Reconciling a big book on every core: parts of it in worker processes.

Python runs one thread of Python code at a time, and a month-end book of 40,000
subscriptions spends most of its reconciliation building facts and running the engine, which
are pure. So the book read from the workspace is split by customer (see
app.services.reconcile_book) and each extra core takes a part in a worker process, while
this process does the first. Every part is reconciled exactly as the whole book would be,
and `merge_found` puts the parts together into the same findings in the same order.

A worker is this program started again with WORKER_FLAG (`python -m
app.services.reconcile_worker` from source): it reads two pickled frames on stdin (the
period with its part of the book, then the part's usage, which the workspace read is the
last to deliver, with what to answer), writes one pickled answer on stdout and exits. The
answer is the part's findings as app.services.finding_rows.PartFound: asked for rows, the
worker turns its new findings into the findings table's rows itself, so this process
neither rebuilds thousands of findings from the pickle nor makes their rows. It never opens
the workspace: the book was read in one snapshot by the process that stores the findings.
Workers start when the reconciliation starts, so their start-up overlaps the reads. A worker
that cannot start or fails leaves its part to this process: slower, never different.

This module imports nothing but the domain and the book (and the rows of the findings
found here), so a worker starts in a fraction of a second.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

from app.domain.periods import BillingPeriod
from app.domain.reconciliation import ReconcileResult, policy_resolver, reconcile
from app.services.finding_rows import Found, PartFound, merge_found, part_found
from app.services.reconcile_book import Book, Key, build_facts

WORKER_FLAG = "--reconcile-worker"
# Below this many subscriptions a worker's start-up costs more than it saves.
MIN_SUBSCRIPTIONS = 5_000
MAX_PARTS = 4

log = logging.getLogger(__name__)


def reconcile_part(period: BillingPeriod, book: Book) -> ReconcileResult:
    """Build the facts of a (part of a) book and reconcile them; the subscriptions plainly
    in step are counted without facts."""
    policy_for = policy_resolver(book.rules)
    built = build_facts(book, period, policy_for)
    return reconcile(period, built.facts, policy_for=policy_for, in_step_already=built.in_step)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def parts_for(subscriptions: int, cores: int | None = None) -> int:
    """How many parts a book of this size is reconciled in."""
    cores = available_cores() if cores is None else cores
    if subscriptions < MIN_SUBSCRIPTIONS:
        return 1
    return max(1, min(cores, MAX_PARTS))


def _command() -> list[str]:
    if getattr(sys, "frozen", False):  # the packaged app: its own executable, the flag first
        return [sys.executable, WORKER_FLAG]
    # -P: not the working folder first on the path, which may hold another copy of `app`
    return [sys.executable, "-P", "-m", "app.services.reconcile_worker"]


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])  # the folder holding the `app` package
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


class Worker:
    """One worker process: started at once, given one part, answering once.

    The frames are written whole and the answer read whole by the calling thread (the
    worker reads a frame before it unpickles it, so writing takes no longer than the pipe
    needs): a helper thread moving the bytes a pipe buffer at a time would wait for Python's
    lock at every buffer while this process computes its own part. The worker's stderr goes
    to a file, so nothing it says there can fill a pipe and stall it.
    """

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.failure: str | None = None
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        try:
            self.process = subprocess.Popen(
                _command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=self._errors,
                env=None if getattr(sys, "frozen", False) else _environment())
        except OSError as exc:
            self.failure = f"could not start a reconcile worker: {exc}"

    def send(self, period: BillingPeriod, book: Book) -> None:
        """Hand the part over (its usage follows with `send_usage`)."""
        self._write((period, book))

    def send_usage(self, usage: dict[Key, list[tuple]], *, rows: bool = False,
                   stored: Mapping[str, str] | None = None) -> None:
        """The part's usage groups, and how to answer (see `part_found`): the worker starts
        on its part once they are in."""
        self._write((usage, rows, dict(stored or {})), last=True)

    def _write(self, value: object, *, last: bool = False) -> None:
        if self.process is None or self.failure:
            return
        assert self.process.stdin is not None
        try:
            write_frame(self.process.stdin, value)
            if last:
                self.process.stdin.close()
        except OSError as exc:  # it died before reading: its stderr says why
            self.failure = f"the reconcile worker could not take its part: {exc}"

    def result(self) -> PartFound | None:
        """The part's findings, or None (with `failure` set) when the worker failed."""
        if self.process is None or self.failure:
            return None
        assert self.process.stdin is not None and self.process.stdout is not None
        if not self.process.stdin.closed:  # a job never finished ends here, not in a hang
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            answer = self.process.stdout.read()  # all of it: the worker has answered
            status, value = pickle.loads(answer)  # it exits meanwhile; `stop` reaps it
        except Exception:  # noqa: BLE001 - a dead worker; its stderr says why
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
            self.failure = (f"the reconcile worker stopped (exit code "
                            f"{self.process.poll()}): {self._stderr()}")
            return None
        if status != "ok":
            self.failure = f"the reconcile worker failed: {value}"
            return None
        return value

    def _stderr(self) -> str:
        self._errors.seek(0)
        return self._errors.read().decode(errors="replace").strip()[-2000:]

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
            for stream in (self.process.stdin, self.process.stdout):
                with contextlib.suppress(OSError):
                    if stream is not None:
                        stream.close()
        self._errors.close()


@contextlib.contextmanager
def workers(count: int) -> Iterator[list[Worker]]:
    """`count` workers started now, and stopped (killed if still running) on the way out."""
    started = [Worker() for _ in range(count)]
    try:
        yield started
    finally:
        for worker in started:
            worker.stop()


class PartedRun:
    """One book reconciled in parts: one here, one per worker.

    `hand_out` may be given the book before its usage is read (the slowest read, running
    meanwhile on another connection): the workers then unpickle their parts while it ends,
    and `result` sends each its usage.

    With `rows`, every part makes the rows of its new findings (those whose keys are not
    in `stored`, the period's stored findings' hashes by key), this one's while the
    workers finish theirs (see `part_found`).
    """

    def __init__(self, period: BillingPeriod, helpers: list[Worker], *,
                 rows: bool = False, stored: Mapping[str, str] | None = None) -> None:
        self.period = period
        self.helpers = helpers
        self.parts: list[Book] | None = None
        self.rows = rows
        self.stored = dict(stored or {})

    def hand_out(self, book: Book) -> None:
        if not self.helpers or self.parts is not None:
            return
        self.parts = book.split(len(self.helpers) + 1)
        for worker, part in zip(self.helpers, self.parts[1:], strict=True):
            worker.send(self.period, part)

    def result(self, book: Book) -> Found:
        """The whole book's findings, merged from its parts'."""
        if not self.helpers:
            return merge_found([self._here(book)])
        self.hand_out(book)
        assert self.parts is not None
        for part in self.parts:
            keys = part.keys()
            part.usage = {k: v for k, v in book.usage.items() if k in keys}
        for worker, part in zip(self.helpers, self.parts[1:], strict=True):
            worker.send_usage(part.usage, rows=self.rows, stored=self.stored)
        results = [self._here(self.parts[0])]
        for worker, part in zip(self.helpers, self.parts[1:], strict=True):
            result = worker.result()
            if result is None:
                log.warning("%s; reconciling its part here", worker.failure)
                result = self._here(part)
            results.append(result)
        return merge_found(results)

    def _here(self, part: Book) -> PartFound:
        """A part reconciled in this process, as a worker would answer it."""
        return part_found(reconcile_part(self.period, part), part, rows=self.rows,
                          stored=self.stored)


def reconcile_in_parts(period: BillingPeriod, book: Book, helpers: list[Worker]
                       ) -> ReconcileResult:
    """The book's result, one part here and one per worker, merged."""
    return PartedRun(period, helpers).result(book).result()


FRAME_HEADER = struct.Struct("<Q")  # the length of the pickle that follows


def write_frame(stream: BinaryIO, value: object) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(FRAME_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def read_frame(stream: BinaryIO) -> Any:
    """One frame, read whole before it is unpickled (so the writer is free at once)."""
    header = stream.read(FRAME_HEADER.size)
    if len(header) != FRAME_HEADER.size:
        raise EOFError("the reconcile job ended early")
    (size,) = FRAME_HEADER.unpack(header)
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("the reconcile job ended early")
    return pickle.loads(data)


def serve(stdin: Any = None, stdout: Any = None) -> int:
    """A worker's life: one job in, one answer out. Anything else the job prints goes to
    stderr, so the answer stream stays clean. The pipes are taken by their descriptors:
    a windowed app has no sys.stdin or sys.stdout, yet its parent's pipes are there."""
    if sys.platform == "win32":  # no newline translation on the pipes
        import msvcrt

        for fd in (0, 1):
            with contextlib.suppress(OSError):
                msvcrt.setmode(fd, os.O_BINARY)  # type: ignore[attr-defined]
    if stdin is None:
        stdin = os.fdopen(0, "rb", closefd=False)
    if stdout is None:
        stdout = os.fdopen(os.dup(1), "wb")
        with contextlib.suppress(OSError):
            os.dup2(2, 1)
    gc.disable()  # a short-lived process of acyclic facts: collection only costs time
    try:
        period, book = read_frame(stdin)
        book.usage, rows, stored = read_frame(stdin)
        answer: tuple[str, Any] = ("ok", part_found(reconcile_part(period, book), book,
                                                    rows=rows, stored=stored))
    except BaseException:  # noqa: BLE001 - every failure is reported to the parent
        answer = ("error", traceback.format_exc())
    pickle.dump(answer, stdout, protocol=pickle.HIGHEST_PROTOCOL)
    stdout.flush()
    return 0


def work() -> NoReturn:
    """A worker process from start to end: serve, then exit at once. Tearing down the
    interpreter would free every object of the part one by one (a tenth of a second or
    more on a big book) while the parent waits for the exit; nothing is left to flush or
    close but the standard streams."""
    code = serve()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()
    os._exit(code)


if __name__ == "__main__":
    work()
