"""What exactly-once costs: TrueUp's push protocol against a bare loop of the same requests.

    python bench/push.py [--scale N]        (default 1000)

Pushes N approved SET_QUANTITY changes to the ConnectWise sandbox served on loopback with
20 ms of simulated latency per request, through the same service the "Push approved" button
calls (durable intent, atomic claim, read before write, DONE in its own transaction, audit).
Then the same requests — GET the line, PATCH it — are sent by a bare httpx loop with no
intents and no database, to a second copy of the tenant. The ratio is the durability cost.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

import httpx  # noqa: E402
import keyring  # noqa: E402
from keyring.backend import KeyringBackend  # noqa: E402

from app.domain.actions import ActionType, PsaAction, intent_key, marker_for  # noqa: E402
from app.models.workspace import Workspace  # noqa: E402
from app.services.connections import add_connection  # noqa: E402
from app.services.push import push_approved, queue, queue_action  # noqa: E402
from app.sync.connectwise import ConnectWiseSandbox, replace_ops  # noqa: E402
from app.sync.connectwise.wire import dumps  # noqa: E402
from app.sync.sandbox.base import LoopbackServer  # noqa: E402

LATENCY_S = 0.020
TODAY = date(2026, 11, 21)
PERIOD = "2026-11"


class RunKeyring(KeyringBackend):
    """The sandbox's key, held in this process's memory for this run only (never on disk)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


class Switch:
    """Serve one tenant, then another, from the same loopback port, each request delayed."""

    def __init__(self) -> None:
        self.target: ConnectWiseSandbox | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        time.sleep(LATENCY_S)
        assert self.target is not None
        return self.target(request)


def tenant(scale: int) -> tuple[ConnectWiseSandbox, int, list[int]]:
    """A tenant with one agreement of `scale` lines (deterministic: the same for both runs)."""
    sandbox = ConnectWiseSandbox.seeded(companies=1, seed=1, today=TODAY)
    agreement = next(a for a in sandbox.agreements.values() if not a["billOneTimeFlag"])
    product = next(iter(sandbox.catalog.values()))
    lines = [sandbox.add_addition(agreement["id"], product["id"], quantity=Decimal(10),
                                  effective_date=TODAY.replace(day=1))["id"]
             for _ in range(scale)]
    return sandbox, agreement["id"], lines


def action(agreement: int, line: int) -> PsaAction:
    return PsaAction(ActionType.SET_QUANTITY, "connectwise", PERIOD, str(agreement), str(line),
                     desired={"quantity": "12"}, seen={"quantity": "10"},
                     money_effect=Decimal("14.40"))


def run_trueup(server: LoopbackServer, switch: Switch, scale: int, folder: Path) -> dict:
    sandbox, agreement, lines = tenant(scale)
    switch.target = sandbox
    keyring.set_keyring(RunKeyring())
    creds = sandbox.connector_kwargs()
    ws = Workspace.open(folder / "bench.sqlite")
    try:
        add_connection(ws, name="CW", kind="connectwise", base_url=server.url + sandbox.base_path,
                       settings={k: creds[k] for k in ("company_id", "public_key", "client_id")},
                       secret=creds["private_key"], user="bench")
        started = time.perf_counter()
        for line in lines:
            queue_action(ws, "CW", action(agreement, line), user="bench")
        queued_s = time.perf_counter() - started
        started = time.perf_counter()
        report = push_approved(ws, user="bench")
        push_s = time.perf_counter() - started
        states = {i.state for i in queue(ws)}
    finally:
        ws.close()
    writes = sandbox.writes("PATCH")
    landed = all(sandbox.additions[line]["quantity"] == 12 for line in lines)
    return {"queue_s": queued_s, "push_s": push_s, "writes": len(writes),
            "all_done": report.ok and states == {"DONE"} and len(report.outcomes) == scale,
            "landed": landed, "account": f"connectwise:{server.url + sandbox.base_path}"}


def run_baseline(server: LoopbackServer, switch: Switch, scale: int) -> dict:
    sandbox, agreement, lines = tenant(scale)
    switch.target = sandbox
    creds = sandbox.connector_kwargs()
    client = httpx.Client(
        base_url=server.url + sandbox.base_path,
        auth=(f"{creds['company_id']}+{creds['public_key']}", creds["private_key"]),
        headers={"clientId": creds["client_id"],
                 "Accept": "application/vnd.connectwise.com+json; version=2025.1"})
    started = time.perf_counter()
    with client:
        for line in lines:
            path = f"/finance/agreements/{agreement}/additions/{line}"
            client.get(path).raise_for_status()
            marker = marker_for(intent_key(action(agreement, line), "bench"))
            body = replace_ops({"quantity": Decimal(12), "serialNumber": marker})
            client.patch(path, content=dumps(body),
                         headers={"Content-Type": "application/json"}).raise_for_status()
    return {"push_s": time.perf_counter() - started, "writes": len(sandbox.writes("PATCH"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1000, help="changes to push (default 1000)")
    args = parser.parse_args(argv)
    switch = Switch()
    server = LoopbackServer(switch)
    # Without this, Nagle's algorithm and the client's delayed ACK add ~40 ms to every answer
    # on loopback, drowning the 20 ms of simulated latency (and the cost being measured).
    server.httpd.RequestHandlerClass.disable_nagle_algorithm = True
    with tempfile.TemporaryDirectory() as tmp, server:
        print(f"pushing {args.scale} changes through TrueUp ({LATENCY_S * 1000:.0f} ms per "
              "request) ...", file=sys.stderr)
        ours = run_trueup(server, switch, args.scale, Path(tmp))
        print(f"  {ours['push_s']:.2f} s; the same requests in a bare httpx loop ...",
              file=sys.stderr)
        bare = run_baseline(server, switch, args.scale)
        print(f"  {bare['push_s']:.2f} s", file=sys.stderr)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    peak_mb = peak_kb / 1024 if sys.platform != "darwin" else peak_kb / 1024 / 1024
    result = {
        "name": "push_connectwise_exactly_once",
        "scale": args.scale,
        "latency_ms": LATENCY_S * 1000,
        "trueup_s": round(ours["push_s"], 3),
        "baseline_s": round(bare["push_s"], 3),
        "ratio": round(ours["push_s"] / bare["push_s"], 3),
        "per_change_ms": round(ours["push_s"] / args.scale * 1000, 2),
        "overhead_per_change_ms": round((ours["push_s"] - bare["push_s"]) / args.scale * 1000, 2),
        "queue_s": round(ours["queue_s"], 3),
        "peak_mb": round(peak_mb, 1),
        "writes": ours["writes"],
        "writes_verified": ours["writes"] == args.scale and bare["writes"] == args.scale
        and ours["all_done"] and ours["landed"],
    }
    print(json.dumps(result))
    return 0 if result["writes_verified"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
