"""Faults on the Autotask wire: 429, 500 with and without `errors`, timeouts and drops after
commit, slow and malformed answers, foreign next-page URLs; and no secret in any message."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import httpx
import pytest

from app.sync.autotask import (
    AutotaskConnector,
    AutotaskError,
    AutotaskSandbox,
    OutcomeUnknownError,
    ValidationError,
)
from app.sync.autotask import sandbox_data as data
from app.sync.http import CancelledError, ConnectorError
from app.sync.sandbox.base import (
    DROP,
    DROP_AFTER_COMMIT,
    MALFORMED,
    RATE_LIMIT,
    SERVER_ERROR,
    SLOW,
    TIMEOUT_AFTER_COMMIT,
    LoopbackServer,
)

TODAY = date(2024, 5, 15)
ADJUST = "/ContractServiceAdjustments$"


@pytest.fixture()
def sandbox() -> AutotaskSandbox:
    return AutotaskSandbox.seeded(companies=3, seed=5, today=TODAY)


@pytest.fixture()
def sleeps() -> list[float]:
    return []


@pytest.fixture()
def connector(sandbox, sleeps) -> AutotaskConnector:
    return sandbox.connector(sleep=sleeps.append)


def a_line(sb: AutotaskSandbox) -> tuple[int, int]:
    contract = next(c for c in sb.contracts.values()
                    if c["contractType"] == data.RECURRING_SERVICE and c["status"] == 1)
    line = next(s for s in sb.contract_services.values() if s["contractID"] == contract["id"])
    return contract["id"], line["id"]


def adjust(connector: AutotaskConnector, sb: AutotaskSandbox, change: int = 2) -> int:
    contract, line = a_line(sb)
    return connector.create_service_adjustment(contract, contract_service_id=line,
                                               unit_change=change, effective_date=TODAY)


def test_429_retry_after_is_honoured(sandbox, connector, sleeps):
    sandbox.inject(RATE_LIMIT, 7, path="/Companies/query$")
    assert len(connector.list_companies()) == 3
    assert len(sleeps) == 1 and 7 <= sleeps[0] <= 7.05


def test_429_on_an_adjustment_is_retried_and_written_once(sandbox, connector, sleeps):
    sandbox.inject(RATE_LIMIT, 1, method="POST", path=ADJUST, times=2)
    adjust(connector, sandbox)
    assert len(sleeps) == 2 and len(sandbox.write_log) == 1


def test_500_with_errors_on_a_read_is_shown_and_not_retried(sandbox, connector, sleeps):
    sandbox.inject(SERVER_ERROR, {"errors": ["Unable to find nosuch in the Company entity."]},
                   path="/Companies/query$", times=5)
    with pytest.raises(ValidationError) as err:
        connector.list_companies()
    assert "Autotask refused the request: Unable to find nosuch in the Company entity." in str(
        err.value)
    assert sum(1 for m, p in sandbox.log if p.endswith("/Companies/query")) == 1
    assert sleeps == []


def test_500_with_errors_on_a_write_is_a_refusal_not_an_unknown(sandbox, connector):
    sandbox.inject(SERVER_ERROR, {"errors": ["Contract is not active."]}, method="POST")
    with pytest.raises(ValidationError) as err:
        adjust(connector, sandbox)
    assert not isinstance(err.value, OutcomeUnknownError)
    assert err.value.errors == ("Contract is not active.",) and sandbox.write_log == []


def test_500_without_errors_on_a_write_is_an_unknown_outcome(sandbox, connector):
    sandbox.inject(SERVER_ERROR, {"message": "Internal error"}, method="POST")
    with pytest.raises(OutcomeUnknownError, match="HTTP 500: Internal error"):
        adjust(connector, sandbox)


@pytest.mark.parametrize("fault", [TIMEOUT_AFTER_COMMIT, DROP_AFTER_COMMIT])
def test_write_landed_but_answer_lost_is_raised_not_resent(sandbox, connector, fault):
    contract, line = a_line(sandbox)
    before = sandbox.units_on(line, TODAY)
    sandbox.inject(fault, method="POST", path=ADJUST)
    with pytest.raises(OutcomeUnknownError, match="the outcome is unknown"):
        adjust(connector, sandbox, 3)
    assert len(sandbox.write_log) == 1  # committed exactly once, never resent
    assert connector.units_on(line, TODAY).units == Decimal(before + 3)


def test_drop_before_commit_writes_nothing_but_cannot_know_it(sandbox, connector):
    sandbox.inject(DROP, method="POST")
    with pytest.raises(OutcomeUnknownError):
        adjust(connector, sandbox)
    assert sandbox.write_log == []


def test_connection_never_opened_is_retried_then_a_plain_error(sandbox, sleeps):
    attempts: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        raise httpx.ConnectError("Connection refused", request=request)

    connector = sandbox.connector(transport=httpx.MockTransport(refuse), sleep=sleeps.append)
    with pytest.raises(AutotaskError, match="could not connect") as err:
        connector.threshold()
    assert not isinstance(err.value, OutcomeUnknownError)
    assert len(attempts) == 4 and len(sleeps) == 3


def test_slow_answer_past_the_read_timeout_fails_over_loopback(sandbox):
    sandbox.inject(SLOW, 0.3, path="/ThresholdInformation")
    with LoopbackServer(sandbox) as server:
        kwargs = {**sandbox.connector_kwargs(), "zone_url": server.url + sandbox.base_path}
        timeout = httpx.Timeout(connect=1.0, read=0.05, write=1.0, pool=1.0)
        with AutotaskConnector(**kwargs, timeout=timeout) as connector, \
                pytest.raises(AutotaskError, match="ReadTimeout"):
            connector.threshold()


def test_malformed_answer(sandbox, connector):
    sandbox.inject(MALFORMED, path="/Companies/query$")
    with pytest.raises(AutotaskError, match="not valid JSON"):
        connector.list_companies()


def test_next_page_url_to_another_host_is_not_followed(sandbox):
    def evil(request: httpx.Request) -> httpx.Response:
        response = sandbox(request)
        if request.url.path.endswith("/Companies/query"):
            body = response.json()
            body["pageDetails"]["nextPageUrl"] = "https://collector.invalid/V1.0/x?search=1"
            return httpx.Response(200, json=body)
        return response

    connector = sandbox.connector(transport=httpx.MockTransport(evil))
    with pytest.raises(AutotaskError, match="next-page URL points outside the zone"):
        connector.list_companies()


def test_cancel_stops_before_the_next_request(sandbox):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CancelledError):
        sandbox.connector(cancel=cancel).list_companies()


def test_no_secret_in_any_error_or_repr(sandbox, sleeps):
    creds = sandbox.credentials
    connector = sandbox.connector(sleep=sleeps.append)
    contract, line = a_line(sandbox)
    echo = {"errors": [f"bad secret {creds.secret} for {creds.integration_code}"]}
    failures = [
        (SERVER_ERROR, echo, None, lambda: connector.list_companies()),
        (SERVER_ERROR, {"message": f"boom {creds.secret}"}, "POST",
         lambda: adjust(connector, sandbox)),
        (TIMEOUT_AFTER_COMMIT, None, "PATCH", lambda: connector.update_contract_service(
            contract, line, unit_price=Decimal(1))),
        (DROP, None, None, lambda: connector.threshold()),
        (MALFORMED, None, None, lambda: connector.list_services()),
        (RATE_LIMIT, 0, None, lambda: connector.list_contracts()),
        (None, None, None, lambda: connector.get_contract(1)),
    ]
    texts = [repr(connector), str(connector), repr(connector.client), repr(sandbox),
             repr(creds)]
    for kind, value, method, call in failures:
        if kind:
            sandbox.inject(kind, value, method=method, times=12 if kind == RATE_LIMIT else 1)
        with pytest.raises(ConnectorError) as err:
            call()
        texts += [str(err.value), repr(err.value), str(err.value.__cause__),
                  str(err.value.__context__), " ".join(getattr(err.value, "errors", ()))]
    wrong = AutotaskConnector(**{**sandbox.connector_kwargs(), "secret": "Wr0ngS3cret!"},
                              transport=httpx.MockTransport(sandbox))
    with pytest.raises(ConnectorError) as err:
        wrong.list_companies()
    texts += [str(err.value), repr(wrong)]
    assert len(texts) > 30
    for text in texts:
        for secret in (creds.secret, creds.integration_code, "Wr0ngS3cret!"):
            assert secret not in text, text


def test_429_for_ever_gives_up_without_recursing(sandbox, connector, sleeps):
    sandbox.inject(RATE_LIMIT, 1, times=1000)
    with pytest.raises(AutotaskError, match="kept refusing the request") as err:
        connector.list_companies()
    assert err.value.status == 429 and len(sleeps) <= 20
