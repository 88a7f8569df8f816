"""Background work for the UI: plain job functions on a thread pool, results back on the GUI.

A job is `fn(report, cancel) -> result` with `report(done, total, message)` and a
`threading.Event`; it knows nothing of Qt. Signals are emitted from the worker and delivered
queued to the GUI thread, so no widget is ever touched from a worker. Every running task is
kept referenced until it ends; on quit the runner cancels them all and waits.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

Report = Callable[[int, int | None, str], None]
Job = Callable[[Report, threading.Event], Any]


class _Signals(QObject):
    progress = Signal(int, int, str)  # total -1 = unknown
    finished = Signal(object)
    failed = Signal(str, str)  # message, details
    ended = Signal()


@dataclass(eq=False)
class TaskHandle:
    """What the UI holds for one running job: its name, its cancel switch, its signals."""

    name: str
    cancel_event: threading.Event = field(default_factory=threading.Event)
    signals: _Signals = field(default_factory=_Signals)
    done: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def running(self) -> bool:
        return not self.done.is_set()


class _Runnable(QRunnable):
    def __init__(self, handle: TaskHandle, job: Job) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.handle, self.job = handle, job

    @Slot()
    def run(self) -> None:
        h = self.handle

        def report(done: int, total: int | None, message: str) -> None:
            h.signals.progress.emit(int(done), -1 if total is None else int(total), message)

        try:
            result = self.job(report, h.cancel_event)
        except BaseException as exc:  # noqa: BLE001 - every failure reaches the user
            h.done.set()  # a handler that asks runner.busy() must see this task as over
            h.signals.failed.emit(_message(exc), traceback.format_exc())
        else:
            h.done.set()
            h.signals.finished.emit(result)
        finally:
            h.signals.ended.emit()


def _message(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


# The event loop calls into Python for every timer, slot and painted cell, and while a task
# computes, each call waits for Python's lock up to the interpreter's switch interval. The
# default, 5 ms, let a repaint of a few hundred cells freeze the window for a second.
GUI_SWITCH_INTERVAL_S = 0.0005


class TaskRunner(QObject):
    """Runs jobs on a thread pool (or inline, for deterministic tests). A runner with
    threads shortens the interpreter's switch interval (GUI_SWITCH_INTERVAL_S): only
    when the GUI thread waits for Python's lock does a task hand it over sooner."""

    task_started = Signal(object)
    task_ended = Signal(object)

    def __init__(self, parent: QObject | None = None, *, inline: bool = False,
                 max_threads: int = 4) -> None:
        super().__init__(parent)
        self.inline = inline
        if not inline:
            sys.setswitchinterval(min(sys.getswitchinterval(), GUI_SWITCH_INTERVAL_S))
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self.tasks: list[TaskHandle] = []

    def submit(self, name: str, job: Job, *,
               on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[str, str], None] | None = None,
               on_progress: Callable[[int, int, str], None] | None = None) -> TaskHandle:
        handle = TaskHandle(name)
        if on_progress:
            handle.signals.progress.connect(on_progress)
        if on_done:
            handle.signals.finished.connect(on_done)
        if on_error:
            handle.signals.failed.connect(on_error)
        handle.signals.ended.connect(lambda h=handle: self._ended(h))
        self.tasks.append(handle)
        self.task_started.emit(handle)
        runnable = _Runnable(handle, job)
        if self.inline:
            runnable.run()
        else:
            self.pool.start(runnable)
        return handle

    def _ended(self, handle: TaskHandle) -> None:
        if handle in self.tasks:
            self.tasks.remove(handle)
        self.task_ended.emit(handle)

    def busy(self, name: str | None = None) -> bool:
        """True while a job (of that name) runs; false inside its own result handler."""
        return any(t.running and (name is None or t.name == name) for t in self.tasks)

    def cancel_all_and_wait(self, timeout_ms: int = 30_000) -> bool:
        """On quit: ask every job to stop, then wait for the pool to drain."""
        for task in list(self.tasks):
            task.cancel()
        return self.pool.waitForDone(timeout_ms)
