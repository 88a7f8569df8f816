"""Where the shared reference material lives (`../shared/reference` beside the repository).

Missing material fails the run on CI (`CI=true`), so a contract is never silently unchecked
there, and skips locally with the reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_ROOT = REPO_ROOT / ".." / "shared" / "reference"


def reference_dir(*parts: str) -> Path:
    """`reference_dir("pax8")` -> the folder (or file) under shared/reference, or fail/skip."""
    path = (REFERENCE_ROOT.joinpath(*parts)).resolve()
    if not path.exists():
        message = (f"reference material not found: {path} (expected shared/reference beside "
                   "the repository; check out the shared folder to run the contract tests)")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path
