"""Faults on the wire: 429 (seconds and HTTP date), 500, timeouts and drops after commit,
slow and malformed answers; and no secret in any message."""

from __future__ import annotations

import base64
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime

import httpx
import pytest

from app.sync.connectwise import (
    ConnectWiseConnector,
    ConnectWiseError,
    ConnectWiseSandbox,
    OutcomeUnknownError,
    replace_ops,
)
from app.sync.http import CancelledError, ConnectorError, RateLimitedError
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

ADDITIONS = r"/additions/\d+$"


@pytest.fixture()
def sandbox() -> ConnectWiseSandbox:
    return ConnectWiseSandbox.seeded(companies=3, seed=5, today=date(2024, 5, 15))


@pytest.fixture()
def sleeps() -> list[float]:
    return []


@pytest.fixture()
def connector(sandbox, sleeps) -> ConnectWiseConnector:
    return sandbox.connector(sleep=sleeps.append)


def a_line(sb: ConnectWiseSandbox) -> tuple[int, int]:
    agreement = next(a for a in sb.agreements.values() if not a["billOneTimeFlag"])
    return agreement["id"], sb.additions_of(agreement["id"])[0]["id"]


def test_429_retry_after_seconds_is_honoured(sandbox, connector, sleeps):
    sandbox.inject(RATE_LIMIT, 7, path="/company/companies$")
    assert len(connector.list_companies()) == 3
    assert len(sleeps) == 1 and 7 <= sleeps[0] <= 7.05


def test_429_retry_after_http_date_is_honoured(sandbox, connector, sleeps):
    when = datetime.now(UTC) + timedelta(seconds=30)
    sandbox.inject(RATE_LIMIT, format_datetime(when, usegmt=True), path="/system/info")
    connector.test_connection()
    assert len(sleeps) == 1 and 28 <= sleeps[0] <= 30.05


def test_429_on_a_write_is_retried_and_written_once(sandbox, connector, sleeps):
    agreement_id, line_id = a_line(sandbox)
    sandbox.inject(RATE_LIMIT, 2, method="PATCH", times=2)
    connector.patch_addition(agreement_id, line_id, replace_ops({"quantity": Decimal(5)}))
    assert len(sleeps) == 2 and len(sandbox.write_log) == 1


def test_429_forever_gives_up(sandbox, connector, sleeps):
    sandbox.inject(RATE_LIMIT, 1, times=50)
    with pytest.raises(RateLimitedError):
        connector.list_companies()
    assert len(sleeps) == 5


def test_500_on_a_read_names_method_path_and_server_message(sandbox, connector):
    sandbox.inject(SERVER_ERROR, {"code": "UnexpectedError", "message": "Database busy"},
                   path="/finance/agreements$")
    with pytest.raises(ConnectWiseError) as err:
        connector.list_agreements()
    assert not isinstance(err.value, OutcomeUnknownError)
    assert str(err.value) == "GET /finance/agreements: HTTP 500 UnexpectedError: Database busy"
    assert err.value.status == 500


def test_500_on_a_write_is_an_unknown_outcome(sandbox, connector):
    agreement_id, line_id = a_line(sandbox)
    sandbox.inject(SERVER_ERROR, method="PATCH")
    with pytest.raises(OutcomeUnknownError, match="Injected server error"):
        connector.patch_addition(agreement_id, line_id, replace_ops({"quantity": Decimal(5)}))
    assert sandbox.write_log == []


@pytest.mark.parametrize("fault", [TIMEOUT_AFTER_COMMIT, DROP_AFTER_COMMIT])
def test_write_landed_but_answer_lost_is_raised_not_resent(sandbox, connector, fault):
    agreement_id, line_id = a_line(sandbox)
    sandbox.inject(fault, method="PATCH", path=ADDITIONS)
    with pytest.raises(OutcomeUnknownError) as err:
        connector.patch_addition(agreement_id, line_id, replace_ops({"quantity": Decimal(41)}))
    assert err.value.method == "PATCH" and "outcome is unknown" in str(err.value)
    assert len(sandbox.write_log) == 1  # committed exactly once, never resent
    assert connector.get_addition(agreement_id, line_id).quantity == Decimal(41)


def test_post_timeout_after_commit_leaves_one_line(sandbox, connector):
    agreement_id, _ = a_line(sandbox)
    before = len(sandbox.additions_of(agreement_id))
    sandbox.inject(TIMEOUT_AFTER_COMMIT, method="POST")
    with pytest.raises(OutcomeUnknownError):
        connector.create_addition(agreement_id, {"product": {"id": next(iter(sandbox.catalog))},
                                                 "billCustomer": "Billable"})
    assert len(sandbox.additions_of(agreement_id)) == before + 1
    assert len(sandbox.writes("POST")) == 1


def test_drop_before_commit_writes_nothing(sandbox, connector):
    agreement_id, line_id = a_line(sandbox)
    sandbox.inject(DROP, method="PATCH")
    with pytest.raises(OutcomeUnknownError):
        connector.patch_addition(agreement_id, line_id, replace_ops({"quantity": Decimal(2)}))
    assert sandbox.write_log == []


def test_dropped_read_is_a_connector_error(sandbox, connector):
    sandbox.inject(DROP, path="/procurement/catalog$")
    with pytest.raises(ConnectWiseError, match="GET /procurement/catalog: no answer"):
        connector.list_products()


def test_connection_never_opened_is_retried_then_a_plain_error(sandbox, sleeps):
    attempts: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        raise httpx.ConnectError("Connection refused", request=request)

    connector = sandbox.connector(transport=httpx.MockTransport(refuse), sleep=sleeps.append)
    agreement_id, line_id = a_line(sandbox)
    with pytest.raises(ConnectWiseError, match="could not connect") as err:
        connector.patch_addition(agreement_id, line_id, replace_ops({"quantity": Decimal(2)}))
    assert not isinstance(err.value, OutcomeUnknownError)  # nothing reached the server
    assert len(attempts) == 4 and len(sleeps) == 3


def test_slow_answer_within_the_timeout_succeeds(sandbox, connector):
    sandbox.inject(SLOW, 0.01, path="/system/info")
    assert connector.test_connection()["isCloud"] is True


def test_slow_answer_past_the_read_timeout_fails_over_loopback(sandbox):
    sandbox.inject(SLOW, 0.3, path="/system/info")
    with LoopbackServer(sandbox) as server:
        kwargs = {**sandbox.connector_kwargs(), "base_url": server.url + sandbox.base_path}
        timeout = httpx.Timeout(connect=1.0, read=0.05, write=1.0, pool=1.0)
        with ConnectWiseConnector(**kwargs, timeout=timeout) as connector, \
                pytest.raises(ConnectWiseError, match="ReadTimeout"):
            connector.test_connection()


def test_malformed_answer(sandbox, connector):
    sandbox.inject(MALFORMED, path="/company/companies$")
    with pytest.raises(ConnectWiseError, match="not valid JSON"):
        connector.list_companies()


def test_cancel_stops_before_the_next_request(sandbox):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CancelledError):
        sandbox.connector(cancel=cancel).list_companies()


def test_no_secret_in_any_error_or_repr(sandbox, sleeps):
    creds = sandbox.credentials
    token = base64.b64encode(
        f"{creds.company_id}+{creds.public_key}:{creds.private_key}".encode()).decode()
    connector = sandbox.connector(sleep=sleeps.append)
    agreement_id, line_id = a_line(sandbox)
    echo = {"code": "Echo", "message": f"bad key {creds.private_key} / Basic {token}"}
    failures = [
        (SERVER_ERROR, echo, None, lambda: connector.list_companies()),
        (SERVER_ERROR, echo, "PATCH", lambda: connector.patch_addition(
            agreement_id, line_id, replace_ops({"quantity": Decimal(1)}))),
        (TIMEOUT_AFTER_COMMIT, None, "PATCH", lambda: connector.cancel_addition(
            agreement_id, line_id, date(2024, 5, 31))),
        (DROP, None, None, lambda: connector.test_connection()),
        (MALFORMED, None, None, lambda: connector.list_products()),
        (RATE_LIMIT, 1, None, lambda: connector.list_agreements()),
        (None, None, None, lambda: connector.get_addition(agreement_id, 1)),
        (None, None, None, lambda: connector.list_companies(conditions="x = 1")),
    ]
    texts = [repr(connector), str(connector), repr(sandbox), repr(creds)]
    for kind, value, method, call in failures:
        if kind:
            sandbox.inject(kind, value, method=method, times=6 if kind == RATE_LIMIT else 1)
        with pytest.raises(ConnectorError) as err:
            call()
        texts += [str(err.value), repr(err.value), str(err.value.__cause__),
                  str(err.value.__context__)]
    wrong = ConnectWiseConnector(**{**sandbox.connector_kwargs(), "private_key": "Wr0ngKey!"},
                                 transport=httpx.MockTransport(sandbox))
    with pytest.raises(ConnectorError) as err:
        wrong.test_connection()
    texts += [str(err.value), repr(wrong)]
    assert len(texts) > 20
    for text in texts:
        for secret in (creds.private_key, token, "Wr0ngKey!", "Authorization"):
            assert secret not in text, text
