"""Benchmark: importing a Partner Center NCE invoice reconciliation file.

    python bench/import_recon.py [--scale 1000000] [--repeat 3] [--keep] [--file EXISTING.csv]

Generates an NCE recon CSV with all 46 columns (2,000 customers, 40,000 subscriptions,
mostly cycle and renew charges plus new / addQuantity / removeQuantity / cancel pairs)
into a temporary folder, then measures, each in its own fresh subprocess:

* trueup   - `import_partner_center_file` into a new workspace (fingerprint, encoding
             check, typed parsing, validation, dedupe, bulk insert, customers/subscriptions);
* baseline - `csv.reader` + raw `sqlite3` `executemany` of the same rows, all 46 columns as
             untyped text, into one table without indexes, with the workspace's pragmas
             (WAL, synchronous=FULL) in one transaction.

Peak memory is each child's peak RSS (ru_maxrss from os.wait4 on that child alone), so it
includes the interpreter and imported libraries. Times are the import call's wall time
inside each process (medians with --repeat). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COLUMNS = (
    "PartnerId", "CustomerId", "CustomerName", "CustomerDomainName", "CustomerCountry",
    "InvoiceNumber", "MpnId", "ResellerMpnId", "OrderId", "OrderDate", "ProductId", "SkuId",
    "AvailabilityId", "SkuName", "ProductName", "ChargeType", "UnitPrice", "Quantity",
    "Subtotal", "TaxTotal", "Total", "Currency", "PriceAdjustmentDescription", "PublisherName",
    "PublisherId", "SubscriptionDescription", "SubscriptionId", "ChargeStartDate",
    "ChargeEndDate", "TermAndBillingCycle", "EffectiveUnitPrice", "UnitType", "AlternateId",
    "BillableQuantity", "BillingFrequency", "PricingCurrency", "PCToBCExchangeRate",
    "PCToBCExchangeRateDate", "MeterDescription", "ReservationOrderId", "CreditReasonCode",
    "SubscriptionStartDate", "SubscriptionEndDate", "ReferenceID", "ProductQualifiers",
    "PromotionID",
)
PRODUCTS = (  # product id, sku id, name, monthly list price (USD)
    ("CFQ7TTC0LH18", "0001", "Microsoft 365 Business Basic", "6.00"),
    ("CFQ7TTC0LDPB", "0001", "Microsoft 365 Business Standard", "12.50"),
    ("CFQ7TTC0LCHC", "0002", "Microsoft 365 Business Premium", "22.00"),
    ("CFQ7TTC0LF8Q", "0001", "Office 365 E3", "23.00"),
    ("CFQ7TTC0LFLZ", "0002", "Microsoft 365 E3", "36.00"),
    ("CFQ7TTC0LH0R", "0002", "Microsoft 365 Phone System", "8.00"),
    ("CFQ7TTC0HL8W", "0001", "Power BI Pro", "10.00"),
    ("CFQ7TTC0LHSF", "0001", "Exchange Online (Plan 1)", "4.00"),
)
TERMS = (("One-Year commitment for monthly/yearly billing", "Monthly", 0.7),
         ("One-Month commitment for monthly billing", "Monthly", 0.25),
         ("Three-Year commitment for monthly/triennial billing", "Monthly", 0.05))
PEC, VAT = Decimal("0.85"), Decimal("0.19")  # partner earned credit, a tax rate
MICRO, CENT = Decimal("0.000001"), Decimal("0.01")
ADJUSTMENTS = ('["Price for given billing period","You are getting a discount for being a '
               'partner.","You are getting a price guarantee for your price."]')


def _us(day: date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def _month_end(day: date) -> date:
    nxt = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return nxt - timedelta(days=1)


def generate(path: Path, scale: int, seed: int = 7) -> int:
    """Write `scale` data lines (+ header); returns the number written."""
    rng = random.Random(seed)
    partner = str(uuid.UUID(int=rng.getrandbits(128)))
    customers = []
    for i in range(2000):
        name = rng.choice(["Müller, GmbH", "Café Lumière", "Contoso", "Fabrikam",
                           "Northwind Traders", "Adatum"]) + f" {i}"
        customers.append((str(uuid.UUID(int=rng.getrandbits(128))), name,
                          f"tenant{i}.onmicrosoft.com", rng.choice(["US", "DE", "FR", "GB"])))
    subscriptions = []
    for s in range(40_000):
        customer = customers[s // 20]
        product = PRODUCTS[rng.randrange(len(PRODUCTS))]
        weights = [t[2] for t in TERMS]
        term = rng.choices(TERMS, weights)[0]
        start = date(2023, 1, 1) + timedelta(days=rng.randrange(365))
        subscriptions.append({
            "customer": customer, "product": product, "term": term, "start": start,
            "id": str(uuid.UUID(int=rng.getrandbits(128))), "qty": rng.randint(1, 60),
            "order": uuid.UUID(int=rng.getrandbits(128)).hex[:12],
            "reference": str(uuid.UUID(int=rng.getrandbits(128))),
        })
    written = 0
    month = date(2024, 1, 1)
    invoice = 1000
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        while written < scale:
            invoice += 1
            month_end = _month_end(month)
            batch = []
            for sub in subscriptions:
                if written + len(batch) >= scale:
                    break
                batch += _lines_for(sub, month, month_end, f"G{invoice:09d}", partner, rng)
            batch = batch[: scale - written]
            writer.writerows(batch)
            written += len(batch)
            month = month_end + timedelta(days=1)
    return written


def _lines_for(sub: dict, month: date, month_end: date, invoice: str, partner: str,
               rng: random.Random) -> list[list[str]]:
    customer_id, customer_name, domain, country = sub["customer"]
    product_id, sku_id, name, price = sub["product"]
    term_text, frequency, _ = sub["term"]
    roll = rng.random()
    qty = sub["qty"]
    anniversary = sub["start"].month == month.month

    def line(charge: str, quantity: int, start: date, end: date) -> list[str]:
        days = (end - start).days + 1
        full = (month_end - month).days + 1
        unit = price
        effective = (Decimal(price) * PEC * days / full).quantize(MICRO)
        subtotal = (effective * quantity).quantize(CENT)
        tax = (subtotal * VAT).quantize(CENT)
        total = subtotal + tax
        return [partner, customer_id, customer_name, domain, country, invoice, "5357564",
                "0", sub["order"], f"{start.isoformat()}T09:12:33.1234567Z", product_id,
                sku_id, "CFQ7TTC0K5RQ", name, name, charge, unit, str(quantity), str(subtotal),
                str(tax), str(total), "USD", ADJUSTMENTS, "Microsoft Corporation", "", name, sub["id"],
                _us(start), _us(end), term_text, str(effective), "", sub["order"], str(quantity),
                frequency, "USD", "1", _us(month), "", "", "", _us(sub["start"]),
                _us(sub["start"] + timedelta(days=364)), sub["reference"], "[]", ""]

    if roll < 0.04:  # seats added mid-month: refund the old quantity, charge the new one
        day = month + timedelta(days=rng.randrange(28))
        new = qty + rng.randint(1, 5)
        sub["qty"] = new
        return [line("cycleCharge", qty, month, month_end),
                line("addQuantity", -qty, day, month_end), line("addQuantity", new, day, month_end)]
    if roll < 0.07 and qty > 1:
        day = month + timedelta(days=rng.randrange(28))
        new = qty - rng.randint(1, qty - 1)
        sub["qty"] = new
        return [line("cycleCharge", qty, month, month_end),
                line("removeQuantity", -qty, day, month_end),
                line("removeQuantity", new, day, month_end)]
    if roll < 0.075:  # cancelled within the window: charge then refund
        return [line("new", qty, month, month_end), line("cancel", -qty, month, month_end)]
    if roll < 0.09:
        return [line("new", qty, month, month_end)]
    return [line("renew" if anniversary else "cycleCharge", qty, month, month_end)]


# --- the measured children -------------------------------------------------------------------


def child_trueup(file: Path, db: Path) -> dict:
    from app.services.imports import import_partner_center_file
    from app.services.workspace import open_workspace

    ws = open_workspace(db)
    started, cpu = time.perf_counter(), time.process_time()
    result = import_partner_center_file(ws, file)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    ws.close()
    return {"seconds": seconds, "cpu_seconds": cpu, "imported": result.imported,
            "duplicates": result.duplicates, "rejected": result.rejected_rows}


def child_baseline(file: Path, db: Path) -> dict:
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    started, cpu = time.perf_counter(), time.process_time()
    with file.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        conn.execute(f"CREATE TABLE lines ({', '.join(f'c{i} TEXT' for i in range(len(header)))})")
        sql = f"INSERT INTO lines VALUES ({', '.join('?' * len(header))})"
        batch = []
        rows = 0
        for row in reader:
            batch.append(row)
            if len(batch) >= 5000:
                conn.executemany(sql, batch)
                rows += len(batch)
                batch = []
        conn.executemany(sql, batch)
        rows += len(batch)
    conn.commit()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    conn.close()
    return {"seconds": seconds, "cpu_seconds": cpu, "imported": rows}


def run_child(kind: str, file: Path, db: Path) -> tuple[dict, float]:
    """Run one measurement in a fresh process; its own peak RSS in MB (ru_maxrss, KiB)."""
    proc = subprocess.Popen([sys.executable, __file__, "--child", kind, "--file", str(file),
                             "--db", str(db)], stdout=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} run failed with exit code {proc.returncode}")
    return json.loads(out.decode().strip().splitlines()[-1]), usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1_000_000, help="data lines to generate")
    parser.add_argument("--file", type=Path, help="use this recon CSV instead of generating")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each, alternating; medians are reported")
    parser.add_argument("--generate-only", type=Path, metavar="CSV",
                        help="only write the generated file to CSV")
    parser.add_argument("--child", choices=["trueup", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run = child_trueup if args.child == "trueup" else child_baseline
        print(json.dumps(run(args.file, args.db)))
        return
    if args.generate_only:
        print(f"generated {generate(args.generate_only, args.scale):,} lines", file=sys.stderr)
        return
    folder = Path(tempfile.mkdtemp(prefix="trueup-bench-"))
    try:
        file = args.file
        scale = args.scale
        if file is None:
            file = folder / "nce-recon.csv"
            started = time.perf_counter()
            scale = generate(file, args.scale)
            print(f"generated {scale:,} lines ({file.stat().st_size / 2**20:,.0f} MB) in "
                  f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
        runs: dict[str, list[tuple[dict, float]]] = {"trueup": [], "baseline": []}
        for attempt in range(args.repeat):  # alternate, so both see the same machine load
            for kind in ("trueup", "baseline"):
                db = folder / f"{kind}-{attempt}.sqlite"
                outcome, peak = run_child(kind, file, db)
                runs[kind].append((outcome, peak))
                for leftover in folder.glob(f"{db.name}*"):
                    leftover.unlink()
                print(f"{kind:<9} {outcome['seconds']:7.2f} s (cpu {outcome['cpu_seconds']:.2f} s)"
                      f", {outcome['imported']:,} lines, peak {peak:.0f} MB", file=sys.stderr)
        trueup_s = statistics.median(o["seconds"] for o, _ in runs["trueup"])
        baseline_s = statistics.median(o["seconds"] for o, _ in runs["baseline"])
        trueup_cpu = statistics.median(o["cpu_seconds"] for o, _ in runs["trueup"])
        baseline_cpu = statistics.median(o["cpu_seconds"] for o, _ in runs["baseline"])
        trueup = runs["trueup"][0][0]
        if args.file is not None:
            scale = trueup["imported"] + trueup["duplicates"] + trueup["rejected"]
        print(json.dumps({
            "name": "import_recon", "scale": scale, "runs": args.repeat,
            "trueup_s": round(trueup_s, 2), "baseline_s": round(baseline_s, 2),
            "ratio": round(trueup_s / baseline_s, 2),
            "peak_mb": round(max(peak for _, peak in runs["trueup"]), 1),
            "rows_per_s": round(trueup["imported"] / trueup_s),
            "baseline_peak_mb": round(max(peak for _, peak in runs["baseline"]), 1),
            "trueup_cpu_s": round(trueup_cpu, 2), "baseline_cpu_s": round(baseline_cpu, 2),
            "ratios": [round(t[0]["seconds"] / b[0]["seconds"], 2)
                       for t, b in zip(runs["trueup"], runs["baseline"], strict=True)],
            "file_mb": round(file.stat().st_size / 2**20, 1),
            "imported": trueup["imported"], "duplicates": trueup["duplicates"],
            "memory": "peak RSS of each measured child process (os.wait4 ru_maxrss)",
            "timing": "median wall seconds of the import call inside each fresh process",
            "goal": {"ratio_max": 2.0, "peak_mb_max": 500},
        }))
    finally:
        if args.keep:
            print(f"kept {folder}", file=sys.stderr)
        else:
            for item in folder.glob("*"):
                item.unlink()
            folder.rmdir()


if __name__ == "__main__":
    main()
