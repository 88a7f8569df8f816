"""The Autotask connector's reads, through real httpx against the sandbox."""

from __future__ import annotations

import json
from datetime import UTC, date, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.sync.autotask import AutotaskConnector, AutotaskError, AutotaskSandbox, NotVisibleError
from app.sync.autotask import sandbox_data as data
from app.sync.credentials import store_secret

TODAY = date(2024, 5, 15)
LOOKUP = "https://webservices.autotask.invalid/atservicesrest"


@pytest.fixture()
def sandbox() -> AutotaskSandbox:
    return AutotaskSandbox.seeded(companies=8, seed=1, today=TODAY)


def spy_on(sb: AutotaskSandbox) -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return sb(request)

    return seen, httpx.MockTransport(handler)


def test_zone_lookup_by_user_then_credentials_only_to_the_zone(sandbox):
    sandbox.zone_origin = "https://webservices14.autotask.invalid"
    seen, transport = spy_on(sandbox)
    kw = sandbox.connector_kwargs()
    connector = AutotaskConnector(kw["username"], kw["secret"], kw["integration_code"],
                                  lookup_url=LOOKUP, transport=transport)
    companies = connector.list_companies()
    assert connector.zone_url == "https://webservices14.autotask.invalid/ATServicesRest"
    lookup = seen[0]
    assert lookup.method == "GET" and lookup.url.host == "webservices.autotask.invalid"
    assert lookup.url.path == "/atservicesrest/V1.0/zoneInformation"
    assert lookup.url.params["user"] == kw["username"]
    assert "Secret" not in lookup.headers and "ApiIntegrationCode" not in lookup.headers
    for request in seen[1:]:
        assert request.url.host == "webservices14.autotask.invalid"
        assert request.headers["UserName"] == kw["username"]
        assert request.headers["Secret"] == kw["secret"]
        assert request.headers["ApiIntegrationCode"] == kw["integration_code"]
    assert len(companies) == 8


def test_zone_lookup_for_an_unknown_user_says_so(sandbox):
    connector = AutotaskConnector("nobody@example.invalid", "x", "y", lookup_url=LOOKUP,
                                  transport=httpx.MockTransport(sandbox))
    with pytest.raises(AutotaskError, match="no Autotask zone was found for API user "
                       "'nobody@example.invalid'"):
        connector.test_connection()


def test_a_given_zone_url_skips_the_lookup(sandbox):
    seen, transport = spy_on(sandbox)
    info = sandbox.connector(transport=transport).test_connection()
    assert info["zone_url"] == sandbox.base_url
    assert [r.url.path for r in seen] == ["/ATServicesRest/V1.0/ThresholdInformation"]


def test_wrong_secret_is_refused_with_guidance(sandbox):
    connector = sandbox.connector(secret="wrong")
    with pytest.raises(AutotaskError, match="did not accept the API user name, secret or "
                       "integration code") as err:
        connector.list_companies()
    assert err.value.status == 401


def test_from_keyring(sandbox):
    kw = sandbox.connector_kwargs()
    store_secret("AT", kw["secret"])
    connector = AutotaskConnector.from_keyring(
        "AT", kw["username"], kw["integration_code"], zone_url=kw["zone_url"],
        transport=httpx.MockTransport(sandbox))
    assert len(connector.list_companies()) == 8


def test_companies_are_customers_only_in_camel_case_wire_format(sandbox):
    seen, transport = spy_on(sandbox)
    companies = sandbox.connector(transport=transport).list_companies()
    names = {c.name for c in companies}
    assert "Northwind Prospect" not in names and "Contoso Distribution (vendor)" not in names
    first = companies[0]
    assert first.identifier == "CUST0001" and first.status == "Active"
    assert first.raw["companyType"] == 1
    query = next(r for r in seen if r.url.path.endswith("/Companies/query"))
    assert query.method == "POST"
    assert json.loads(query.content) == {
        "filter": [{"op": "in", "field": "companyType", "value": [1]}], "maxRecords": 500}
    all_companies = sandbox.connector().list_companies(customers_only=False)
    assert len(all_companies) == 10


def test_contracts_are_active_recurring_and_fixed_price(sandbox):
    contracts = sandbox.connector().list_contracts()
    kinds = {c.kind for c in contracts}
    assert kinds == {"recurring", "fixed_price"}
    assert all(c.active for c in contracts)
    inactive = [c for c in sandbox.contracts.values() if c["status"] == data.INACTIVE]
    assert inactive and not {str(c["id"]) for c in inactive} & {c.external_id for c in contracts}
    recurring = next(c for c in contracts if c.kind == "recurring")
    assert recurring.type_name == "Recurring Service" and recurring.billing_cycle == "Monthly"
    assert isinstance(recurring.start_date, date) and recurring.prorate
    everything = sandbox.connector().list_contracts(active_only=False)
    assert len(everything) == len(sandbox.contracts)


def test_fixed_price_contract_of_a_customer(sandbox):
    company = next(iter(sandbox.companies.values()))
    found = sandbox.connector().fixed_price_contract(company["id"])
    assert found is not None and found.kind == "fixed_price"
    assert found.company_external_id == str(company["id"])


def test_picklists_come_from_the_tenant(sandbox):
    """A tenant whose Recurring Service type is 17: the connector asks instead of assuming."""
    for field in sandbox.entity_fields["Contracts"]:
        if field["name"] == "ContractType":
            for value in field["picklistValues"]:
                if value["label"] == "Recurring Service":
                    value["value"] = "17"
    for contract in sandbox.contracts.values():
        if contract["contractType"] == data.RECURRING_SERVICE:
            contract["contractType"] = 17
    contracts = sandbox.connector().list_contracts(kinds=("recurring",))
    assert contracts and all(c.raw["contractType"] == 17 for c in contracts)


def test_missing_picklist_label_is_an_error_not_a_guess(sandbox):
    for field in sandbox.entity_fields["Companies"]:
        for value in field["picklistValues"]:
            if value["label"] == "Customer":
                value["label"] = "Client"
    with pytest.raises(AutotaskError, match="companyType picklist has no 'customer' value"):
        sandbox.connector().list_companies()


def test_contract_service_quantity_is_the_units_of_the_day(sandbox):
    contract = next(c for c in sandbox.contracts.values()
                    if c["contractType"] == data.RECURRING_SERVICE and c["status"] == 1)
    line = next(s for s in sandbox.contract_services.values()
                if s["contractID"] == contract["id"])
    before = sandbox.units_on(line["id"], TODAY)
    sandbox.set_units_externally(line["id"], before + 5, effective=TODAY)
    connector = sandbox.connector()
    lines = {ln.external_id: ln for ln in
             connector.list_contract_services(as_of=TODAY, contract_ids=[contract["id"]])}
    now = lines[str(line["id"])]
    assert now.quantity == Decimal(before + 5) and now.effective_date == TODAY
    assert now.unit_price == line["unitPrice"] and isinstance(now.unit_price, Decimal)
    earlier = {ln.external_id: ln for ln in connector.list_contract_services(
        as_of=TODAY - timedelta(days=1), contract_ids=[contract["id"]])}
    assert earlier[str(line["id"])].quantity == Decimal(before)
    assert earlier[str(line["id"])].effective_date == TODAY.replace(day=1)


def test_units_are_split_at_the_effective_date(sandbox):
    line = next(iter(sandbox.contract_services.values()))
    sandbox.set_units_externally(line["id"], 3, effective=date(2024, 5, 10))
    rows = sandbox.connector().list_units(contract_service_id=line["id"])
    may = [r for r in rows if r.start_date and r.start_date.month == 5
           and r.start_date.year == 2024]
    assert [(r.start_date, r.end_date) for r in may] == [
        (date(2024, 5, 1), date(2024, 5, 9)), (date(2024, 5, 10), date(2024, 5, 31))]
    assert may[1].units == Decimal(3)
    assert all(r.units == Decimal(3) for r in rows if r.start_date > date(2024, 5, 10))


def test_charges_and_services(sandbox):
    connector = sandbox.connector()
    charges = connector.list_contract_charges()
    assert charges and all(c.is_one_time for c in charges)
    charge = charges[0]
    assert charge.external_id.startswith("charge:") and charge.unit_price == Decimal("316.80")
    assert charge.last_updated is not None and charge.last_updated.tzinfo == UTC
    services = connector.list_services()
    assert {s.identifier for s in services} >= {"M365 Business Premium", "Backup for M365"}
    backup = next(s for s in services if s.identifier == "Backup for M365")
    assert backup.price == Decimal("3.5000") and backup.cost == Decimal("2.1250")


def test_snapshot_holds_customers_contracts_lines_and_charges(sandbox):
    snap = sandbox.connector().snapshot(as_of=TODAY)
    assert snap.complete and len(snap.companies) == 8
    contract_ids = {c.external_id for c in snap.agreements}
    assert all(line.agreement_external_id in contract_ids for line in snap.lines)
    assert any(line.is_one_time for line in snap.lines)
    recurring = [ln for ln in snap.lines if not ln.is_one_time]
    assert recurring and all(ln.quantity > 0 for ln in recurring)
    assert {ln.description for ln in recurring} <= {p.identifier for p in snap.products}


def test_a_get_by_id_that_returns_nothing_is_a_permission_or_zone_problem(sandbox):
    contract = next(iter(sandbox.contracts.values()))
    sandbox.hide("Contracts", contract["id"])
    with pytest.raises(NotVisibleError) as err:
        sandbox.connector().get_contract(contract["id"])
    text = str(err.value)
    assert "permission or zone problem, not a missing record" in text
    assert f"GET /V1.0/Contracts/{contract['id']}" in text
    with pytest.raises(NotVisibleError):
        sandbox.connector().get_contract_service(10**9)


# ------------------------------------------------------------------ paging


def _many_companies(sb: AutotaskSandbox, n: int) -> None:
    for i in range(n):
        sb.add_company(f"Paging Customer {i}", number=f"P{i:05d}")


def _many_contracts(sb: AutotaskSandbox, n: int) -> None:
    company = next(iter(sb.companies))
    for i in range(n):
        sb.add_contract(company, f"Contract {i}", start=date(2024, 5, 1), end=date(2024, 5, 31))


def _many_services(sb: AutotaskSandbox, n: int) -> None:
    for i in range(n):
        sb.add_service(f"Service {i}", price=Decimal("1.10"), cost=Decimal("0.55"))


def _many_lines(sb: AutotaskSandbox, n: int) -> None:
    company = next(iter(sb.companies))
    contract = sb.add_contract(company, "Big", start=date(2024, 5, 1), end=date(2024, 5, 31))
    service = next(iter(sb.services))
    for i in range(n):
        sb.add_contract_service(contract["id"], service, units=i % 9 + 1)


def _many_charges(sb: AutotaskSandbox, n: int) -> None:
    contract = next(iter(sb.contracts))
    for i in range(n):
        sb.add_charge(contract, f"Charge {i}", quantity=Decimal(1), price=Decimal("9.99"),
                      purchased=date(2024, 5, 2))


def _expected(sb: AutotaskSandbox, entity: str) -> int:
    if entity == "Companies":
        return sum(1 for c in sb.companies.values() if c["companyType"] == data.CUSTOMER)
    if entity == "Contracts":
        return sum(1 for c in sb.contracts.values() if c["status"] == data.ACTIVE)
    if entity == "ContractServiceUnits":
        return sum(1 for r in sb.units.values()
                   if r["startDate"][:10] <= TODAY.isoformat() <= r["endDate"][:10])
    return len(sb.store(entity))


PAGED = {
    "Companies": (_many_companies, lambda c: c.list_companies()),
    "Contracts": (_many_contracts, lambda c: c.list_contracts()),
    "Services": (_many_services, lambda c: c.list_services()),
    "ContractServices": (_many_lines, lambda c: c.list_contract_services(as_of=TODAY)),
    "ContractServiceUnits": (_many_lines, lambda c: c.list_units(on=TODAY)),
    "ContractCharges": (_many_charges, lambda c: c.list_contract_charges()),
}


@pytest.mark.parametrize("entity", list(PAGED))
def test_reads_follow_next_page_urls_past_500_records(entity):
    sb = AutotaskSandbox.seeded(companies=1, seed=4, today=TODAY)
    grow, read = PAGED[entity]
    grow(sb, 1010)
    seen, transport = spy_on(sb)
    progress: list[str] = []
    records = read(sb.connector(transport=transport,
                                progress=lambda d, t, m: progress.append(m)))
    ids = [r.external_id for r in records]
    assert len(ids) == len(set(ids)) == _expected(sb, entity)
    pages = [r for r in seen if f"/{entity}/query" in r.url.path]
    assert [r.method for r in pages] == ["POST", "GET", "GET"]
    for request in pages[1:]:
        params = parse_qs(urlsplit(str(request.url)).query)
        assert json.loads(params["paging"][0])["after"] > 0 and "search" in params
    assert f"{entity}: 500 read" in progress and f"{entity}: 1000 read" in progress
