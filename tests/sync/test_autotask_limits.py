"""Autotask's limits: 3 requests in flight per endpoint, and the tenant's hourly threshold."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import httpx
import pytest

from app.sync.autotask import (
    AutotaskConnector,
    AutotaskSandbox,
    EndpointLimiter,
    ThresholdExhaustedError,
)
from app.sync.autotask.throttle import endpoint_of
from app.sync.http import CancelledError
from app.sync.sandbox.base import SLOW, LoopbackServer

TODAY = date(2024, 5, 15)


@pytest.fixture()
def sandbox() -> AutotaskSandbox:
    return AutotaskSandbox.seeded(companies=4, seed=3, today=TODAY)


def _loopback_connector(sb: AutotaskSandbox, server: LoopbackServer, **kwargs) -> AutotaskConnector:
    kw = {**sb.connector_kwargs(), "zone_url": server.url + sb.base_path}
    return AutotaskConnector(**kw, **kwargs)


def test_endpoint_of_counts_child_paths_against_their_entity():
    assert endpoint_of("/ATServicesRest/V1.0/Companies/query") == "companies"
    assert endpoint_of("/V1.0/Companies/29700001") == "companies"
    assert endpoint_of("/V1.0/Contracts/12/Services") == "contractservices"
    assert endpoint_of("/V1.0/Contracts/12/Charges") == "contractcharges"
    assert endpoint_of("/atservicesrest/v1.0/zoneInformation") == "zoneinformation"


def test_the_sandbox_refuses_a_fourth_concurrent_request_on_one_endpoint(sandbox):
    """Raw clients with no limiter: proof that the fake would catch a connector that cheats."""
    sandbox.inject(SLOW, 0.3, path="/Companies/", times=6)
    company = next(iter(sandbox.companies))
    c = sandbox.credentials
    headers = {"UserName": c.username, "Secret": c.secret,
               "ApiIntegrationCode": c.integration_code}
    with LoopbackServer(sandbox) as server, ThreadPoolExecutor(6) as pool:
        url = f"{server.url}{sandbox.base_path}/V1.0/Companies/{company}"
        statuses = list(pool.map(lambda _: httpx.get(url, headers=headers).status_code,
                                 range(6)))
    assert statuses.count(200) >= 3 and statuses.count(429) >= 1
    assert sandbox.refused_for_threads == statuses.count(429)
    assert sandbox.max_inflight["companies"] == 3


def test_connector_never_has_more_than_three_requests_in_flight_per_endpoint(sandbox):
    sandbox.inject(SLOW, 0.05, path="/Companies/", times=40)
    sandbox.inject(SLOW, 0.05, path="/Contracts/", times=40)
    companies, contracts = list(sandbox.companies)[:4], list(sandbox.contracts)[:4]
    with LoopbackServer(sandbox) as server:
        one = _loopback_connector(sandbox, server, limiter=EndpointLimiter())
        jobs = [lambda i=i: one.get_company(companies[i % 4]) for i in range(12)]
        jobs += [lambda i=i: one.get_contract(contracts[i % 4]) for i in range(12)]
        one.picklists()
        with ThreadPoolExecutor(16) as pool:
            results = [f.result() for f in [pool.submit(job) for job in jobs]]
        one.close()
    assert len(results) == 24
    assert sandbox.refused_for_threads == 0
    assert sandbox.max_inflight["companies"] == 3  # used all three slots, never a fourth
    assert sandbox.max_inflight["contracts"] == 3


def test_two_connectors_of_one_tenant_share_the_slots(sandbox):
    """Sync and push may run at once: the limit is the tenant's, not the object's."""
    sandbox.inject(SLOW, 0.05, path="/Companies/", times=40)
    company = next(iter(sandbox.companies))
    with LoopbackServer(sandbox) as server:
        first = _loopback_connector(sandbox, server)
        second = _loopback_connector(sandbox, server)
        with ThreadPoolExecutor(10) as pool:
            futures = [pool.submit((first if i % 2 else second).get_company, company)
                       for i in range(10)]
            [f.result() for f in futures]
        first.close()
        second.close()
    assert sandbox.refused_for_threads == 0 and sandbox.max_inflight["companies"] == 3


@pytest.mark.parametrize(("used", "pause"), [(5_100, 0.5), (7_600, 2.0), (9_100, 10.0)])
def test_slows_down_progressively_above_50_75_90_percent(sandbox, used, pause):
    sandbox.threshold_used = used
    sleeps: list[float] = []
    progress: list[str] = []
    connector = sandbox.connector(sleep=sleeps.append,
                                  progress=lambda d, t, m: progress.append(m))
    connector.list_companies()
    requests = 3  # two picklist reads and one query page
    assert sleeps == [pause] * requests
    status = [m for m in progress if "pausing" in m]
    assert len(status) == requests
    percent = used * 100 // 10_000
    assert status[0] == (f"Autotask API usage is {percent} % of the tenant's threshold "
                         f"({used:,} of 10,000 requests in 60 minutes, shared with every "
                         f"integration): pausing {pause:g} s between requests to leave room "
                         "for them")


def test_no_pause_below_half_of_the_threshold(sandbox):
    sandbox.threshold_used = 4_900
    sleeps: list[float] = []
    sandbox.connector(sleep=sleeps.append).list_companies()
    assert sleeps == []


def test_usage_is_re_read_as_our_own_requests_add_up(sandbox):
    sandbox.threshold_used = 7_480
    sleeps: list[float] = []
    connector = sandbox.connector(sleep=sleeps.append)
    for _ in range(30):
        connector.get_company(next(iter(sandbox.companies)))
    assert sleeps[:20] == [0.5] * 20  # 74 %: the estimate counts our own requests
    assert 2.0 in sleeps  # crossed 75 % on our own requests, before the next reading
    assert connector.client.throttle.last_status.used > 7_480


def test_near_the_top_it_waits_for_the_rolling_hour_then_goes_on(sandbox):
    sandbox.threshold_used = 9_800
    progress: list[str] = []
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        sandbox.threshold_used = 3_000  # the hour rolled on; other integrations calmed down

    companies = sandbox.connector(sleep=sleep, progress=lambda d, t, m: progress.append(m)
                                  ).list_companies()
    assert len(companies) == 4 and sleeps == [60.0]
    assert any("waiting 60 s for the rolling hour to free requests instead of using up the "
               "tenant's last ones" in m for m in progress)


def test_it_gives_up_clearly_when_the_threshold_stays_used_up(sandbox):
    sandbox.threshold_used = 9_900
    sleeps: list[float] = []
    with pytest.raises(ThresholdExhaustedError) as err:
        sandbox.connector(sleep=sleeps.append).list_companies()
    assert sleeps == [60.0] * 15  # 15 minutes of visible waiting, then a clear stop
    assert "99 % of the tenant's threshold" in str(err.value)
    assert "TrueUp stopped instead of using up the rest" in str(err.value)


def test_a_threshold_exhausted_answer_becomes_a_clear_error(sandbox):
    connector = sandbox.connector(sleep=lambda s: None)
    connector.threshold()
    connector.list_companies()
    sandbox.threshold_used = sandbox.threshold_limit  # another integration used the rest
    with pytest.raises(ThresholdExhaustedError, match="shared with every integration"):
        connector.get_company(next(iter(sandbox.companies)))


def test_cancel_while_paused(sandbox):
    sandbox.threshold_used = 9_000
    cancel = threading.Event()
    connector = sandbox.connector(sleep=lambda s: cancel.set(), cancel=cancel)
    with pytest.raises(CancelledError):
        connector.list_companies()
