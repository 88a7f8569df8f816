"""The task runner: results and errors come back on the GUI thread; cancel reaches the job."""

from __future__ import annotations

import threading

from PySide6.QtCore import QThread

from app.ui.tasks import TaskRunner


def test_result_and_progress_arrive_on_the_gui_thread(qtbot):
    runner = TaskRunner()
    seen = {}
    gui = QThread.currentThread()

    def job(report, cancel):
        seen["worker"] = threading.current_thread().name
        report(1, 2, "half")
        return 42

    def done(result):
        seen["result"] = result
        seen["on_gui"] = QThread.currentThread() is gui

    progress = []
    with qtbot.waitSignal(runner.task_ended, timeout=5000):
        runner.submit("answer", job, on_done=done,
                      on_progress=lambda d, t, m: progress.append((d, t, m)))
    assert seen["result"] == 42 and seen["on_gui"]
    assert seen["worker"] != threading.main_thread().name
    assert progress == [(1, 2, "half")]
    assert runner.tasks == []


def test_errors_are_reported_not_swallowed(qtbot):
    runner = TaskRunner()
    errors = []

    def job(report, cancel):
        raise ValueError("the PSA said no")

    with qtbot.waitSignal(runner.task_ended, timeout=5000):
        runner.submit("fail", job, on_error=lambda msg, details: errors.append((msg, details)))
    assert errors[0][0] == "the PSA said no" and "ValueError" in errors[0][1]


def test_cancel_all_and_wait_stops_running_jobs(qtbot):
    runner = TaskRunner()
    started = threading.Event()

    def job(report, cancel):
        started.set()
        while not cancel.wait(0.01):
            pass
        return "stopped"

    handle = runner.submit("loop", job)
    assert started.wait(5)
    assert runner.busy("loop")
    assert runner.cancel_all_and_wait(5000)
    assert handle.cancel_event.is_set() and not handle.running


def test_inline_runner_runs_synchronously(qtbot):
    runner = TaskRunner(inline=True)
    results = []
    runner.submit("x", lambda report, cancel: 7, on_done=results.append)
    assert results == [7]
