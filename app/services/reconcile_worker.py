"""Reconciling a big book on every core: parts of it in worker processes.

Python runs one thread of Python code at a time, and a month-end book of 40,000
subscriptions spends most of its reconciliation building facts and running the engine, which
are pure. So the book read from the workspace is split by customer into parts (see
app.services.reconcile_book), reconciled here and in a worker process per extra core, each
process taking parts as it gets through them (see PartedRun). Every part is reconciled
exactly as the whole book would be, and `merge_found` puts the parts together into the same
findings in the same order.

A worker is this program started again with WORKER_FLAG (`python -m
app.services.reconcile_worker` from source). It reads two pickled frames on stdin: the
period with the parts it is handed ahead (or, on a SQLite workspace, what it reads them with
itself: see app.services.book_shares), then their usage (which the workspace read is the
last to deliver) with what to answer. It then asks for a part on stdout, is given one on
stdin (one of its own, one it reads, or one sent along), reconciles it, appends the answer
to a file and asks again with where that answer lies, until told to stop. (Given one part
with no file, it writes one pickled answer on stdout instead, as `check_worker` asks.) An
answer is a part's findings as app.services.finding_rows.PartFound: asked for rows, the
worker turns its new findings into the findings table's rows itself, so this process
neither rebuilds thousands of findings from the pickle nor makes their rows. A worker only
ever reads the workspace, and never writes to it: the process that stores the findings does.
Workers start when the reconciliation starts, so their start-up overlaps the reads. A worker
that cannot start or fails leaves its parts to this process: slower, never different.

This module imports nothing but the domain, the book and sqlite3 (and the rows of the
findings found here), so a worker starts in a fraction of a second.
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
import threading
import traceback
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

from app.domain.periods import BillingPeriod
from app.domain.reconciliation import ReconcileResult, policy_resolver, reconcile
from app.services.book_shares import BookShares, ShareJob
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


class WorkerFailed(Exception):
    """A worker that stopped answering: its parts are reconciled here."""


class Worker:
    """One worker process, started at once: given one part and answering once, or given
    parts one at a time by a PartedRun.

    The frames are written whole (the worker reads a frame before it unpickles it, so
    writing takes no longer than the pipe needs). Only small messages come back through the
    pipe while this process computes: a thread of it moving a big answer a pipe buffer at a
    time would wait for Python's lock at every buffer, and the worker with it; answers go to
    a file, each read in one go once the worker has its next part. The worker's stderr goes
    to a file too, so nothing it says there can fill a pipe and stall it.
    """

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.failure: str | None = None
        self._answers: Path | None = None
        self._writing: threading.Thread | None = None  # see _write
        self._gone_unheard = False  # exited before a write; its last message unread
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

    def _write(self, value: object, *, last: bool = False, background: bool = False) -> None:
        """Write a frame. In the `background`, by a thread: the worker may still be
        starting, and a frame bigger than the pipe holds would keep this process waiting
        for it. Frames are written in order: the next write waits for that thread."""
        self._wait_for_writes()
        if self.process is None or self.failure:
            return
        data = frame(value)
        if background:
            self._writing = threading.Thread(target=self._write_data, args=(data, last),
                                             daemon=True, name="trueup-reconcile-handout")
            self._writing.start()
        else:
            self._write_data(data, last)

    def _write_data(self, data: bytes, last: bool) -> None:
        assert self.process is not None and self.process.stdin is not None
        try:
            self.process.stdin.write(data)
            self.process.stdin.flush()
            if last:
                self.process.stdin.close()
        except OSError as exc:  # it died before reading: it said why (see `request`)
            self.failure = self._died(f"could not take its part ({exc})")
            self._gone_unheard = True

    def _wait_for_writes(self) -> None:
        if self._writing is not None:
            self._writing.join()
            self._writing = None

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
            self.failure = self._died("stopped")
            return None
        if status != "ok":
            self.failure = f"the reconcile worker failed: {value}"
            return None
        return value

    # --- parts taken one at a time (see PartedRun) ---------------------------------------

    def send_shares(self, period: BillingPeriod, shares: dict[int, Book] | ShareJob) -> None:
        """Hand over, ahead, the parts this worker is likely to take, or what it reads them
        with (their usage follows with `start_taking`); it is then given parts one at a
        time, these or others."""
        fd, path = tempfile.mkstemp(prefix="trueup-parts-")
        os.close(fd)
        self._answers = Path(path)
        self._write((period, shares, path), background=True)

    def start_taking(self, usage: dict[Key, list[tuple]], *, rows: bool = False,
                     stored: Mapping[str, str] | None = None) -> None:
        """The usage groups of the subscriptions of its shares (and perhaps others'), and
        how to answer: the worker then asks for a part. Written in the background: the
        worker reads it once it has read its share, and this process reads its own
        meanwhile."""
        self._write((usage, rows, dict(stored or {})), background=True)

    def request(self) -> tuple[int, int, int] | None:
        """Wait for the worker to ask for a part; None the first time, else where the
        answer for the part it has just reconciled lies in its answers file (part, offset,
        length: see `answers`). Raises WorkerFailed.

        Only this small message comes through the pipe. An answer is a megabyte or more:
        read here, by a thread of a process busy reconciling, it would wait for Python's
        lock at every pipe buffer, and the worker with it."""
        if self._gone_unheard:
            self._hear_last()
        if self.process is None or self.failure:
            raise WorkerFailed(self.failure or "the reconcile worker did not start")
        assert self.process.stdout is not None
        try:
            message = read_frame(self.process.stdout)
        except Exception:  # noqa: BLE001 - a dead worker; its stderr says why
            self.failure = self._died("stopped")
            raise WorkerFailed(self.failure) from None
        if message[0] != "next":
            self.failure = f"the reconcile worker failed: {message[1]}"
            raise WorkerFailed(self.failure)
        return message[1]

    def _hear_last(self) -> None:
        """A worker that failed reports why in a last frame before it exits (see `serve`):
        read it, once, when writing to the worker found it gone."""
        self._gone_unheard = False
        assert self.process is not None and self.process.stdout is not None
        with contextlib.suppress(Exception):
            message = read_frame(self.process.stdout)
            if message[0] == "error":
                self.failure = f"the reconcile worker failed: {message[1]}"

    def give(self, index: int, part: Book | None) -> None:
        """Have the worker reconcile part `index`: this one, or (None) one of its shares or
        one it reads itself."""
        self._write(("take", index, part))
        if self._gone_unheard:
            self._hear_last()
        if self.failure:
            raise WorkerFailed(self.failure)

    def dismiss(self) -> None:
        """No part is left: the worker exits."""
        self._write(("stop",), last=True)

    def answer(self, span: tuple[int, int, int]) -> PartFound:
        """The answer the worker wrote for a part, where `request` said it lies."""
        _, offset, length = span
        assert self._answers is not None
        with self._answers.open("rb") as answers:
            answers.seek(offset)
            data = answers.read(length)
        if len(data) != length:
            raise EOFError("the reconcile worker's answer was cut short")
        return pickle.loads(data)

    def _died(self, what: str) -> str:
        """Why the worker is gone: `what` it did, its exit code and what it said on stderr
        (which names the cause, where a broken pipe only says that it is gone)."""
        assert self.process is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        return (f"the reconcile worker {what} (exit code {self.process.poll()}): "
                f"{self._stderr()}")

    def _stderr(self) -> str:
        self._errors.seek(0)
        return self._errors.read().decode(errors="replace").strip()[-2000:]

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
            self._wait_for_writes()  # ended: nobody reads the pipe any more
            for stream in (self.process.stdin, self.process.stdout):
                with contextlib.suppress(OSError):
                    if stream is not None:
                        stream.close()
        self._errors.close()
        if self._answers is not None:
            with contextlib.suppress(OSError):
                self._answers.unlink()


@contextlib.contextmanager
def workers(count: int) -> Iterator[list[Worker]]:
    """`count` workers started now, and stopped (killed if still running) on the way out."""
    started = [Worker() for _ in range(count)]
    try:
        yield started
    finally:
        for worker in started:
            worker.stop()


# How many parts each process's share of a big book is cut into. The cores of a shared
# machine come and go: one process may run half as fast as the other for a second or two.
# Parts small enough that the faster one takes the slower one's last ones leave neither
# waiting for long; each part costs a little (its own engine run and answer).
PARTS_PER_PROCESS = 10


# How long this process's reconciling holds Python's lock while a thread answering a worker
# waits for it (see `prompt_threads`), against Python's default of 5 ms.
ANSWER_SWITCH_SECONDS = 0.0005


_prompt_lock = threading.Lock()
_prompt_runs: list[float] = []  # the interval before the first run still serving workers


@contextlib.contextmanager
def prompt_threads() -> Iterator[None]:
    """Let a thread that answers a worker have Python's lock soon. A worker that asks for
    its next part waits for the answer, and the thread that gives it needs the lock this
    process's reconciling holds: by default for up to 5 ms (the switch interval), some 50 ms
    of a worker's time over a month-end run. The interval only matters when a thread waits
    for the lock, so nothing else pays for the shorter one. The last of the runs serving
    workers at once restores what it was."""
    with _prompt_lock:
        before = sys.getswitchinterval()
        _prompt_runs.append(before)
        sys.setswitchinterval(min(before, ANSWER_SWITCH_SECONDS))
    try:
        yield
    finally:
        with _prompt_lock:
            first = _prompt_runs[0]
            _prompt_runs.pop()
            if not _prompt_runs:
                sys.setswitchinterval(first)


class _Queue:
    """The parts nobody has taken yet: this process takes them from the front, the workers
    from the back (each its own share first), so each process starts with its own share and
    they meet in the middle. `returned` are parts a worker took and never answered."""

    def __init__(self, count: int) -> None:
        self._lock = threading.Lock()
        self._left = set(range(count))
        self.returned: list[int] = []

    def front(self) -> int | None:
        with self._lock:
            if not self._left:
                return None
            taken = min(self._left)
            self._left.remove(taken)
            return taken

    def back(self, held: Collection[int] = ()) -> int | None:
        """The last part left of `held`, else the last part left."""
        with self._lock:
            pool = self._left.intersection(held) or self._left
            if not pool:
                return None
            taken = max(pool)
            self._left.remove(taken)
            return taken


class PartedRun:
    """One book reconciled in parts, here and in the workers, as the cores allow.

    The book is cut by customer into PARTS_PER_PROCESS parts per process. This process
    reconciles parts from the front; each worker is handed, ahead, parts from the back, and
    is given one part at a time, by a thread of this process that answers its requests: its
    own share first, then whatever is left, sent along when it does not hold it. Whichever
    process runs faster takes more parts, and neither waits long for the other. A worker
    that fails leaves its parts here.

    The shares are handed out either read (`hand_out`, given the book before its usage is
    read, the slowest read: the workers unpickle their shares meanwhile), or to be read by
    each process itself (`share_out`, a SQLite workspace: see app.services.book_shares);
    then a part of a worker's share that comes to this process is read here, and one that
    comes to another worker is read there. This process reads its own share only once the
    workers have their usage (`result`): a worker starts on its parts as soon as it has read
    its share, rather than waiting, idle, for this process to read its own.

    With `rows`, every part makes the rows of its new findings (those whose keys are not
    in `stored`, the period's stored findings' hashes by key; see `part_found`).
    """

    def __init__(self, period: BillingPeriod, helpers: list[Worker], *,
                 rows: bool = False, stored: Mapping[str, str] | None = None) -> None:
        self.period = period
        self.helpers = helpers
        self.parts: list[Book | None] | None = None
        self.queue = _Queue(0)
        self.rows = rows
        self.stored = dict(stored or {})
        self._reads: tuple[BookShares, Any] | None = None  # see share_out
        self._mine: range = range(0)  # the parts this process reads itself (see share_out)
        self._usage: dict[Key, list[tuple]] = {}

    @property
    def count(self) -> int:
        """How many parts the book is cut into."""
        return PARTS_PER_PROCESS * (len(self.helpers) + 1)

    def _shares(self) -> list[range]:
        """The parts each worker is handed ahead: consecutive ones from the back."""
        count, size = len(self.parts or ()), PARTS_PER_PROCESS
        if self._reads is not None:
            # A worker's share read by the worker: one part fewer than this process's, as
            # a part is cheaper for it to take from this process (sent, already read) than
            # the other way round (read again here).
            size -= 1
        return [range(count - (n + 1) * size, count - n * size)
                for n in range(len(self.helpers))]

    def hand_out(self, book: Book) -> None:
        if not self.helpers or self.parts is not None:
            return
        self.parts = list(book.split(self.count))
        self.queue = _Queue(len(self.parts))
        for worker, share in zip(self.helpers, self._shares(), strict=True):
            worker.send_shares(self.period, {n: self.parts[n] for n in share})

    def share_out(self, shares: BookShares, path: str, connection: Any) -> None:
        """Have each worker read its share from the SQLite workspace file at `path`; this
        process reads its own on `connection` (a DBAPI connection in the run's snapshot)
        once the workers have their usage (see `result`)."""
        assert shares.count == self.count and self.helpers and self.parts is None
        self.parts = [None] * shares.count
        self.queue = _Queue(shares.count)
        self._reads = (shares, connection)
        held = self._shares()
        for worker, share in zip(self.helpers, held, strict=True):
            worker.send_shares(self.period, ShareJob(path, shares, tuple(share)))
        self._mine = range(0, min((share.start for share in held), default=shares.count))

    def _read_mine(self) -> None:
        """This process's share, read in one go (after `share_out`). Each part is put in
        place whole, its usage attached: a thread giving parts to a worker may send it."""
        assert self.parts is not None and self._reads is not None
        shares, connection = self._reads
        for n, part in shares.read(connection, self._mine).items():
            self.parts[n] = _with_usage(part, self._usage)

    def result(self, book: Book) -> Found:
        """The whole book's findings, merged from its parts'. After `share_out`, `book`
        is only its usage."""
        if not self.helpers:
            return merge_found([self._here(book)])
        self.hand_out(book)
        assert self.parts is not None
        self._usage = book.usage
        if self._reads is None:  # handed out, read: each part takes its usage now
            for part in self.parts:
                _with_usage(part, book.usage)  # type: ignore[arg-type]
        found: dict[int, PartFound] = {}  # by part, filled here and by the threads
        threads = []
        with prompt_threads():
            for worker, share in zip(self.helpers, self._shares(), strict=True):
                # After `share_out` no part is read here yet (see `_read_mine`): a worker
                # is sent all the usage; handed out, its shares'.
                usage = book.usage if self._reads is not None else {
                    key: groups for n in share
                    for key, groups in self.parts[n].usage.items()}  # type: ignore[union-attr]
                worker.start_taking(usage, rows=self.rows, stored=self.stored)
                thread = threading.Thread(target=self._serve, args=(worker, set(share), found),
                                          daemon=True, name="trueup-reconcile-worker")
                thread.start()
                threads.append(thread)
            if self._reads is not None:
                self._read_mine()
            while (n := self.queue.front()) is not None:
                found[n] = self._here(self._part(n))
            for thread in threads:
                thread.join()
        for n in self.queue.returned:
            found[n] = self._here(self._part(n))
        return merge_found([found[n] for n in sorted(found)])

    def _part(self, n: int) -> Book:
        """Part `n`, read here first when it is a worker's share (after `share_out`)."""
        assert self.parts is not None
        part = self.parts[n]
        if part is None:
            assert self._reads is not None
            shares, connection = self._reads
            part = self.parts[n] = _with_usage(shares.read(connection, (n,))[n], self._usage)
        return part

    def _serve(self, worker: Worker, held: set[int], found: dict[int, PartFound]) -> None:
        """A worker's requests, answered until no part is left or it fails (a thread). The
        answer to a part is read once the worker has its next one: while this process is
        still busy, or waits for the worker's last part."""
        assert self.parts is not None
        taken: int | None = None
        answered: tuple[int, int, int] | None = None
        try:
            while True:
                answered = worker.request()
                taken = self.queue.back(held)
                if taken is None:
                    worker.dismiss()
                else:  # a part this process read goes along; another it holds or reads
                    worker.give(taken, None if taken in held else self.parts[taken])
                if answered is not None:
                    self._collect(worker, answered, found)
                    answered = None
                if taken is None:
                    return
        except Exception as exc:  # noqa: BLE001 - whatever it was, its parts are done here
            worker.failure = worker.failure or f"the reconcile worker failed: {exc!r}"
            log.warning("%s; reconciling its parts here", worker.failure)
            if answered is not None:
                self._collect(worker, answered, found)
            if taken is not None:
                self.queue.returned.append(taken)

    def _collect(self, worker: Worker, span: tuple[int, int, int],
                 found: dict[int, PartFound]) -> None:
        """The worker's answer to a part, or that part back to be reconciled here."""
        try:
            found[span[0]] = worker.answer(span)
        except Exception:  # noqa: BLE001 - an unreadable answer: that part again here
            log.warning("the reconcile worker's answer could not be read; reconciling its "
                        "part here", exc_info=True)
            self.queue.returned.append(span[0])

    def _here(self, part: Book) -> PartFound:
        """A part reconciled in this process, as a worker would answer it."""
        return part_found(reconcile_part(self.period, part), part, rows=self.rows,
                          stored=self.stored)


def reconcile_in_parts(period: BillingPeriod, book: Book, helpers: list[Worker]
                       ) -> ReconcileResult:
    """The book's result, one part here and one per worker, merged."""
    return PartedRun(period, helpers).result(book).result()


FRAME_HEADER = struct.Struct("<Q")  # the length of the pickle that follows


def frame(value: object) -> bytes:
    """A frame: the length of the pickle of `value`, then the pickle."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return FRAME_HEADER.pack(len(data)) + data


def write_frame(stream: BinaryIO, value: object) -> None:
    stream.write(frame(value))
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
    parts = False
    try:
        period, job, *answers = read_frame(stdin)
        parts = bool(answers)
        if parts:  # parts given one at a time (see PartedRun), answered through a file
            # A share to read is read at once, while the parent reads its own.
            shares = job.read() if isinstance(job, ShareJob) else job
            usage, rows, stored = read_frame(stdin)
            _take_parts(period, shares, job if isinstance(job, ShareJob) else None,
                        answers[0], usage, rows, stored, stdin, stdout)
            return 0
        usage, rows, stored = read_frame(stdin)
        job.usage = usage
        answer: tuple[str, Any] = ("ok", part_found(reconcile_part(period, job), job,
                                                    rows=rows, stored=stored))
    except BaseException:  # noqa: BLE001 - every failure is reported to the parent
        answer = ("error", traceback.format_exc())
    if parts:
        with contextlib.suppress(OSError):
            write_frame(stdout, answer)
        return 0
    pickle.dump(answer, stdout, protocol=pickle.HIGHEST_PROTOCOL)
    stdout.flush()
    return 0


def _with_usage(part: Book, usage: dict[Key, list[tuple]]) -> Book:
    """The part, its usage groups taken from `usage` (the groups of many subscriptions)."""
    keys = part.keys()
    part.usage = {key: groups for key in keys if (groups := usage.get(key)) is not None}
    return part


def _take_parts(period: BillingPeriod, shares: dict[int, Book], reads: ShareJob | None,
                path: str, usage: dict[Key, list[tuple]], rows: bool, stored: dict[str, str],
                stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Ask for a part, reconcile it, append the answer to the answers file at `path` and
    say where it lies with the next request, until told to stop. A part given without its
    rows is one of `shares`, or read with `reads`; `usage` holds their usage groups."""
    span: tuple[int, int, int] | None = None
    with open(path, "ab") as answers:
        while True:
            write_frame(stdout, ("next", span))
            message = read_frame(stdin)
            if message[0] != "take":
                return
            _, n, part = message
            if part is None:
                part = _with_usage(shares.pop(n) if n in shares or reads is None
                                   else reads.read((n,))[n], usage)
            data = pickle.dumps(part_found(reconcile_part(period, part), part, rows=rows,
                                           stored=stored), protocol=pickle.HIGHEST_PROTOCOL)
            offset = answers.tell()
            answers.write(data)
            answers.flush()
            span = (n, offset, len(data))


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
