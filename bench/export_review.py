"""Benchmark: exporting a period's findings to the reconciliation review workbook.

    python bench/export_review.py [--scale 100000] [--repeat 3] [--keep]

Seeds a workspace with `scale` findings (1 per 20 customers, realistic names, two proposed
actions and an explanation each) in a temporary folder, then measures, each in its own
fresh subprocess:

* trueup   - `services.exports.export(ws, "review", ...)`: the Core query streamed in
             batches, the Summary totals, the styled Findings sheet (number and date formats,
             Decisions area, validations, hidden columns) and the atomic file move;
* baseline - openpyxl write-only writing the same values (22 columns, taken from the same
             source rows before the clock starts) to one sheet, with no styles at all.

The baseline does not read the database, so the ratio charges TrueUp for its reading too.
The two run alternately `--repeat` times and the medians are reported (a shared machine's
speed drifts by tens of percent between minutes; alternating exposes both to the drift).
Peak memory is each child's peak RSS (ru_maxrss from os.wait4 on that child alone), so it
includes the interpreter and imported libraries. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PERIOD = "2026-03"
KINDS = ("quantity_drift", "unbilled_subscription", "billed_but_cancelled", "cost_change",
         "annual_charge_missing", "usage_charge", "unmapped")
STATUSES = ("open",) * 6 + ("approved", "rejected", "deferred")
PRODUCTS = (("CFQ7TTC0LCHC:0002", "Microsoft 365 Business Premium", "22.00"),
            ("CFQ7TTC0LFLZ:0002", "Microsoft 365 E3", "36.00"),
            ("CFQ7TTC0LH18:0001", "Microsoft 365 Business Basic", "6.00"),
            ("CFQ7TTC0HL8W:0001", "Power BI Pro", "10.00"))


def seed(db: Path, scale: int) -> None:
    from sqlalchemy import insert

    from app.domain.actions import ActionType, PsaAction, action_to_dict
    from app.models.connections import Connection
    from app.models.psa import PsaCompany
    from app.models.review import BillingPeriodRow, Finding
    from app.models.vendor import VendorCustomer, VendorSubscription
    from app.models.workspace import Workspace

    rng = random.Random(7)
    ws = Workspace.open(db)
    customers = max(1, scale // 20)
    with ws.begin() as s:
        cw = Connection(name="CW", kind="connectwise", side="psa", settings={"company_id": "a"})
        pax8 = Connection(name="Pax8", kind="pax8", side="vendor")
        s.add_all([cw, pax8])
        s.add(BillingPeriodRow(label=PERIOD, start_date=date(2026, 3, 1),
                               end_date=date(2026, 3, 31)))
        s.flush()
        cw_id, pax8_id = cw.id, pax8.id
    with ws.engine.begin() as conn:
        conn.execute(insert(PsaCompany.__table__), [
            {"connection_id": cw_id, "external_id": str(n), "identifier": f"CUST{n:05d}",
             "name": f"Customer {n:05d} {rng.choice(('Pty Ltd', 'LLC', 'GmbH', 'Inc.'))}"}
            for n in range(customers)])
        conn.execute(insert(VendorCustomer.__table__), [
            {"connection_id": pax8_id, "external_id": f"v{n}", "name": f"Customer {n:05d}"}
            for n in range(customers)])
        conn.execute(insert(VendorSubscription.__table__), [
            {"connection_id": pax8_id, "customer_id": n % customers + 1, "external_id": f"s{n}",
             "sku": PRODUCTS[n % 4][0], "product_name": PRODUCTS[n % 4][1],
             "quantity": Decimal(10), "currency": "USD", "status": "active"}
            for n in range(scale)])
        batch = []
        for n in range(scale):
            sku, product, price = PRODUCTS[n % 4]
            vq, pq = rng.randint(1, 300), rng.randint(1, 300)
            amount = (Decimal(price) * (vq - pq) * rng.randint(1, 31) / 31).quantize(
                Decimal("0.01"))
            actions = [action_to_dict(PsaAction(
                ActionType.SET_QUANTITY, "connectwise", PERIOD, f"A{n % customers}", f"L{n}",
                desired={"quantity": str(vq)}, seen={"quantity": str(pq)},
                effective_date=date(2026, 4, 1))),
                action_to_dict(PsaAction(
                    ActionType.ONE_TIME_CHARGE, "connectwise", PERIOD, f"A{n % customers}",
                    desired={"quantity": "1", "unit_price": str(abs(amount)),
                             "effective_date": "2026-03-01"},
                    description=f"{product} true-up [TrueUp R-{n:010d}]",
                    money_effect=amount))]
            status = STATUSES[n % len(STATUSES)]
            batch.append({
                "period_id": 1, "key": f"{KINDS[n % 7]}|pax8|s{n}", "kind": KINDS[n % 7],
                "psa_company_id": n % customers + 1, "vendor_customer_id": n % customers + 1,
                "vendor_subscription_id": n + 1, "sku": sku, "currency": "USD",
                "vendor_quantity": Decimal(vq), "psa_quantity": Decimal(pq),
                "unit_price": Decimal(price), "unit_cost": Decimal(price) * Decimal("0.8"),
                "amount": amount, "action": {"actions": actions},
                "explanation": {"summary": f"Customer {n % customers:05d}: the vendor bills {vq} "
                                           f"seats of {product} but the PSA bills {pq}; "
                                           f"{vq - pq} seats × {price} USD prorated over the "
                                           "period under the ConnectWise convention.",
                                "timeline": [{"start": "2026-03-01", "quantity": str(vq)}]},
                "inputs_hash": f"{n:064x}", "status": status,
                "effective_date": date(2026, 4, 1) if status == "approved" else None,
                "note": "checked with the customer" if status != "open" else None})
            if len(batch) == 5_000:
                conn.execute(insert(Finding.__table__), batch)
                batch = []
        if batch:
            conn.execute(insert(Finding.__table__), batch)
    ws.close()


def child_trueup(db: Path, out: Path) -> dict:
    from app.models.workspace import Workspace
    from app.services.exports import export

    ws = Workspace.open(db)
    started, cpu = time.perf_counter(), time.process_time()
    result = export(ws, "review", PERIOD, out, user="bench")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    ws.close()
    return {"seconds": seconds, "cpu": cpu, "rows": result.rows}


def child_baseline(db: Path, out: Path) -> dict:
    from openpyxl import Workbook

    from app.exports.review_workbook import HEADERS, STATUS_DECISION, state_digest
    from app.exports.sources import find_period, iter_findings
    from app.models.workspace import Workspace

    ws = Workspace.open(db)
    with ws.engine.connect() as conn:
        period = find_period(conn, PERIOD)
        rows = [(r.finding_id, r.kind, r.status, r.customer, r.product, r.sku, r.currency,
                 r.vendor_quantity, r.psa_quantity, r.quantity_difference, r.unit_price,
                 r.unit_cost, r.amount, r.action, STATUS_DECISION.get(r.status),
                 r.effective_date, r.note, r.explain, r.key, r.version, r.inputs_hash,
                 state_digest(STATUS_DECISION.get(r.status, ""), r.effective_date, r.note))
                for r in iter_findings(conn, period, ("customer", "kind", "sku"))]
    ws.close()
    started, cpu = time.perf_counter(), time.process_time()
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet("Findings")
    sheet.append(list(HEADERS))
    for row in rows:
        sheet.append(row)
    wb.save(out)
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
            "rows": len(rows)}


def run_child(kind: str, db: Path, out: Path) -> tuple[dict, float]:
    """One measurement in a fresh process; its own peak RSS in MB (ru_maxrss, KiB)."""
    proc = subprocess.Popen([sys.executable, __file__, "--child", kind, "--db", str(db),
                             "--out", str(out)], stdout=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None
    data = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{kind} run failed")
    return json.loads(data.decode().strip().splitlines()[-1]), usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=100_000, help="findings to export")
    parser.add_argument("--repeat", type=int, default=3,
                        help="alternating runs of each; medians are reported (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--child", choices=("trueup", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run = child_trueup if args.child == "trueup" else child_baseline
        print(json.dumps(run(args.db, args.out)))
        return
    folder = Path(tempfile.mkdtemp(prefix="trueup-bench-export-"))
    try:
        db = folder / "bench.sqlite"
        started = time.perf_counter()
        seed(db, args.scale)
        print(f"seeded {args.scale:,} findings in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
        runs: dict[str, list[tuple[dict, float]]] = {"trueup": [], "baseline": []}
        for n in range(args.repeat):
            for kind in ("trueup", "baseline"):
                result, peak = run_child(kind, db, folder / f"{kind}.xlsx")
                runs[kind].append((result, peak))
                print(f"run {n + 1}: {kind:<8} {result['seconds']:7.2f} s  cpu "
                      f"{result['cpu']:7.2f} s  peak {peak:5.0f} MB", file=sys.stderr)
        med = {kind: {key: median(r[0][key] for r in runs[kind]) for key in ("seconds", "cpu")}
               | {"peak": max(r[1] for r in runs[kind])} for kind in runs}
        ratio = med["trueup"]["seconds"] / med["baseline"]["seconds"]
        print(json.dumps({
            "name": "export_review", "scale": args.scale, "rows": runs["trueup"][0][0]["rows"],
            "trueup_s": round(med["trueup"]["seconds"], 3),
            "baseline_s": round(med["baseline"]["seconds"], 3), "ratio": round(ratio, 3),
            "cpu_ratio": round(med["trueup"]["cpu"] / med["baseline"]["cpu"], 3),
            "peak_mb": round(med["trueup"]["peak"], 1),
            "baseline_peak_mb": round(med["baseline"]["peak"], 1), "repeat": args.repeat,
            "file_mb": round((folder / "trueup.xlsx").stat().st_size / 1e6, 1),
            "baseline": "openpyxl write-only, same values, no styles, values prepared untimed",
            "memory": "peak RSS per child process (os.wait4 ru_maxrss), max over runs",
            "goal": {"ratio_max": 2.0, "peak_mb_max": 500},
            "ok": ratio < 2.0 and med["trueup"]["peak"] < 500,
        }))
    finally:
        if args.keep:
            print(f"kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
