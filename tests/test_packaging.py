"""The frozen build: PyInstaller bundle built, then its own --self-test run offscreen.

It takes a minute or two and ~220 MB of disk, so it runs in CI (CI=true) or when asked
(TRUEUP_TEST_PACKAGING=1), and is skipped, with the reason, in a plain local `make test`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WANTED = os.environ.get("TRUEUP_TEST_PACKAGING") == "1" or os.environ.get("CI") == "true"

pytestmark = [
    pytest.mark.packaging,
    pytest.mark.slow,
    pytest.mark.skipif(not WANTED, reason="builds the frozen app (~1.5 min); set "
                       "TRUEUP_TEST_PACKAGING=1 to run it locally (CI runs it)"),
]


def test_bundle_builds_and_passes_its_self_test():
    result = subprocess.run([sys.executable, "packaging/build.py"], cwd=ROOT,
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "TrueUp self-test passed" in result.stdout
    assert "window: 7 pages (offscreen)" in result.stdout
    assert "a worker process reconciled" in result.stdout  # the bundle runs its own workers
