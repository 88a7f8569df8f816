"""Reconciling a big book on every core: parts of it in worker processes.

Python runs one thread of Python code at a time, and a month-end book of 40,000
subscriptions spends most of its reconciliation building facts and running the engine, which
are pure. So the book read from the workspace is split by customer (see
app.services.reconcile_book) and each extra core takes a part in a worker process, while
this process does the first. Every part is reconciled exactly as the whole book would be,
and `merge_results` puts the parts together into the same findings in the same order.

A worker is this program started again with WORKER_FLAG (`python -m
app.services.reconcile_worker` from source): it reads one pickled job (the period and its
part of the book) on stdin, writes one pickled answer on stdout and exits. It never opens
the workspace: the book was read in one snapshot by the process that stores the findings.
Workers start when the reconciliation starts, so their start-up overlaps the reads. A worker
that cannot start or fails leaves its part to this process: slower, never different.

This module imports nothing but the domain and the book, so a worker starts in a fraction
of a second.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.domain.periods import BillingPeriod
from app.domain.reconciliation import ReconcileResult, merge_results, policy_resolver, reconcile
from app.services.reconcile_book import Book, build_facts

WORKER_FLAG = "--reconcile-worker"
# Below this many subscriptions a worker's start-up costs more than it saves.
MIN_SUBSCRIPTIONS = 5_000
MAX_PARTS = 4

log = logging.getLogger(__name__)


def reconcile_part(period: BillingPeriod, book: Book) -> ReconcileResult:
    """Build the facts of a (part of a) book and reconcile them."""
    return reconcile(period, build_facts(book, period), policy_for=policy_resolver(book.rules))


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
    return [sys.executable, "-m", "app.services.reconcile_worker"]


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])  # the folder holding the `app` package
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


class Worker:
    """One worker process: started at once, given one part, answering once.

    The job is written whole and the answer read whole by the calling thread (the worker
    reads its job before it unpickles it, so writing takes no longer than the pipe needs):
    a helper thread moving the bytes a pipe buffer at a time would wait for Python's lock
    at every buffer while this process computes its own part. The worker's stderr goes to
    a file, so nothing it says there can fill a pipe and stall it.
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
        """Hand the part over; the worker starts on it at once."""
        if self.process is None:
            return
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(pickle.dumps((period, book),
                                                  protocol=pickle.HIGHEST_PROTOCOL))
            self.process.stdin.close()
        except OSError as exc:  # it died before reading: its stderr says why
            self.failure = f"the reconcile worker could not take its part: {exc}"

    def result(self) -> ReconcileResult | None:
        """The part's result, or None (with `failure` set) when the worker failed."""
        if self.process is None or self.failure:
            return None
        assert self.process.stdout is not None
        try:
            answer = self.process.stdout.read()
            self.process.wait()
            status, value = pickle.loads(answer)
        except Exception:  # noqa: BLE001 - a dead worker; its stderr says why
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


def reconcile_in_parts(period: BillingPeriod, book: Book, helpers: list[Worker]
                       ) -> ReconcileResult:
    """The book's result, one part here and one per worker, merged."""
    if not helpers:
        return reconcile_part(period, book)
    parts = book.split(len(helpers) + 1)
    for worker, part in zip(helpers, parts[1:], strict=True):
        worker.send(period, part)
    results = [reconcile_part(period, parts[0])]
    for worker, part in zip(helpers, parts[1:], strict=True):
        result = worker.result()
        if result is None:
            log.warning("%s; reconciling its part here", worker.failure)
            result = reconcile_part(period, part)
        results.append(result)
    return merge_results(results)


def serve(stdin: Any = None, stdout: Any = None) -> int:
    """A worker's life: one job in, one answer out. Anything else the job prints goes to
    stderr, so the answer stream stays clean."""
    stdin = stdin or sys.stdin.buffer
    if stdout is None:
        stdout = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    gc.disable()  # a short-lived process of acyclic facts: collection only costs time
    try:
        period, book = pickle.loads(stdin.read())  # read whole first: the sender is free
        answer: tuple[str, Any] = ("ok", reconcile_part(period, book))
    except BaseException:  # noqa: BLE001 - every failure is reported to the parent
        answer = ("error", traceback.format_exc())
    pickle.dump(answer, stdout, protocol=pickle.HIGHEST_PROTOCOL)
    stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(serve())
