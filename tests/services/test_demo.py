"""The demo workspace: a scenario for every finding kind in last month, and the month-end flow
end to end on sandboxes kept beside the workspace — offline, with no OS keyring at all."""

from __future__ import annotations

import collections
import decimal
import shutil
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from app.models.workspace import Workspace
from app.services.demo import DemoError, build_demo, ensure_demo, is_demo
from app.services.findings import KINDS, list_findings
from app.services.mapping import auto_map
from app.services.push import push_approved
from app.services.reconcile import reconcile_period
from app.services.review import decide, open_finding_ids
from app.services.sandboxes import sandbox_folder
from app.services.sync import sync_connection
from app.sync.sandbox import persist

TODAY = date(2026, 3, 18)
PERIOD = "2026-02"
SCENARIOS_ONLY = 25  # the scenario customers and nothing else: a build takes about a second


def _build(path: Path, today: date = TODAY, **kwargs: object):
    """Build with no usable keyring backend and floats trapped, as CI and a laptop without a
    Secret Service would run it."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with decimal.localcontext() as ctx:
            ctx.traps[decimal.FloatOperation] = True
            return build_demo(path, today, customers=SCENARIOS_ONLY, **kwargs)
    finally:
        keyring.set_keyring(previous)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    _build(path)
    return path


@pytest.fixture()
def demo(template, tmp_path, monkeypatch) -> Path:
    """A private copy of the built demo (workspace and sandboxes) for one test."""
    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())  # no keyring, still
    path = tmp_path / template.name
    shutil.copy2(template, path)
    shutil.copytree(sandbox_folder(template), sandbox_folder(path))
    return path


def _kinds(ws: Workspace, period: str) -> collections.Counter:
    return collections.Counter(row.kind for row in list_findings(ws, period))


def _at(hour: int):
    return lambda: datetime.combine(TODAY, time(hour), tzinfo=UTC)


@pytest.mark.parametrize("today", [TODAY, date(2024, 3, 1), date(2025, 1, 6)],
                         ids=["mid-month", "leap-february-on-the-1st", "december"])
def test_last_month_has_every_finding_kind(tmp_path, today):
    report = _build(tmp_path / "demo.sqlite", today)
    last_month = date.fromordinal(today.replace(day=1).toordinal() - 1)
    assert report.period == f"{last_month.year}-{last_month.month:02d}"
    ws = Workspace.open(tmp_path / "demo.sqlite")
    try:
        result = reconcile_period(ws, report.period, user="ann")
        kinds = _kinds(ws, report.period)
        assert set(kinds) == set(KINDS), kinds
        assert kinds["unmapped"] == 7 and kinds["quantity_drift"] == 3
        assert result.settled == 1  # the annual renewal the MSP had already charged
        assert result.skipped_non_billable == 0 and result.rounding_residuals == 0
    finally:
        ws.close()


def test_the_numbers_follow_from_the_scenarios(demo):
    ws = Workspace.open(demo)
    try:
        reconcile_period(ws, PERIOD, user="ann")
        rows = {(r.customer_name, r.kind): r for r in list_findings(ws, PERIOD)}
    finally:
        ws.close()
    # February 2026 has 28 days; ConnectWise counts the effective day: 3 seats from the 12th
    drift = rows[("Summit Dental Group", "quantity_drift")]
    assert (drift.vendor_quantity, drift.psa_quantity) == (13, 10)
    assert drift.amount == (Decimal("26.40") * 3 * 17 / 28).quantize(Decimal("0.01"))
    assert rows[("Riverbend Accounting", "quantity_drift")].amount < 0  # a credit
    assert rows[("Ironwood Construction", "billed_but_cancelled")].amount == \
        Decimal("-43.20") * 12
    cost = rows[("Granite Peak Engineering", "cost_change")]
    assert cost.actions[0]["desired"] == {"unit_cost": "20.79", "unit_price": "23.10"}
    margin = rows[("Maple Grove Veterinary", "negative_margin")]  # confirmed fuzzy match
    assert margin.actions[0]["desired"] == {"unit_price": "36.00"}
    annual = rows[("Copper Canyon Realty", "annual_charge_missing")]
    assert annual.amount == Decimal("264.00") * 12  # A/A at the list price
    assert annual.actions[0]["type"] == "one_time_charge"
    usage = rows[("Bayview Logistics", "usage_charge")]  # Partner Center usage, cost + 15 %
    assert usage.actions[0]["type"] == "one_time_charge" and usage.amount > 0
    mismatch = rows[("Pinecrest Physical Therapy", "vendor_invoice_mismatch")]
    assert mismatch.actions == () and "4 seat-days" in mismatch.summary
    unmapped = [r for (customer, kind), r in rows.items() if kind == "unmapped"]
    assert {r.customer_name for r in unmapped} == {
        "Northgate Insurance Agency", "Silver Creek Title & Escrow", "Evergreen Architects",
        "Stonegate Family Law"}


def test_month_end_end_to_end_then_nothing_new(demo):
    state = sandbox_folder(demo) / "connectwise.json"
    ws = Workspace.open(demo)
    try:
        first = reconcile_period(ws, PERIOD, user="ann")
        ids = open_finding_ids(ws, PERIOD)
        decisions = decide(ws, ids, "approve", user="ann")
        queued = sum(len(d.intents) for d in decisions)
        assert queued >= 15
        before = state.read_bytes()
        report = push_approved(ws, user="ann")
        assert report.ok and report.count("DONE") == queued
        sandbox = persist.load(state, "connectwise")  # the writes outlived the push
        assert len(sandbox.write_log) == queued and state.read_bytes() != before

        for name in ("ConnectWise (demo)", "Pax8 (demo)"):
            assert sync_connection(ws, name, clock=_at(13)).status == "complete"
        pushed = {r.id for r in list_findings(ws, PERIOD) if r.status == "pushed"}
        assert len(pushed) == len([d for d in decisions if d.intents])
        again = reconcile_period(ws, PERIOD, user="ann")
        assert (again.new, again.changed, again.reopened) == (0, 0, 0)
        assert again.findings < first.findings
        assert {r.id for r in list_findings(ws, PERIOD, status="pushed")} == pushed

        auto_map(ws, "ann", today=TODAY)  # the pushed lines and charges get mapped too
        third = reconcile_period(ws, PERIOD, user="ann")
        assert (third.new, third.changed) == (0, 0)
        assert {r.id for r in list_findings(ws, PERIOD, status="pushed")} == pushed
        assert push_approved(ws, user="ann").outcomes == []
    finally:
        ws.close()


def test_a_sync_reads_the_sandboxes_and_writes_nothing_back(demo):
    folder = sandbox_folder(demo)
    before = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.json")}
    ws = Workspace.open(demo)
    try:
        result = sync_connection(ws, "Pax8 (demo)", clock=_at(14))
        assert result.status == "complete" and result.counts["histories"] == 0
    finally:
        ws.close()
    assert {p.name: p.stat().st_mtime_ns for p in folder.glob("*.json")} == before


def test_the_same_today_builds_the_same_demo(template, tmp_path):
    _build(tmp_path / "again.sqlite")
    ours, theirs = sandbox_folder(template), sandbox_folder(tmp_path / "again.sqlite")
    files = sorted(p.relative_to(ours) for p in ours.rglob("*") if p.is_file()
                   and not p.name.endswith(".lock"))
    assert files and all((ours / f).read_bytes() == (theirs / f).read_bytes() for f in files)


def test_a_second_build_refuses_unless_forced(tmp_path):
    path = tmp_path / "demo.sqlite"
    _build(path)
    with pytest.raises(DemoError, match="already exists.*--force"):
        _build(path)
    assert ensure_demo(path) == path  # opening it does not rebuild it
    ws = Workspace.open(path)
    try:
        reconcile_period(ws, PERIOD, user="ann")
    finally:
        ws.close()
    _build(path, force=True)
    ws = Workspace.open(path)
    try:
        assert list_findings(ws, PERIOD) == []  # a fresh demo
    finally:
        ws.close()


def test_an_ordinary_workspace_is_never_overwritten(tmp_path):
    path = tmp_path / "mine.sqlite"
    Workspace.open(path).close()
    size = path.stat().st_size
    for force in (False, True):
        with pytest.raises(DemoError, match="not a demo"):
            _build(path, force=force)
    with pytest.raises(DemoError, match="not the demo"):
        ensure_demo(path)
    assert not is_demo(path) and path.stat().st_size == size
    assert not sandbox_folder(path).exists()


def test_the_demo_needs_a_workspace_file():
    with pytest.raises(DemoError, match="workspace file"):
        build_demo("postgresql://db.example/trueup", TODAY)
