"""How the CW sandbox answers: JSON without nulls, errors as ErrorResponseMessage, and list
pages the way CW pages them (page/pageSize + Link header, or forward-only pageId).

Kept apart from the routes so the paging rules can be read (and trusted) on one screen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from app.sync.connectwise.conditions import ConditionError, compile_conditions, field_value
from app.sync.connectwise.wire import dumps
from app.sync.sandbox.base import SandboxRequest

MAX_PAGE_SIZE = 1000  # CW's hard limit; larger requests are capped, not refused
DEFAULT_PAGE_SIZE = 25  # CW's default when pageSize is not given


def cw_response(status: int, body: Any = None, headers: dict[str, str] | None = None
                ) -> httpx.Response:
    """CW omits null properties; money goes out as exact JSON numbers."""
    content = b"" if body is None else dumps(strip_nulls(body))
    return httpx.Response(status, content=content, headers={
        "Content-Type": "application/json; charset=utf-8", **(headers or {})})


def error(status: int, code: str, message: str, errors: list[dict[str, str]] | None = None
          ) -> httpx.Response:
    """An ErrorResponseMessage (code, message, errors[]) as CW sends on 4xx/5xx."""
    body: dict[str, Any] = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return cw_response(status, body)


def strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


def _int(value: Any) -> int:
    return int(str(value))


def filtered(req: SandboxRequest, records: list[dict[str, Any]],
             fields: frozenset[str]) -> list[dict[str, Any]]:
    predicate: Callable[[dict[str, Any]], bool] = compile_conditions(
        req.params.get("conditions"), fields)
    return [r for r in records if predicate(r)]


def count_response(req: SandboxRequest, records: list[dict[str, Any]],
                   fields: frozenset[str]) -> httpx.Response:
    try:
        return cw_response(200, {"count": len(filtered(req, records, fields))})
    except ConditionError as exc:
        return error(400, "InvalidObject", str(exc))


def list_response(req: SandboxRequest, records: list[dict[str, Any]],
                  fields: frozenset[str]) -> httpx.Response:
    """One page of a list endpoint; a bare JSON array with paging in the Link header."""
    try:
        rows = filtered(req, records, fields)
        size = min(_int(req.params.get("pageSize", DEFAULT_PAGE_SIZE)), MAX_PAGE_SIZE)
        page = _int(req.params.get("page", 1))
        page_id = req.params.get("pageId")
        if size < 1 or page < 1:
            raise ConditionError("page and pageSize must be positive")
        forward = (page_id is not None
                   or req.headers.get("pagination-type", "").lower() == "forward-only")
        after = _int(page_id or 0)
        rows = ordered(rows, None if forward else req.params.get("orderBy"))
    except (ConditionError, ValueError, TypeError) as exc:
        return error(400, "InvalidObject", str(exc))
    url = req.request.url
    links: list[str] = []
    if forward:  # "treated like an additional condition of id > pageId", always by id
        rest = [r for r in rows if r["id"] > after]
        chunk = rest[:size]
        if len(rest) > size:
            nxt = url.copy_remove_param("page").copy_set_param("pageId", chunk[-1]["id"])
            links.append(f'<{nxt}>; rel="next"')
    else:
        last = max(1, -(-len(rows) // size))
        chunk = rows[(page - 1) * size: page * size]
        rels = ([("first", 1), ("previous", page - 1)] if page > 1 else []) + (
            [("next", page + 1), ("last", last)] if page < last else [])
        links = [f'<{url.copy_set_param("page", n)}>; rel="{rel}"' for rel, n in rels]
    body = [select(r, req.params.get("fields")) for r in chunk]
    return cw_response(200, body, {"Link": ", ".join(links)} if links else None)


def ordered(rows: list[dict[str, Any]], order_by: str | None) -> list[dict[str, Any]]:
    """CW's orderBy ('name desc, id'); forward-only paging is always by id."""
    keys = [part.split() for part in (order_by or "id").split(",") if part.strip()]
    for spec in reversed(keys):
        field, desc = spec[0], len(spec) > 1 and spec[1].lower() == "desc"
        rows = sorted(rows, key=lambda r, f=field: _sort_key(field_value(r, f)), reverse=desc)
    return rows


def _sort_key(value: Any) -> tuple[bool, Any]:
    return (value is not None, value.casefold() if isinstance(value, str) else value)


def select(record: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """CW's `fields=id,name,company/id` projection."""
    if not fields:
        return record
    out: dict[str, Any] = {}
    for path in (p.strip() for p in fields.split(",") if p.strip()):
        value = field_value(record, path)
        if value is None:
            continue
        target = out
        parts = path.split("/")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return out
