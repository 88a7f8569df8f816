"""Benchmark: reconciling one billing period of a large book.

    python bench/reconcile.py [--scale 1000000] [--repeat 3] [--keep] [--db EXISTING.sqlite]
                              [--profile N] [--usage-places 6]

Generates, with raw sqlite3 bulk inserts into a freshly migrated workspace, a book of 2,000
customers and 40,000 subscriptions with 1,000,000 vendor charge lines in one month (scaled
proportionally by --scale = number of lines):

* 90 % seat subscriptions (10 products, M/M and A/M): one cycle charge for the month each,
  and for one in ten an NCE addQuantity mid-month (a refund line and a charge line) that the
  PSA has not followed (quantity drift);
* 10 % Azure plan subscriptions: the rest of the lines, daily meter lines (~240 each), their
  amounts of 6 places (--usage-places 15: as Partner Center's daily usage export writes
  them, 15 places, the last one a float's residue, which no float sum can be proven exact
  to: the reconcile reads them as texts and adds them up in Decimal);
* every customer mapped to a PSA company with a recurring and a one-time agreement; 95 % of
  seat subscriptions billed by a mapped PSA line (2 % of those at the wrong quantity, 1 % at
  an old cost, 0.5 % below cost), 80 % of the usage already charged on the one-time agreement.

Then --repeat times (3), on a fresh copy of the generated workspace, in a fresh child
process (so peak memory is the reconcile's, not the generator's) that finds TrueUp's
modules compiled, as an installed TrueUp has them (see `compiled`):

* baseline - one SQL GROUP BY over the same lines per subscription for the period, the
             totals, fetched into Python (median of three; the seat-days variant, quantity ×
             days inside the period, is reported too as baseline_seat_days_s);
* trueup   - `reconcile_period` for the month: read the book, build the facts and run the
             engine (on a big book, part of it in a worker process per extra core, each
             process reading its own share of the book, less the subscriptions SQL
             finds plainly in step, counted unread), store
             the findings (a first run, as at month end). Its usage is read from the usage
             lines added up by day (app.models.usage_days), which importing the lines did:
             that adding up is timed at generation and reported as usage_days_s, a cost of
             the import, not of the reconcile.

The last line is one JSON object: name, scale, trueup_s (the median run), baseline_s (the
median of the runs' baselines), ratio, peak_mb (the child's peak RSS; worker_peak_mb that
of its biggest worker), plus cpu_ratio (CPU time of the process and its workers against
the baseline's, steadier on a shared machine), every run's times, the finding count and
the split of the median run's time, and closing_s: how long closing the workspace then
took, which waits for the checkpoint the reconcile leaves to a background thread (see
app.models.checkpoints), outside trueup_s as it is outside the bookkeeper's wait. --db
reuses a workspace kept with --keep (it is copied, never changed). --profile N prints the
N costliest functions of each TrueUp run (cProfile, cumulative) to stderr.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PERIOD = "2026-03"
START, END = date(2026, 3, 1), date(2026, 3, 31)
NOW = "2026-04-02 09:00:00.000000"
PRODUCTS = (  # sku, name, monthly partner cost, customer price
    ("CFQ7TTC0LH18:0001", "Microsoft 365 Business Basic", "5.40", "6.00"),
    ("CFQ7TTC0LDPB:0001", "Microsoft 365 Business Standard", "11.25", "12.50"),
    ("CFQ7TTC0LCHC:0002", "Microsoft 365 Business Premium", "19.80", "22.00"),
    ("CFQ7TTC0LF8Q:0001", "Office 365 E3", "20.70", "23.00"),
    ("CFQ7TTC0LFLZ:0002", "Microsoft 365 E3", "32.40", "36.00"),
    ("CFQ7TTC0LH0R:0002", "Microsoft 365 Phone System", "7.20", "8.00"),
    ("CFQ7TTC0HL8W:0001", "Power BI Pro", "9.00", "10.00"),
    ("CFQ7TTC0LHSF:0001", "Exchange Online (Plan 1)", "3.60", "4.00"),
    ("CFQ7TTC0LHWP:0001", "Microsoft Defender for Business", "2.70", "3.00"),
    ("CFQ7TTC0LHXL:0001", "Microsoft Teams Essentials", "3.60", "4.00"),
)
AZURE = ("DZH318Z0BCZ4:0001", "Azure plan")
METERS = 8


class Book:
    """Sizes derived from the number of lines."""

    def __init__(self, lines: int) -> None:
        factor = lines / 1_000_000
        self.lines = lines
        self.customers = max(1, round(2_000 * factor))
        self.subscriptions = max(10, round(40_000 * factor))


def _subscriptions(book: Book, rng: random.Random) -> list[dict]:
    subs = []
    for n in range(book.subscriptions):
        usage = n % 10 == 9
        sku, name, cost, price = AZURE + ("", "") if usage else PRODUCTS[n % len(PRODUCTS)]
        seats = rng.choice([1, 2, 3, 5, 8, 10, 15, 20, 25, 40, 60])
        roll = rng.random()
        subs.append({
            "n": n, "id": n + 1, "customer": n % book.customers + 1, "usage": usage,
            "sku": sku, "name": name, "cost": cost, "price": price, "seats": seats,
            "change": None if usage or rng.random() >= 0.1 else (
                rng.randint(2, 28), seats + rng.choice([-2, -1, 1, 2, 3, 5])),
            "billed": not usage and roll < 0.95,
            "wrong_qty": roll < 0.019, "old_cost": 0.019 <= roll < 0.0285,
            "below_cost": 0.0285 <= roll < 0.033,
            "usage_charged": usage and roll < 0.8, "term": rng.choice(["P1M", "P1Y", "P1Y"]),
        })
    return subs


def _lines(book: Book, subs: list[dict], rng: random.Random,
           usage_totals: dict[int, Decimal], places: int = 6) -> Iterator[tuple]:
    from app.models.types import stored_places  # each line as a sync stores it

    seat_lines = sum(1 + (2 if s["change"] else 0) for s in subs if not s["usage"])
    usage_subs = [s for s in subs if s["usage"]]
    per_usage = max(0, book.lines - seat_lines) // max(1, len(usage_subs))
    key = 0

    def row(s: dict, kind: str, start: date, end: date, qty: Decimal, unit: str,
            total: Decimal, usage: bool) -> tuple:
        nonlocal key
        key += 1
        return (1, f"k{key}", f"C{s['customer']}", f"Customer {s['customer']}", f"S{s['n']}",
                s["sku"], s["name"], kind, start.isoformat(), end.isoformat(), str(qty), unit,
                "1", str(total), str(total), "USD", f"G{PERIOD}", None if usage else s["term"],
                "Usage" if usage else "Monthly", None, int(usage),
                stored_places(qty) if usage else None, stored_places(total) if usage else None)

    for s in subs:
        if s["usage"]:
            total_sum = Decimal(0)
            for i in range(per_usage):
                day = START + timedelta(days=(i // METERS) % 31)
                qty = Decimal(rng.randint(1, 5000)) / 100
                total = (qty * Decimal("0.0871")).quantize(Decimal(1).scaleb(-min(places, 6)))
                if places > 6:  # the residue of the float the exporter computed it in
                    total += Decimal(1).scaleb(-places)
                total_sum += total
                yield row(s, "new", day, day, qty, "0.0871", total, True)
            usage_totals[s["id"]] = total_sum
            continue
        cost = Decimal(s["cost"])
        yield row(s, "cycleCharge", START, END, Decimal(s["seats"]), s["cost"],
                  cost * s["seats"], False)
        if s["change"]:
            day, after = s["change"]
            share = Decimal(32 - day) / 31
            when = START + timedelta(days=day - 1)
            for qty in (-s["seats"], after):
                amount = (cost * qty * share).quantize(Decimal("0.01"))
                yield row(s, "addQuantity", when, END, Decimal(qty), s["cost"], amount, False)


def generate(path: Path, lines: int, seed: int = 11, usage_places: int = 6) -> dict:
    from app.models.workspace import Workspace

    Workspace.open(path).close()  # migrations
    book, rng = Book(lines), random.Random(seed)
    subs = _subscriptions(book, rng)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    with db:
        _entities(db, book, subs)
        usage_totals: dict[int, Decimal] = {}
        db.executemany(
            "INSERT INTO charge_lines (connection_id, line_key, customer_external_id, "
            "customer_name, subscription_external_id, sku, product_name, charge_type, "
            "charge_start, charge_end, quantity, unit_price, exchange_rate, subtotal, total, "
            "currency, invoice_number, term, billing_frequency, order_date, is_usage, "
            "quantity_places, amount_places) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            _lines(book, subs, rng, usage_totals, usage_places))
        _psa_lines(db, book, subs, usage_totals)
    written = db.execute("SELECT count(*) FROM charge_lines").fetchone()[0]
    db.close()
    folding = _fold(path)
    db = sqlite3.connect(path)
    db.execute("ANALYZE")  # as an import ends: its lines, then their days, counted
    db.close()
    return {"customers": book.customers, "subscriptions": book.subscriptions, "lines": written,
            "usage_days_s": round(folding, 3)}


def _fold(path: Path) -> float:
    """Add the usage lines up by day, as an import does at its end (app.models.usage_days);
    how long that took: part of importing the lines, not of reconciling them."""
    from app.models import usage_days
    from app.models.workspace import Workspace

    ws = Workspace.open(path)
    try:
        with ws.begin() as session:
            started = time.perf_counter()
            usage_days.fold(session.connection())
            took = time.perf_counter() - started
    finally:
        ws.close()
    return took


def _entities(db: sqlite3.Connection, book: Book, subs: list[dict]) -> None:
    db.executemany("INSERT INTO connections (id, name, kind, side, settings, created_at) "
                   "VALUES (?,?,?,?,?,?)",
                   [(1, "Partner Center", "partner_center", "vendor", "{}", NOW),
                    (2, "ConnectWise", "connectwise", "psa",
                     '{"company_id": "bench", "public_key": "x", "client_id": "y"}', NOW)])
    db.execute("UPDATE connections SET base_url = 'https://cw.bench.invalid' WHERE id = 2")
    customers = range(1, book.customers + 1)
    db.executemany("INSERT INTO vendor_customers VALUES (?,?,?,?,?,?,?)",
                   [(c, 1, f"C{c}", f"Customer {c}", None, None, NOW) for c in customers])
    db.executemany("INSERT INTO psa_companies VALUES (?,?,?,?,?,?,?)",
                   [(c, 2, str(19000 + c), f"CUST{c}", f"Customer {c} Ltd", None, "Active")
                    for c in customers])
    db.executemany("INSERT INTO customer_mappings VALUES (?,?,?,?,?,?,?)",
                   [(c, c, c, "auto", None, NOW, "bench") for c in customers])
    agreements, mappings = [], []
    for c in customers:  # 2c-1 recurring, 2c one-time
        agreements += [(2 * c - 1, 2, c, str(70000 + 2 * c - 1), f"Customer {c} - Cloud",
                        "recurring", "Managed Services", "Monthly", 1, 0, "2024-01-01", None,
                        1, None),
                       (2 * c, 2, c, str(70000 + 2 * c), f"Customer {c} - One-Time",
                        "one_time", "One-Time", "One Time", 0, 1, "2024-01-01", None, 1, None)]
        mappings += [(None, c, "monthly", 2 * c - 1, NOW), (None, c, "annual-monthly",
                                                            2 * c - 1, NOW),
                     (None, c, "annual-annual", 2 * c, NOW)]
    db.executemany("INSERT INTO psa_agreements VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", agreements)
    db.executemany("INSERT INTO agreement_mappings VALUES (?,?,?,?,?)", mappings)
    products = [*PRODUCTS, (*AZURE, None, None)]
    db.executemany("INSERT INTO vendor_products VALUES (?,?,?,?,?)",
                   [(i, 1, p[0], p[1], "Microsoft") for i, p in enumerate(products, 1)])
    db.executemany("INSERT INTO psa_products VALUES (?,?,?,?,?,?,?)",
                   [(i, 2, str(500 + i), f"P{i}", p[1], p[3], p[2])
                    for i, p in enumerate(products, 1)])
    db.executemany("INSERT INTO product_mappings VALUES (?,?,?,?,?,?)",
                   [(i, i, i, "auto", NOW, "bench") for i in range(1, len(products) + 1)])
    db.executemany(
        "INSERT INTO vendor_subscriptions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [(s["id"], 1, s["customer"], f"S{s['n']}", s["sku"], s["name"],
          str(s["change"][1] if s["change"] else (0 if s["usage"] else s["seats"])),
          s["cost"] or None, None, "USD", None if s["usage"] else s["term"],
          "Usage" if s["usage"] else "Monthly", "2024-01-01", None, "Active", None, NOW)
         for s in subs])


def _psa_lines(db: sqlite3.Connection, book: Book, subs: list[dict],
               usage_totals: dict[int, Decimal]) -> None:
    lines, pairs, line_id = [], [], 0
    product_of = {p[0]: str(500 + i) for i, p in enumerate([*PRODUCTS, AZURE], 1)}
    for s in subs:
        customer = s["customer"]
        if s["billed"]:
            line_id += 1
            seats = s["seats"] + (3 if s["wrong_qty"] else 0)
            cost = Decimal(s["cost"])
            price = Decimal(s["price"])
            if s["old_cost"]:
                cost -= Decimal("0.50")
            if s["below_cost"]:
                price = cost - Decimal("1.00")
            lines.append((line_id, 2, 2 * customer - 1, str(300000 + line_id),
                          product_of[s["sku"]], s["name"], None, str(seats), str(price),
                          str(cost), "2024-01-01", None, "Billable", 0, None, NOW, None))
            pairs.append((None, s["id"], line_id, "auto", NOW, "bench"))
        elif s["usage_charged"]:
            line_id += 1
            lines.append((line_id, 2, 2 * customer, str(300000 + line_id), product_of[s["sku"]],
                          "Azure usage 2026-03", None, "1",
                          str(usage_totals[s["id"]].quantize(Decimal("0.01"))), None,
                          "2026-04-01", None, "Billable", 1, None, NOW, None))
    db.executemany("INSERT INTO psa_billing_lines VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   lines)
    db.executemany("INSERT INTO subscription_mappings VALUES (?,?,?,?,?,?)", pairs)


# ---------------------------------------------------------------- measuring (child process)

WHERE = """
FROM charge_lines
WHERE subscription_external_id IS NOT NULL AND charge_start <= :end
  AND (charge_end >= :start OR charge_end IS NULL)
GROUP BY connection_id, subscription_external_id
"""
# The baseline: totals per subscription for the period (the cheaper of the two sums).
BASELINE_SQL = ("SELECT connection_id, subscription_external_id, SUM(CAST(total AS REAL)), "
                "COUNT(*)" + WHERE)
# Also reported: seat-days (quantity × days inside the period) with the totals.
SEAT_DAYS_SQL = ("SELECT connection_id, subscription_external_id, SUM(CAST(quantity AS REAL) * "
                 "(julianday(MIN(COALESCE(charge_end, charge_start), :end)) - "
                 "julianday(MAX(charge_start, :start)) + 1)), SUM(CAST(total AS REAL)), "
                 "COUNT(*)" + WHERE)


def baseline(path: Path, sql: str, repeat: int = 3) -> tuple[float, float, int]:
    """Median wall and CPU time of the query and fetching every group into Python."""
    times, cpu, groups = [], [], 0
    for _ in range(repeat):
        db = sqlite3.connect(path)
        started, started_cpu = time.perf_counter(), time.process_time()
        rows = db.execute(sql, {"start": START.isoformat(), "end": END.isoformat()}).fetchall()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        groups = len(rows)
        db.close()
    return statistics.median(times), statistics.median(cpu), groups


def measure(path: Path, profile: int) -> dict:
    from app.models.workspace import Workspace
    from app.services import reconcile as service

    base_s, base_cpu, groups = baseline(path, BASELINE_SQL)
    seat_days_s, _, _ = baseline(path, SEAT_DAYS_SQL)
    ws = Workspace.open(path)
    phases: dict[str, float] = {}
    last: list = [time.perf_counter(), "start"]

    def progress(done: int, total: int | None, message: str) -> None:
        """Time spent since the previous message is booked under the previous message."""
        now = time.perf_counter()
        phases[last[1]] = phases.get(last[1], 0.0) + now - last[0]
        last[:] = [now, message]

    profiler = cProfile.Profile() if profile else None
    started, started_cpu = time.perf_counter(), time.process_time() + _workers_cpu()
    last[0] = started
    if profiler:
        profiler.enable()
    report = service.reconcile_period(ws, PERIOD, user="bench", progress=progress)
    if profiler:
        profiler.disable()
    took = time.perf_counter() - started
    took_cpu = time.process_time() + _workers_cpu() - started_cpu
    progress(0, None, "end")
    closing = time.perf_counter()
    ws.close()  # waits for the checkpoint the reconcile left to run in the background
    closing_s = time.perf_counter() - closing
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(profile)
        print(out.getvalue(), file=sys.stderr)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    worker_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    scale = 1024 if sys.platform != "darwin" else 1024 * 1024
    return {"trueup_s": took, "baseline_s": base_s, "baseline_seat_days_s": seat_days_s,
            "trueup_cpu_s": took_cpu, "baseline_cpu_s": base_cpu, "closing_s": closing_s,
            "groups": groups,
            "findings": report.findings, "subscriptions": report.subscriptions,
            "phases": {k: round(v, 3) for k, v in phases.items()},
            "peak_mb": peak_kb / scale, "worker_peak_mb": worker_kb / scale}


def _workers_cpu() -> float:
    """CPU time of the reconcile workers (child processes) that have finished."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1_000_000, help="charge lines (1,000,000)")
    parser.add_argument("--db", type=Path, help="reuse a workspace generated with --keep")
    parser.add_argument("--keep", action="store_true", help="keep the generated workspace")
    parser.add_argument("--repeat", type=int, default=3, metavar="N",
                        help="TrueUp runs, each on a fresh copy; the median is reported (3)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="print the N costliest functions of the TrueUp run")
    parser.add_argument("--usage-places", type=int, default=6, choices=range(0, 19),
                        metavar="P", help="decimals of the usage amounts (6; 15: Partner "
                        "Center's daily usage)")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.profile)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp if not args.keep else tempfile.mkdtemp()) / "bench.sqlite"
        if args.keep and not args.db:
            print(f"keeping {path}", file=sys.stderr)
        sizes = {}
        if not args.db:
            print(f"generating {args.scale:,} lines into {path} ...", file=sys.stderr)
            started = time.perf_counter()
            sizes = generate(path, args.scale, usage_places=args.usage_places)
            print(f"  {sizes} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        runs, env = [], compiled(Path(tmp))
        for _ in range(args.repeat):  # each on a copy of the book as generated: a first run
            copy = Path(tmp) / "run.sqlite"
            for suffix in ("-wal", "-shm"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(path, copy)
            child = subprocess.run([sys.executable, __file__, "--measure", str(copy),
                                    "--profile", str(args.profile)],
                                   capture_output=True, text=True, check=False, env=env)
            sys.stderr.write(child.stderr)
            if child.returncode != 0:
                return child.returncode
            runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
    print(json.dumps(summarise(runs, args.scale, sizes, args.usage_places)))
    return 0


def compiled(tmp: Path) -> dict[str, str]:
    """The environment of a measuring child that finds every module it and its reconcile
    workers import compiled, as an installed TrueUp has them (pip compiles a package's
    modules once, the packaged app holds them compiled, Python's installers compile its
    standard library). The modules are compiled into a folder of `tmp`, never beside the
    sources; and since a Python looking there looks nowhere else, the standard library's
    modules are compiled into it too, once, by a child importing what a run imports: on a
    machine that sets PYTHONDONTWRITEBYTECODE, every reconcile worker would otherwise
    compile each of them again (a quarter of a second of its start)."""
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(tmp / "pycache")}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "app")], env=env,
                   check=True)
    writing = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", "import app.services.reconcile, "
                    "app.services.reconcile_worker, app.models.workspace"], env=writing,
                   cwd=ROOT, check=True)
    return env


def summarise(runs: list[dict], scale: int, sizes: dict, usage_places: int = 6) -> dict:
    """The median run of TrueUp against the median baseline, as the baseline itself is
    the median of its own repeats: one slow moment of a shared machine moves neither."""
    median = sorted(runs, key=lambda run: run["trueup_s"])[(len(runs) - 1) // 2]
    baseline_s = statistics.median(run["baseline_s"] for run in runs)
    baseline_cpu = statistics.median(run["baseline_cpu_s"] for run in runs)
    return {
        "name": "reconcile_period", "scale": scale,
        "trueup_s": round(median["trueup_s"], 3),
        "baseline_s": round(baseline_s, 3),
        "ratio": round(median["trueup_s"] / baseline_s, 1),
        "cpu_ratio": round(statistics.median(run["trueup_cpu_s"] for run in runs)
                           / max(baseline_cpu, 1e-9), 1),
        "baseline_seat_days_s": round(statistics.median(
            run["baseline_seat_days_s"] for run in runs), 3),
        "runs": [round(run["trueup_s"], 3) for run in runs],
        "baseline_runs": [round(run["baseline_s"], 3) for run in runs],
        "peak_mb": round(max(run["peak_mb"] for run in runs), 1),
        "worker_peak_mb": round(max(run["worker_peak_mb"] for run in runs), 1),
        **sizes, "usage_places": usage_places, "findings": median["findings"],
        "groups": median["groups"],
        "phases": median["phases"],
        "closing_s": round(median["closing_s"], 3),
    }


if __name__ == "__main__":
    raise SystemExit(main())
