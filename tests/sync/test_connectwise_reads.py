"""The ConnectWise connector's reads, through real httpx against the sandbox."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import unquote

import httpx
import pytest

from app.sync.connectwise import PAGING_FORWARD, ConnectWiseConnector, ConnectWiseSandbox
from app.sync.connectwise.connector import ConnectWiseError
from app.sync.credentials import store_secret
from app.sync.sandbox.base import LoopbackServer

TODAY = date(2024, 5, 15)


@pytest.fixture()
def sandbox() -> ConnectWiseSandbox:
    return ConnectWiseSandbox.seeded(companies=8, seed=1, today=TODAY)


def big_sandbox(lines: int) -> tuple[ConnectWiseSandbox, int]:
    """One agreement with many additions, to page through."""
    sb = ConnectWiseSandbox.seeded(companies=1, seed=3, today=TODAY)
    agreement = next(a for a in sb.agreements.values() if not a["billOneTimeFlag"])
    item = next(iter(sb.catalog))
    existing = len(sb.additions_of(agreement["id"]))
    for n in range(lines - existing):
        sb.add_addition(agreement["id"], item, quantity=Decimal(n % 50 + 1),
                        effective_date=date(2024, 1, 1))
    return sb, agreement["id"]


def test_connection_reads_system_info_with_auth_client_id_and_version(sandbox):
    seen: list[httpx.Request] = []

    def spy(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return sandbox(request)

    info = sandbox.connector(transport=httpx.MockTransport(spy)).test_connection()
    assert info["isCloud"] is True and info["version"]
    request = seen[0]
    assert request.url.path == "/v4_6_release/apis/3.0/system/info"
    creds = sandbox.credentials
    token = base64.b64encode(
        f"{creds.company_id}+{creds.public_key}:{creds.private_key}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {token}"
    assert request.headers["clientId"] == creds.client_id
    assert request.headers["Accept"] == "application/vnd.connectwise.com+json; version=2025.1"


def test_wrong_key_or_missing_client_id_is_refused(sandbox):
    kwargs = {**sandbox.connector_kwargs(), "private_key": "wrong"}
    with pytest.raises(ConnectWiseError) as err:
        ConnectWiseConnector(**kwargs, transport=httpx.MockTransport(sandbox)).test_connection()
    assert err.value.status == 401 and "Authentication failed" in str(err.value)
    kwargs = {**sandbox.connector_kwargs(), "client_id": ""}
    with pytest.raises(ConnectWiseError, match="clientId"):
        ConnectWiseConnector(**kwargs, transport=httpx.MockTransport(sandbox)).test_connection()


def test_companies(sandbox):
    companies = sandbox.connector().list_companies()
    assert len(companies) == 8
    first = companies[0]
    assert first.name == "Acme Dental" and first.identifier == "AcmeDental"
    assert first.external_id == str(min(sandbox.companies)) and first.status == "Active"


def test_agreements_are_active_only_and_classified(sandbox):
    connector = sandbox.connector()
    active = connector.list_agreements()
    everything = connector.list_agreements(active_only=False)
    assert len(everything) == 16 and len(active) == 15  # the seventh customer cancelled
    assert all(a.active for a in active)
    assert [a for a in everything if not a.active][0].raw["cancelledFlag"] is True
    kinds = {a.kind for a in active}
    assert kinds == {"recurring", "one_time"}
    one_time = next(a for a in active if a.kind == "one_time")
    assert one_time.bill_one_time and one_time.type_name == "One-Time"
    monthly = next(a for a in active if a.kind == "recurring")
    assert monthly.billing_cycle == "Monthly" and monthly.prorate is True
    assert isinstance(monthly.start_date, date) and monthly.end_date is None
    company = int(monthly.company_external_id)
    assert {a.company_external_id for a in connector.list_agreements(company_id=company)} == {
        str(company)}


def test_additions_have_decimal_money_dates_and_aware_timestamps(sandbox):
    agreement = next(a for a in sandbox.agreements.values() if not a["billOneTimeFlag"])
    line_id = sandbox.additions_of(agreement["id"])[0]["id"]
    sandbox.edit_addition_externally(line_id, unitPrice=Decimal("0.045"),
                                     unitCost=Decimal("12345678.901234"))
    lines = sandbox.connector().list_additions(agreement["id"])
    assert len(lines) == len(sandbox.additions_of(agreement["id"]))
    line = next(x for x in lines if x.external_id == str(line_id))
    assert line.unit_price == Decimal("0.045") and type(line.unit_price) is Decimal
    assert line.unit_cost == Decimal("12345678.901234")
    assert type(line.quantity) is Decimal
    assert isinstance(line.effective_date, date) and not isinstance(line.effective_date, datetime)
    assert line.last_updated is not None and line.last_updated.tzinfo is not None
    assert line.last_updated.utcoffset().total_seconds() == 0
    assert line.agreement_external_id == str(agreement["id"])
    assert line.product_external_id in {str(i) for i in sandbox.catalog}
    assert line.bill_customer == "Billable" and line.is_one_time is False


def test_products_come_from_the_catalogue(sandbox):
    products = sandbox.connector().list_products()
    assert [p.identifier for p in products][:2] == ["M365-BB", "M365-BS"]
    backup = next(p for p in products if p.identifier == "BACKUP-365")
    assert backup.price == Decimal("3.5000") and backup.cost == Decimal("2.1250")


@pytest.mark.parametrize("paging", ["link", PAGING_FORWARD])
def test_2500_additions_arrive_in_three_pages(paging):
    sb, agreement_id = big_sandbox(2500)
    progress: list[tuple[int, int | None, str]] = []
    connector = sb.connector(paging=paging, page_size=1000,
                             progress=lambda d, t, m: progress.append((d, t, m)))
    lines = connector.list_additions(agreement_id)
    assert len(lines) == 2500
    assert len({x.external_id for x in lines}) == 2500
    pages = [(m, q) for m, q in sb.log if q.endswith("/additions")]
    assert len(pages) == 3
    assert [d for d, _, _ in progress] == [1000, 2000, 2500]


def test_link_paging_follows_rel_next_and_keeps_conditions():
    sb, agreement_id = big_sandbox(2500)
    seen: list[httpx.Request] = []

    def spy(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        response = sb(request)
        if request.url.params.get("page") == "1":
            link = response.headers["Link"]
            assert 'rel="next"' in link and 'rel="last"' in link and "page=3" in link
        return response

    connector = sb.connector(transport=httpx.MockTransport(spy))
    lines = connector.list_additions(agreement_id, conditions="quantity >= 1")
    assert len(lines) == 2500
    assert [r.url.params.get("page") for r in seen] == ["1", "2", "3"]
    assert all(r.url.params["conditions"] == "quantity >= 1" for r in seen)
    assert all(r.url.params["pageSize"] == "1000" for r in seen)


def test_forward_paging_sends_page_id_of_the_last_record():
    sb, agreement_id = big_sandbox(2500)
    seen: list[httpx.Request] = []
    connector = sb.connector(paging=PAGING_FORWARD, transport=httpx.MockTransport(
        lambda r: seen.append(r) or sb(r)))
    lines = connector.list_additions(agreement_id)
    ids = sorted(int(x.external_id) for x in lines)
    assert [r.url.params.get("pageId") for r in seen] == [None, str(ids[999]), str(ids[1999])]
    assert all(r.headers["pagination-type"] == "forward-only" for r in seen)
    assert all("page" not in r.url.params for r in seen)


def test_conditions_filter_only_changed_agreements(sandbox):
    cutoff = datetime(2024, 5, 1, tzinfo=UTC)
    recurring = [a for a in sandbox.agreements.values()
                 if not a["billOneTimeFlag"] and not a["cancelledFlag"]]
    for agreement in recurring:
        sandbox.touch_agreement(agreement["id"], datetime(2024, 4, 1, tzinfo=UTC))
    sandbox.touch_agreement(recurring[2]["id"], datetime(2024, 5, 2, 8, tzinfo=UTC))
    seen: list[httpx.Request] = []
    connector = sandbox.connector(transport=httpx.MockTransport(
        lambda r: seen.append(r) or sandbox(r)))
    changed = connector.list_agreements(updated_since=cutoff)
    expected = {str(recurring[2]["id"])} | {
        str(a["id"]) for a in sandbox.agreements.values()
        if a["billOneTimeFlag"] and a["_info"]["lastUpdated"] > "2024-05-01T00:00:00Z"}
    assert {a.external_id for a in changed} == expected
    query = seen[-1].url.query.decode()
    assert "+" not in query and "%20" in query  # spaces percent-encoded, brackets too
    condition = unquote(query.split("conditions=")[1].split("&")[0])
    assert condition == ('(agreementStatus="Active" and cancelledFlag=false) and '
                         "(lastUpdated>[2024-05-01T00:00:00Z])")


def test_additions_changed_since(sandbox):
    agreement = next(a for a in sandbox.agreements.values() if not a["billOneTimeFlag"])
    line = sandbox.additions_of(agreement["id"])[-1]
    sandbox.edit_addition_externally(line["id"], quantity=Decimal(3))
    since = datetime(2024, 5, 15, 9, 0, tzinfo=UTC)  # the seeded clock starts here
    changed = sandbox.connector().list_additions(agreement["id"], updated_since=since)
    assert [x.external_id for x in changed] == [str(line["id"])]


def test_bad_conditions_are_a_400_with_cw_message(sandbox):
    with pytest.raises(ConnectWiseError, match=r"GET /company/companies: HTTP 400 .*nosuch"):
        sandbox.connector().list_companies(conditions="nosuch = 1")


def test_reads_over_a_real_loopback_socket(sandbox):
    with LoopbackServer(sandbox) as server:
        kwargs = {**sandbox.connector_kwargs(),
                  "base_url": server.url + sandbox.base_path}
        with ConnectWiseConnector(**kwargs, page_size=5) as connector:
            assert connector.test_connection()["cloudRegion"] == "NA"
            assert len(connector.list_agreements()) == 15  # three pages of 5 via Link


def test_next_link_to_another_host_is_refused(sandbox):
    def evil(request: httpx.Request) -> httpx.Response:
        response = sandbox(request)
        return httpx.Response(200, content=response.content, headers={
            "Link": '<https://evil.example/steal?page=2>; rel="next"'})

    connector = sandbox.connector(transport=httpx.MockTransport(evil), page_size=2)
    with pytest.raises(ConnectWiseError, match="another host"):
        connector.list_companies()


def test_from_keyring_loads_the_private_key(sandbox):
    creds = sandbox.credentials
    store_secret("cw-main", creds.private_key)
    connector = ConnectWiseConnector.from_keyring(
        "cw-main", sandbox.base_url, creds.company_id, creds.public_key, creds.client_id,
        transport=httpx.MockTransport(sandbox))
    assert connector.test_connection()["isCloud"] is True


def test_page_size_is_capped_at_cw_limit():
    with pytest.raises(ValueError, match="1000"):
        ConnectWiseConnector("https://x", "c", "p", "k", "id", page_size=1001)


def test_seed_is_deterministic():
    def snapshot(sb: ConnectWiseSandbox) -> str:
        return repr((sb.companies, sb.agreements, sb.additions, sb.catalog))

    one = ConnectWiseSandbox.seeded(companies=6, seed=4, today=TODAY)
    assert snapshot(one) == snapshot(ConnectWiseSandbox.seeded(companies=6, seed=4, today=TODAY))
    assert snapshot(one) != snapshot(ConnectWiseSandbox.seeded(companies=6, seed=5, today=TODAY))
