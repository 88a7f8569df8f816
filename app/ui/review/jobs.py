"""The review page's background jobs: plain functions over services, returning frozen data.

They run on the TaskRunner's threads and touch no widget; a refused decision comes back
as data (with fresh copies of the findings) rather than as an exception, so the page can
show the new numbers next to the message. Bulk work pauses the cycle collector, whose full
collections would otherwise hold the GIL for seconds and stall the window (app/ui/runtime.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from app.services.collection import paused_collection
from app.services.findings import FindingRow, list_findings
from app.services.history import HistoryEntry, finding_history, reconciled_periods
from app.services.reconcile import ReconcileReport, reconcile_period
from app.services.review import ReviewError, StaleFindingError, decide
from app.services.workspace import Workspace
from app.ui.review.labels import search_text

Report = Callable[[int, int | None, str], None]


@dataclass(frozen=True)
class FindingsLoad:
    period: str
    rows: tuple[FindingRow, ...]
    search: tuple[str, ...]  # aligned with rows
    reconciled_at: datetime | None
    reconciled: tuple[str, ...]  # every reconciled period's label


@dataclass(frozen=True)
class DecisionOutcome:
    decision: str
    rows: tuple[FindingRow, ...]  # fresh copies of the findings the decision was about
    error: str | None = None
    stale: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class FindingDetail:
    row: FindingRow | None
    history: tuple[HistoryEntry, ...]


def load_findings(ws: Workspace, period: str, report: Report,
                  cancel: threading.Event) -> FindingsLoad:
    report(0, None, f"Loading findings of {period}")
    with paused_collection(freeze_survivors=True):
        rows = list_findings(ws, period, with_explanation=False)
        rows.sort(key=lambda r: (r.customer_name.casefold(), r.product_name.casefold(), r.id))
        periods = reconciled_periods(ws)
        run = periods.get(period)
        return FindingsLoad(period, tuple(rows), tuple(search_text(r) for r in rows),
                            run.reconciled_at if run else None, tuple(sorted(periods)))


def decide_findings(ws: Workspace, ids: list[int], decision: str, *, user: str,
                    versions: dict[int, int], effective: date | None,
                    note: str | None) -> DecisionOutcome:
    try:
        decide(ws, ids, decision, user=user, expected_versions=versions, effective=effective,
               note=note)
    except StaleFindingError as exc:
        return DecisionOutcome(decision, tuple(list_findings(ws, ids=ids,
                                                             with_explanation=False)),
                               str(exc), stale=True)
    except ReviewError as exc:
        return DecisionOutcome(decision, (), str(exc))
    return DecisionOutcome(decision, tuple(list_findings(ws, ids=ids, with_explanation=False)))


def finding_detail(ws: Workspace, finding_id: int) -> FindingDetail:
    rows = list_findings(ws, ids=[finding_id], with_explanation=True)
    if not rows:
        return FindingDetail(None, ())
    return FindingDetail(rows[0], tuple(finding_history(ws, finding_id)))


def reconcile(ws: Workspace, period: str, user: str, report: Report,
              cancel: threading.Event) -> ReconcileReport:
    return reconcile_period(ws, period, user=user, progress=report, cancel=cancel)
