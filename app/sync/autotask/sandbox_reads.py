"""How the Autotask sandbox answers reads: query pages, get by id, zone, threshold, picklists.

Queries page like Autotask: at most 500 records sorted by id, in the `items` + `pageDetails`
envelope of the real samples, with next/previous page URLs that repeat the original query
(`search`) plus a page position (`paging`). A record the API user may not see is left out
of queries and comes back as `{"item": null}` from a get by id, as the real API does.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import httpx

from app.sync.autotask import query
from app.sync.autotask.wire import dumps, get, loads
from app.sync.sandbox.base import SandboxRequest

if TYPE_CHECKING:
    from app.sync.autotask.sandbox import AutotaskSandbox

MAX_RECORDS = 500

# Entity path -> the singular name Autotask uses in messages.
SINGULAR = {"Companies": "Company", "Contracts": "Contract", "Services": "Service",
            "ContractServices": "ContractService", "ContractServiceUnits": "ContractServiceUnit",
            "ContractCharges": "ContractCharge"}


def at_response(status: int, body: Any = None) -> httpx.Response:
    content = b"" if body is None else dumps(body)
    return httpx.Response(status, content=content,
                          headers={"Content-Type": "application/json; charset=utf-8"})


def errors(status: int, *messages: str) -> httpx.Response:
    """Autotask's error body: `{"errors": [...]}` (HTTP 500 for a refused request)."""
    return at_response(status, {"errors": list(messages)})


def _origin(req: SandboxRequest) -> str:
    url = req.request.url
    return f"{url.scheme}://{url.netloc.decode()}"


def zone_information(sb: AutotaskSandbox, req: SandboxRequest) -> httpx.Response:
    user = req.params.get("user", "")
    if user.lower() != sb.credentials.username.lower():
        return errors(404, f"Zone information could not be determined for user {user}.")
    origin = sb.zone_origin or _origin(req)
    return at_response(200, {"zoneName": "America West 2", "url": origin + sb.base_path + "/",
                              "webUrl": "https://ww14.autotask.invalid/", "ci": 14})


def threshold_information(sb: AutotaskSandbox, req: SandboxRequest) -> httpx.Response:
    return at_response(200, {"externalRequestThreshold": sb.threshold_limit,
                             "requestThresholdTimeframe": 60,
                             "currentTimeframeRequestCount": sb.threshold_used})


def entity_fields(sb: AutotaskSandbox, req: SandboxRequest, entity: str) -> httpx.Response:
    return at_response(200, {"fields": sb.entity_fields[entity]})


def get_by_id(sb: AutotaskSandbox, req: SandboxRequest, entity: str) -> httpx.Response:
    raw = req.path_args["id"]
    record = sb.store(entity).get(int(raw)) if raw.isdigit() else None
    if record is not None and not sb.visible(entity, record):
        record = None
    return at_response(200, {"item": record})


def _parse(req: SandboxRequest) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The QueryModel (POST body or GET `search`) and the page position (`paging`)."""
    try:
        if req.method == "POST":
            body = loads(req.request.content or b"null")
        else:
            body = loads(req.params.get("search") or "null")
        paging = loads(req.params.get("paging") or "{}")
    except ValueError:
        return None, {}
    return (body if isinstance(body, dict) else None), (paging if isinstance(paging, dict)
                                                        else {})


def run_query(sb: AutotaskSandbox, req: SandboxRequest, entity: str) -> httpx.Response:
    body, paging = _parse(req)
    if body is None:
        return errors(500, "The query is not valid JSON: a QueryModel object is required.")
    filters = get(body, "filter")
    if not isinstance(filters, list) or not filters:
        return errors(500, "A query needs at least one filter condition.")
    if query.count_or_conditions(filters) > query.MAX_OR_CONDITIONS:
        return errors(500, "Invalid query syntax. Queries are limited to 500 or fewer 'OR' "
                      "conditions.")
    size = get(body, "maxRecords") or MAX_RECORDS
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_RECORDS:
        return errors(500, "MaxRecords must be between 1 and 500.")
    name = SINGULAR[entity]
    try:
        rows = sorted((r for r in sb.store(entity).values()
                       if sb.visible(entity, r) and query.matches(filters, r, name)),
                      key=lambda r: r["id"])
    except query.FilterError as exc:
        return errors(500, str(exc))
    page, before, after = _window(rows, size, paging)
    base = f"{_origin(req)}{sb.base_path}/V1.0/{entity}/query"
    search = {k: v for k, v in body.items()}
    details = {
        "count": len(page), "requestCount": size,
        "prevPageUrl": _page_url(base, search, {"pageSize": size, "before": page[0]["id"]})
        if page and before else None,
        "nextPageUrl": _page_url(base, search, {"pageSize": size, "after": page[-1]["id"]})
        if page and after else None,
    }
    fields = get(body, "includeFields")
    items = [_select(r, fields) for r in page]
    return at_response(200, {"items": items, "pageDetails": details})


def _window(rows: list[dict[str, Any]], size: int, paging: dict[str, Any]
            ) -> tuple[list[dict[str, Any]], bool, bool]:
    """The page and whether records exist before / after it."""
    if isinstance(paging.get("before"), int):
        earlier = [r for r in rows if r["id"] < paging["before"]]
        page = earlier[-size:]
    else:
        start = paging.get("after") if isinstance(paging.get("after"), int) else None
        page = [r for r in rows if start is None or r["id"] > start][:size]
    if not page:
        return [], False, False
    return (page, any(r["id"] < page[0]["id"] for r in rows),
            any(r["id"] > page[-1]["id"] for r in rows))


def _page_url(base: str, search: dict[str, Any], paging: dict[str, Any]) -> str:
    params = {"search": dumps(search).decode(), "paging": json.dumps(paging)}
    return f"{base}?{urlencode(params, quote_via=quote)}"


def _select(record: dict[str, Any], fields: Any) -> dict[str, Any]:
    """IncludeFields: only those (case-insensitively), plus id and userDefinedFields."""
    if not isinstance(fields, list) or not fields:
        return record
    wanted = {str(f).lower() for f in fields} | {"id", "userdefinedfields"}
    return {k: v for k, v in record.items() if k.lower() in wanted}
