"""`python main.py --demo`: the demo workspace is built on first use, then opened as it is."""

from __future__ import annotations

import functools

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.services import demo
from app.ui.main_window import MainWindow


def _close_main_windows_when_shown() -> QTimer:
    timer = QTimer()
    timer.setInterval(100)
    timer.timeout.connect(lambda: [w.close() for w in QApplication.topLevelWidgets()
                                   if isinstance(w, MainWindow) and w.isVisible()])
    timer.start()
    return timer


def test_demo_flag_builds_the_demo_on_first_use_then_reopens_it(qtbot, tmp_path, monkeypatch):
    from app.main import main

    monkeypatch.setenv("TRUEUP_DATA_DIR", str(tmp_path))
    builds = []
    small = functools.partial(demo.build_demo, customers=25)
    monkeypatch.setattr(demo, "build_demo",
                        lambda *a, **kw: builds.append(1) or small(*a, **kw))
    timer = _close_main_windows_when_shown()
    assert main(["--demo"]) == 0
    assert demo.is_demo(tmp_path / "demo.sqlite") and builds == [1]
    assert main(["--demo"]) == 0  # the second start opens the same demo
    assert builds == [1]
    timer.stop()
