"""`trueup --self-test`: prove an installed (or frozen) TrueUp can do a month end.

Each step uses the real services on a temporary workspace, so a bundle missing a migration
file, a keyring backend, a template or a Qt plugin fails here, naming the step, instead of
on a user's machine. The window step is passed in: services never import Qt.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.services.diagnostics import keyring_status
from app.services.exports import export
from app.services.imports import import_partner_center_file
from app.services.reconcile import check_worker, reconcile_period
from app.services.workspace import Workspace, describe_workspace, open_workspace

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
SAMPLE = RESOURCES / "samples" / "nce-recon-sample.csv"
SAMPLE_PERIOD = "2026-10"  # the month the sample's charge lines cover
TEMPLATE = "review"
WindowCheck = Callable[[Workspace, Path], str]  # builds the window, returns a short detail


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class SelfTestReport:
    checks: tuple[Check, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def summary(self) -> str:
        """One line: every step's detail when all passed, else the failed steps and why."""
        if self.ok:
            details = "; ".join(f"{c.name}: {c.detail}" for c in self.checks)
            return f"TrueUp self-test passed in {self.seconds:.1f} s — {details}"
        failed = "; ".join(f"{c.name}: {c.detail}" for c in self.checks if not c.ok)
        return f"TrueUp self-test FAILED — {failed}"


def _keyring_check(allow_no_keyring: bool) -> Check:
    status = keyring_status()
    if status.working:
        return Check("keyring", True, f"{status.backend} (round-trip ok)")
    if allow_no_keyring:
        return Check("keyring", True, f"{status.backend} not working, allowed")
    return Check("keyring", False, f"{status.backend} not working: {status.detail}")


def _pipeline(folder: Path, window_check: WindowCheck | None) -> list[Check]:
    """The month-end steps in order; the first failure stops the rest (they depend on it)."""
    checks: list[Check] = []
    ws: Workspace | None = None

    def step(name: str, run: Callable[[], str]) -> bool:
        try:
            checks.append(Check(name, True, run()))
        except Exception as exc:  # noqa: BLE001 — the report names the step and the error
            checks.append(Check(name, False, f"{type(exc).__name__}: {exc}"))
            return False
        return True

    def workspace() -> str:
        nonlocal ws
        ws = open_workspace(folder / "self-test.sqlite")
        return f"migrated to {describe_workspace(ws).schema_revision}"

    def imported() -> str:
        result = import_partner_center_file(ws, SAMPLE)
        if result.imported == 0 or result.rejected_rows:
            raise RuntimeError(f"{result.imported} imported, {result.rejected_rows} rejected")
        return f"{result.imported} lines"

    def reconciled() -> str:
        return f"{reconcile_period(ws, SAMPLE_PERIOD, user='self-test').findings} findings"

    def worker() -> str:
        return check_worker(ws, SAMPLE_PERIOD)

    def exported() -> str:
        path = folder / "review.xlsx"
        export(ws, TEMPLATE, SAMPLE_PERIOD, path, user="self-test")
        return f"{TEMPLATE} template, {path.stat().st_size // 1024} KB"

    steps = [("workspace", workspace), ("import", imported), ("reconcile", reconciled),
             ("reconcile worker", worker), ("export", exported)]
    if window_check is not None:
        steps.append(("window", lambda: window_check(ws, folder)))
    try:
        for name, run in steps:
            if not step(name, run):
                break
    finally:
        if ws is not None:
            ws.close()
    return checks


def run_self_test(*, allow_no_keyring: bool = False,
                  window_check: WindowCheck | None = None) -> SelfTestReport:
    started = time.perf_counter()
    checks = [_keyring_check(allow_no_keyring)]
    with tempfile.TemporaryDirectory(prefix="trueup-self-test-",
                                     ignore_cleanup_errors=True) as tmp:
        checks += _pipeline(Path(tmp), window_check)
    return SelfTestReport(tuple(checks), time.perf_counter() - started)
