"""Benchmark: the review grid with many findings — load, sort, filter and scroll.

    python bench/grid.py [--scale 100000]

Builds `scale` synthetic findings (the frozen rows `list_findings` returns, with two proposed
actions each, over scale/20 customers and two currencies) and measures, in one process and
offscreen:

* trueup   - TrueUp's FindingsModel in a QTableView set up as the review page sets it up
             (status icons, per-currency totals, the find-text index, real-value sorting):
             load + first paint, sort by amount and by customer, and filter by kind and by
             find text (each filter is also a reset and a totals pass);
* baseline - a bare QTableView over a minimal list model holding the same rows, sorting and
             filtering its Python list and resetting (PERFORMANCE.md's fast path).

sort_ms and filter_ms are TrueUp's slowest single sort and filter, each with its repaint (the
requirement is under 200 ms at 100,000). gc_full_unfrozen_ms is one full garbage collection
with the rows collectable, gc_full_ms the same once they are frozen as the load job leaves
them (app/ui/runtime.py): what a collection triggered mid-scroll would cost. The time to sort
100,000 ints calibrates the machine (about 8 ms on an idle one of PERFORMANCE.md's class).
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import random
import resource
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QTableView  # noqa: E402

from app.services.findings import FindingRow  # noqa: E402

KINDS = ("quantity_drift",) * 5 + ("unbilled_subscription", "billed_but_cancelled",
                                    "cost_change", "usage_charge", "unmapped")
STATUSES = ("open",) * 6 + ("approved", "rejected", "deferred", "pushed")
PRODUCTS = (("CFQ7TTC0LCHC:0002", "Microsoft 365 Business Premium", "22.00"),
            ("CFQ7TTC0LFLZ:0002", "Microsoft 365 E3", "36.00"),
            ("CFQ7TTC0LH18:0001", "Microsoft 365 Business Basic", "6.00"),
            ("CFQ7TTC0HL8W:0001", "Power BI Pro", "10.00"))
SUFFIXES = ("Pty Ltd", "LLC", "GmbH", "Inc.", "Ltd")


def make_rows(scale: int, seed: int = 7) -> list[FindingRow]:
    rng = random.Random(seed)
    customers = max(1, scale // 20)
    rows = []
    for n in range(scale):
        sku, product, price = PRODUCTS[n % 4]
        c = n % customers
        currency = "EUR" if c % 10 == 3 else "USD"
        vq, pq = rng.randint(1, 300), rng.randint(1, 300)
        amount = (Decimal(price) * (vq - pq) * rng.randint(1, 31) / 31).quantize(
            Decimal("0.01"))
        actions = (
            {"type": "set_quantity", "desired": {"quantity": str(vq)},
             "seen": {"quantity": str(pq)}, "effective_date": "2026-04-01",
             "money_effect": "0", "currency": currency},
            {"type": "one_time_charge", "desired": {"quantity": "1",
                                                    "unit_price": str(abs(amount))},
             "seen": {}, "effective_date": "2026-04-01", "money_effect": str(amount),
             "currency": currency})
        status = STATUSES[n % len(STATUSES)]
        rows.append(FindingRow(
            n + 1, "2026-03", KINDS[n % len(KINDS)], status, 1, "pax8", f"v{c}",
            f"Customer {c:05d}", str(c), f"Customer {c:05d} {SUFFIXES[c % 5]}", f"s{n}",
            f"L{n}", sku, product, currency, Decimal(vq), Decimal(pq), Decimal(price),
            Decimal(price) * Decimal("0.8"), amount, actions,
            date(2026, 4, 1) if status == "approved" else None,
            "checked with the customer" if status != "open" else None,
            f"Customer {c:05d}: the vendor bills {vq} seats of {product}, the PSA {pq}.", {}))
    return rows


class PlainModel(QAbstractTableModel):
    """The baseline: a list of rows, display text by attribute, nothing else."""

    FIELDS = ("status", "kind", "customer_name", "product_name", "vendor_quantity",
              "psa_quantity", "unit_price", "amount", "sku", "effective_date", "note")

    def __init__(self, rows: list[FindingRow]) -> None:
        super().__init__()
        self.all_rows, self.rows = rows, rows

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.FIELDS)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            value = getattr(self.rows[index.row()], self.FIELDS[index.column()])
            return "" if value is None else str(value)
        return None

    def sort_by(self, key: Callable[[FindingRow], Any], reverse: bool) -> None:
        self.beginResetModel()
        self.rows = sorted(self.rows, key=key, reverse=reverse)
        self.endResetModel()

    def filter_by(self, keep: Callable[[FindingRow], bool]) -> None:
        self.beginResetModel()
        self.rows = [r for r in self.all_rows if keep(r)]
        self.endResetModel()


def _timed(app: QApplication, fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    app.processEvents()  # the repaint after the reset belongs to the step
    return time.perf_counter() - started


def _view(app: QApplication, model: QAbstractTableModel) -> QTableView:
    view = QTableView()
    view.resize(1280, 800)
    view.setModel(model)
    view.show()
    app.processEvents()
    return view


def run_trueup(app: QApplication, rows: list[FindingRow]) -> dict[str, Any]:
    from app.ui.review.filter_bar import FilterState
    from app.ui.review.grid_model import AMOUNT, CUSTOMER, FindingsModel
    from app.ui.review.labels import search_text

    timings: dict[str, float] = {}
    holder: dict[str, Any] = {}

    def load() -> None:
        holder["search"] = [search_text(r) for r in rows]
        model = FindingsModel()
        model.sort(CUSTOMER, Qt.SortOrder.AscendingOrder)
        model.set_rows(rows)
        holder["model"], holder["view"] = model, _view(app, model)

    timings["load"] = _timed(app, load)
    model, view, search = holder["model"], holder["view"], holder["search"]
    sorts = [_timed(app, lambda c=c, o=o: model.sort(c, o))
             for c, o in ((AMOUNT, Qt.SortOrder.DescendingOrder),
                          (CUSTOMER, Qt.SortOrder.AscendingOrder),
                          (AMOUNT, Qt.SortOrder.AscendingOrder))]
    filters = [_timed(app, lambda s=s: model.set_mask(s.mask(model.all_rows, search)))
               for s in (FilterState(kind="unbilled_subscription"),
                         FilterState(text="customer 0042"),
                         FilterState(statuses=("open", "deferred"), text="e3"),
                         FilterState())]
    scroll = _timed(app, lambda: [view.verticalScrollBar().setValue(v) or app.processEvents()
                                  for v in range(0, view.verticalScrollBar().maximum(),
                                                 max(1, view.verticalScrollBar().maximum()
                                                     // 50))])
    view.close()
    return {"load": timings["load"], "sorts": sorts, "filters": filters,
            "scroll_per_page_ms": scroll / 50 * 1000, "shown_after_clear": model.rowCount()}


def run_baseline(app: QApplication, rows: list[FindingRow]) -> dict[str, Any]:
    holder: dict[str, Any] = {}

    def load() -> None:
        model = PlainModel(sorted(rows, key=lambda r: r.customer_name))
        holder["model"], holder["view"] = model, _view(app, model)

    load_s = _timed(app, load)
    model = holder["model"]
    sorts = [_timed(app, lambda k=k, rev=rev: model.sort_by(k, rev))
             for k, rev in ((lambda r: r.amount, True), (lambda r: r.customer_name, False),
                            (lambda r: r.amount, False))]
    filters = [_timed(app, lambda k=k: model.filter_by(k))
               for k in (lambda r: r.kind == "unbilled_subscription",
                         lambda r: "customer 0042" in r.customer_name.casefold(),
                         lambda r: r.status in ("open", "deferred") and "e3" in
                         r.product_name.casefold(),
                         lambda r: True)]
    holder["view"].close()
    return {"load": load_s, "sorts": sorts, "filters": filters}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100_000, help="findings (default 100000)")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    importlib.import_module("app.ui")  # the runtime guards every UI run has

    probe = random.Random(1)
    ints = [probe.randrange(10**9) for _ in range(100_000)]
    calibration = _timed(app, lambda: sorted(ints))  # ~8 ms on an idle box of this class
    rows = make_rows(args.scale)
    gc_unfrozen = _timed(app, gc.collect)  # what one full collection costs with rows loaded
    gc.freeze()  # as the load job leaves them (app.ui.runtime.paused_collection)
    print(f"{args.scale:,} findings: TrueUp grid model vs a bare list model", file=sys.stderr)
    ours = run_trueup(app, rows)
    bare = run_baseline(app, rows)
    gc_frozen = _timed(app, gc.collect)
    trueup_s = ours["load"] + sum(ours["sorts"]) + sum(ours["filters"])
    baseline_s = bare["load"] + sum(bare["sorts"]) + sum(bare["filters"])
    for name, r in (("trueup", ours), ("baseline", bare)):
        print(f"  {name:8} load {r['load'] * 1000:7.1f} ms  sorts "
              + " ".join(f"{s * 1000:6.1f}" for s in r["sorts"]) + "  filters "
              + " ".join(f"{s * 1000:6.1f}" for s in r["filters"]), file=sys.stderr)
    print(f"  scroll {ours['scroll_per_page_ms']:.1f} ms per step; a full gc "
          f"{gc_unfrozen * 1000:.0f} ms with the rows collectable, {gc_frozen * 1000:.0f} ms "
          "with them frozen", file=sys.stderr)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak_kb / 1024 if sys.platform != "darwin" else peak_kb / 1024 / 1024
    print(json.dumps({
        "name": "grid", "scale": args.scale,
        "trueup_s": round(trueup_s, 4), "baseline_s": round(baseline_s, 4),
        "ratio": round(trueup_s / baseline_s, 2) if baseline_s else None,
        "peak_mb": round(peak_mb, 1),
        "sort_ms": round(max(ours["sorts"]) * 1000, 1),
        "filter_ms": round(max(ours["filters"]) * 1000, 1),
        "load_ms": round(ours["load"] * 1000, 1),
        "scroll_step_ms": round(ours["scroll_per_page_ms"], 2),
        "gc_full_unfrozen_ms": round(gc_unfrozen * 1000, 1),
        "gc_full_ms": round(gc_frozen * 1000, 1),
        "baseline_sort_ms": round(max(bare["sorts"]) * 1000, 1),
        "baseline_filter_ms": round(max(bare["filters"]) * 1000, 1),
        "all_rows_back": ours["shown_after_clear"] == args.scale,
        "calibration_sort_100k_ints_ms": round(calibration * 1000, 1),
    }))


if __name__ == "__main__":
    main()
