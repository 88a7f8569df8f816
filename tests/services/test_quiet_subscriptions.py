"""Subscriptions found plainly in step in SQL, before their rows are read, are exactly ones the
fact builder would have counted as in step: a book read in a share (less them) builds the
same facts and the same in-step count as the whole book read and checked row by row."""

from __future__ import annotations

import itertools
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.domain.reconciliation import policy_resolver
from app.domain.reconciliation.facts import ChargeCategory, charge_category
from app.domain.reconciliation.findings import finding_reference
from app.domain.reconciliation.quiet import PLAIN_SEAT_CHARGE_TYPES
from app.domain.seat_history import states_seats
from app.models import entities as m
from app.models.workspace import Workspace
from app.services import quiet_subscriptions
from app.services.reconcile import one_snapshot, parse_period
from app.services.reconcile_book import SUB_EXTERNAL, build_facts
from app.services.reconcile_charges import UsageRead
from app.services.reconcile_facts import plan_shares, read_book
from tests.fixtures.connections import pax8_and_connectwise

PERIOD = parse_period("2026-03")
MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A migrated workspace with its connections, customers, companies and agreements."""
    path = tmp_path_factory.mktemp("quiet") / "template.sqlite"
    ws = Workspace.open(path)
    with ws.begin() as s:
        pax8, cw = pax8_and_connectwise(s)
        for n in range(3):  # c0 and c1 mapped to a company, c2 not
            customer = m.VendorCustomer(connection_id=pax8.id, external_id=f"c{n}",
                                        name=f"Customer {n}")
            s.add(customer)
            s.flush()
            if n == 2:
                continue
            company = m.PsaCompany(connection_id=cw.id, external_id=f"{19 + n}",
                                   name=f"Company {n}")
            s.add(company)
            s.flush()
            s.add(m.CustomerMapping(vendor_customer_id=customer.id, psa_company_id=company.id,
                                    method="manual", created_by="ann"))
            for kind in ("recurring", "one_time", "fixed_price"):
                s.add(m.PsaAgreement(connection_id=cw.id, company_id=company.id,
                                     external_id=f"{kind}-{n}", name=kind, kind=kind))
        vp = m.VendorProduct(connection_id=pax8.id, sku="E3", name="Microsoft 365 E3")
        pp = m.PsaProduct(connection_id=cw.id, external_id="5", identifier="M365-E3",
                          price=Decimal(22), cost=Decimal("19.80"))
        s.add_all([vp, pp])
        s.flush()
        s.add(m.ProductMapping(vendor_product_id=vp.id, psa_product_id=pp.id, method="manual",
                               created_by="ann"))
    ws.close()
    return path


# What a subscription, its PSA line and its charge lines can be, each field drawn among values
# either side of every condition of the rule (and the same numbers written differently).
CHARGE = st.tuples(
    st.sampled_from(["cycleCharge", "new", "Cycle fee", "subscription", "discount", "usage"]),
    st.sampled_from([(MARCH, date(2026, 3, 31)), (date(2026, 2, 15), date(2026, 4, 14)),
                     (date(2026, 3, 5), date(2026, 3, 31)), (MARCH, None),
                     (date(2026, 2, 1), None),
                     (date(2026, 1, 1), date(2026, 1, 31)), (MARCH, date(2026, 3, 30)),
                     (MARCH, date(9999, 12, 31)), (MARCH, MARCH),
                     (date(2026, 2, 28), date(2026, 2, 28))]),
    st.sampled_from(["10", "10.0", "0", "-10", "10"]),
    st.sampled_from(["USD", "USD", "EUR"]),
    st.booleans())
LINE = st.fixed_dictionaries({
    "quantity": st.sampled_from(["10", "10.0", "9"]),
    "unit_cost": st.sampled_from([None, "5.40", "5.4", "5.41"]),
    "unit_price": st.sampled_from([None, "6.00", "5.40", "5.39", "5.400000000001"]),
    "effective": st.sampled_from([None, date(2025, 1, 1), MARCH, date(2026, 3, 2)]),
    "cancelled": st.sampled_from([None, None, date(2026, 5, 1)]),
    "agreement": st.sampled_from(["recurring", "recurring", "one_time", "fixed_price"]),
    "is_one_time": st.booleans(),
    "missing": st.sampled_from([False, False, True]),
    "stepped": st.sampled_from([False, False, True]),
})
SUBSCRIPTION = st.fixed_dictionaries({
    "customer": st.sampled_from([0, 0, 1, 2]),
    "sku": st.sampled_from(["E3", "E5"]),
    "status": st.sampled_from(["Active", " active ", "ACTIVE", "Suspended", "Cancelled",
                               "Trial"]),
    "frequency": st.sampled_from(["Monthly", " monthly", "Annual", "Usage", None]),
    "term": st.sampled_from([None, "P1M", "P1Y", "Trial", "P1Mtrial"]),
    "end": st.sampled_from([None, None, date(2026, 3, 31), date(2026, 3, 30),
                            date(2026, 4, 30)]),
    "unit_cost": st.sampled_from([None, "0", "0.00", "5.40", "5.4", "5.41"]),
    "lot": st.sampled_from([False, False, True]),
    "lines": st.lists(LINE, max_size=2),
    "charges": st.lists(CHARGE, max_size=3),
})
ONE_TIME = st.tuples(st.sampled_from([0, 1]),
                     st.sampled_from(["Usage for March", "TrueUp R-0000000000", "trueup r-",
                                      "\u212a usage", None, "tag"]),
                     st.sampled_from([date(2026, 3, 5), date(2026, 5, 15), date(2026, 2, 1)]))
RULES = st.lists(st.sampled_from([
    ("vendor", "pax8", "exclude", "true"), ("customer", "c1", "internal", "true"),
    ("customer", "20", "exclude", "true"), ("product", "E5", "exclude", "true"),
    ("product", "5", "negative_margin_alert", "false"), ("vendor", "pax8", "markup", "list"),
    ("global", "", "negative_margin_alert", "false"), ("global", "", "exclude", "true")]),
    max_size=2, unique=True)

_copies = itertools.count()


def _workspace(template: Path) -> Workspace:
    path = template.with_name(f"book-{next(_copies)}.sqlite")
    shutil.copyfile(template, path)
    return Workspace.open(path)


def _add(ws: Workspace, subscriptions: list[dict], one_time: list[tuple], rules: list[tuple]
         ) -> None:
    with ws.begin() as s:
        pax8 = s.query(m.Connection).filter_by(kind="pax8").one()
        cw = s.query(m.Connection).filter_by(kind="connectwise").one()
        customers = {c.external_id: c for c in s.query(m.VendorCustomer)}
        agreements = {a.external_id: a for a in s.query(m.PsaAgreement)}
        for scope, ref, key, value in rules:
            s.add(m.PolicyRule(scope=scope, scope_ref=ref, key=key, value=value))
        for n, spec in enumerate(subscriptions):
            customer = spec["customer"]
            sub = m.VendorSubscription(
                connection_id=pax8.id, customer_id=customers[f"c{customer}"].id,
                external_id=f"s{n}", sku=spec["sku"], product_name="Microsoft 365",
                quantity=Decimal(10), unit_cost=_decimal(spec["unit_cost"]), currency="USD",
                term=spec["term"], billing_frequency=spec["frequency"],
                start_date=date(2025, 1, 1), end_date=spec["end"], status=spec["status"])
            s.add(sub)
            s.flush()
            if spec["lot"]:
                s.add(m.SeatLot(subscription_id=sub.id, quantity=Decimal(10),
                                start_date=date(2025, 1, 1), source="history"))
            for k, line in enumerate(spec["lines"]):
                agreement = agreements[f"{line['agreement']}-{min(customer, 1)}"]
                row = m.PsaBillingLine(
                    connection_id=cw.id, agreement_id=agreement.id, external_id=f"l{n}-{k}",
                    product_external_id="5", quantity=Decimal(line["quantity"]),
                    unit_price=_decimal(line["unit_price"]),
                    unit_cost=_decimal(line["unit_cost"]), effective_date=line["effective"],
                    cancelled_date=line["cancelled"], is_one_time=line["is_one_time"],
                    description="Microsoft 365",
                    missing_since=datetime(2026, 3, 2, tzinfo=UTC) if line["missing"] else None)
                s.add(row)
                s.flush()
                s.add(m.SubscriptionMapping(vendor_subscription_id=sub.id,
                                            psa_billing_line_id=row.id, method="manual",
                                            created_by="ann"))
                if line["stepped"]:
                    s.add(m.PushIntent(
                        key=f"k{n}-{k}", marker=f"m{n}-{k}", connection_id=cw.id,
                        action_type="set_quantity", entity="addition",
                        target_ref={"line": f"l{n}-{k}"}, seen_state={"quantity": "8"},
                        desired_state={"quantity": line["quantity"]},
                        payload={"effective_date": "2026-02-01"}, state="DONE"))
            for k, (kind, (start, end), quantity, currency, usage) in enumerate(spec["charges"]):
                s.add(m.ChargeLine(
                    connection_id=pax8.id, line_key=f"k{n}-{k}", customer_external_id="c",
                    subscription_external_id=f"s{n}", sku=spec["sku"], charge_type=kind,
                    charge_start=start, charge_end=end, quantity=Decimal(quantity),
                    unit_price=Decimal("5.40"), total=Decimal("54.00"), currency=currency,
                    invoice_number="G1", is_usage=usage))
        for k, (company, description, effective) in enumerate(one_time):
            if description == "tag":  # the reference of the first subscription's finding
                description = f"True-up {finding_reference('pax8', 's0', PERIOD)}"
            s.add(m.PsaBillingLine(
                connection_id=cw.id, agreement_id=agreements[f"one_time-{company}"].id,
                external_id=f"o{k}", quantity=Decimal(1), unit_price=Decimal(5),
                effective_date=effective, description=description, is_one_time=True))


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _facts_both_ways(ws: Workspace) -> tuple[tuple, tuple, int]:
    """(facts and in-step count of the whole book, the same of it read as one share, how
    many subscriptions the share's read left unread)."""
    with ws.begin() as session:
        one_snapshot(session)
        usage = UsageRead(session, PERIOD)
        whole = read_book(session, PERIOD)
        [part] = plan_shares(session, PERIOD, 1).read(
            session.connection().connection.driver_connection, [0]).values()
        part.usage = dict(usage.groups(session))
    policy_for = policy_resolver(whole.rules)
    built, built_whole = build_facts(part, PERIOD, policy_for), \
        build_facts(whole, PERIOD, policy_for)
    assert sum(part.quiet.values()) == len(whole.subs) - len(part.subs)
    unread = {row[SUB_EXTERNAL] for row in whole.subs} - {row[SUB_EXTERNAL] for row in part.subs}
    return (built_whole.facts, built_whole.in_step), (built.facts, built.in_step), len(unread)


PLAIN = {"customer": 0, "sku": "E3", "status": "Active", "frequency": "Monthly", "term": "P1M",
         "end": None, "unit_cost": "5.40", "lot": False,
         "lines": [{"quantity": "10", "unit_cost": "5.40", "unit_price": "6.00",
                    "effective": date(2025, 1, 1), "cancelled": None, "agreement": "recurring",
                    "is_one_time": False, "missing": False, "stepped": False}],
         "charges": [("cycleCharge", (MARCH, date(2026, 3, 31)), "10", "USD", False)]}


@st.composite
def _near_plain(draw) -> dict:  # noqa: ANN001
    """A plainly billed subscription with a field or two (of it or its line) drawn anyhow,
    or a charge line more."""
    other, line = draw(SUBSCRIPTION), draw(LINE)
    fields = draw(st.sets(st.sampled_from(sorted(PLAIN)), max_size=2))
    line_fields = draw(st.sets(st.sampled_from(sorted(line)), max_size=2))
    spec = {**PLAIN, **{name: other[name] for name in fields}}
    if "lines" not in fields:
        spec["lines"] = [{**PLAIN["lines"][0], **{name: line[name] for name in line_fields}}]
    if "charges" not in fields and draw(st.booleans()):
        spec["charges"] = [*spec["charges"], draw(CHARGE)]
    return spec


def _line(**changes):  # noqa: ANN003, ANN202
    return {**PLAIN, "lines": [{**PLAIN["lines"][0], **changes}]}


@pytest.mark.parametrize(("subscription", "one_time", "rules", "unread"), [
    (PLAIN, [], [], 1),
    (PLAIN, [(0, "Usage for March", date(2026, 3, 5))], [("vendor", "pax8", "markup", "list")],
     1),
    ({**PLAIN, "charges": [*PLAIN["charges"],  # last month's line: history, not March's
                           ("cycleCharge", (date(2026, 2, 1), date(2026, 2, 28)), "10", "USD",
                            False)]}, [], [], 1),
    # every rule says "loud" for one reason, and the rows are read
    ({**PLAIN, "unit_cost": "5.4"}, [], [], 0),  # equal, written otherwise
    (_line(unit_price="5.39"), [], [], 0),  # below cost
    (_line(stepped=True), [], [], 0),
    ({**PLAIN, "charges": PLAIN["charges"] * 2}, [], [], 0),
    ({**PLAIN, "charges": [*PLAIN["charges"],  # seats added mid-March
                           ("addQuantity", (date(2026, 3, 17), date(2026, 3, 31)), "2",
                            "USD", False)]}, [], [], 0),
    ({**PLAIN, "lot": True}, [], [], 0),  # seat lots: the checks build the timeline
    ({**PLAIN, "charges": [*PLAIN["charges"],  # usage spanning into March
                           ("usage", (date(2026, 2, 15), date(2026, 4, 14)), "1", "USD",
                            True)]}, [], [], 0),
    ({**PLAIN, "charges": [*PLAIN["charges"],  # a day's usage on the period's first day
                           ("usage", (MARCH, MARCH), "1", "USD", True)]}, [], [], 0),
    ({**PLAIN, "charges": [*PLAIN["charges"],  # an open-ended line from February on
                           ("cycleCharge", (date(2026, 2, 1), None), "10", "USD", False)]},
     [], [], 0),
    (PLAIN, [(0, "TrueUp R-0000000000", date(2026, 3, 5))], [], 0),
    (PLAIN, [(0, "\u212a usage", date(2026, 3, 5))], [], 0),
    (PLAIN, [], [("customer", "c0", "internal", "true")], 0),
    ({**PLAIN, "customer": 1}, [], [], 1),  # each customer's own company
    ({**PLAIN, "customer": 2}, [], [], 0),  # a customer mapped to no company
    (PLAIN, [], [("customer", "19", "exclude", "true")], 0),  # its company named by a rule
    ({**PLAIN, "customer": 1}, [], [("customer", "19", "exclude", "true")], 1),
])
def test_a_plainly_billed_subscription_is_counted_unread(template, subscription, one_time,
                                                        rules, unread):
    ws = _workspace(template)
    try:
        _add(ws, [subscription], one_time, rules)
        whole, shared, left = _facts_both_ways(ws)
    finally:
        ws.close()
    assert shared == whole and left == unread


def test_the_plain_seat_charge_types_state_seats_and_are_not_usage():
    for kind in PLAIN_SEAT_CHARGE_TYPES:
        assert states_seats(kind) and charge_category(kind) is not ChargeCategory.USAGE, kind


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(subscriptions=st.lists(st.one_of(SUBSCRIPTION, _near_plain()), min_size=1, max_size=8),
       one_time=st.lists(ONE_TIME, max_size=2), rules=RULES)
def test_a_share_less_its_quiet_subscriptions_builds_the_whole_books_facts(
        template, subscriptions, one_time, rules):
    ws = _workspace(template)
    try:
        _add(ws, subscriptions, one_time, rules)
        whole, shared, unread = _facts_both_ways(ws)
    finally:
        ws.close()
    event(f"unread: {min(unread, 2)}")
    assert shared == whole


def test_a_statement_without_the_searched_lines_is_refused_rather_than_left_unindexed():
    with pytest.raises(ValueError, match="plain_line"):
        quiet_subscriptions.indexed("SELECT 1 FROM charge_lines AS later_line")
