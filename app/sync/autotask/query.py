"""Autotask query filters: building them (connector) and evaluating them (sandbox).

A query body is `{"filter": [...], "maxRecords": n, "includeFields": [...]}`; each filter is
`{"op", "field", "value"}` or a group `{"op": "and"|"or", "items": [...]}`, and the top-level
list is AND-ed. Field names are case-insensitive, as are string comparisons (the tenant's
SQL Server collation). Both sides live here so the sandbox evaluates exactly what the
connector builds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

Filter = dict[str, Any]

COMPARISONS = {"eq", "noteq", "gt", "gte", "lt", "lte", "beginswith", "endswith", "contains",
               "exist", "notexist", "in", "notin"}
GROUPS = {"and", "or"}
MAX_OR_CONDITIONS = 500  # Autotask refuses a query with more OR conditions than this
EVERYTHING: Filter = {"op": "gte", "field": "id", "value": 0}  # a query needs one filter


def cond(field: str, op: str, value: Any = None) -> Filter:
    item: Filter = {"op": op, "field": field}
    if op.lower() not in ("exist", "notexist"):
        item["value"] = value
    return item


def eq(field: str, value: Any) -> Filter:
    return cond(field, "eq", value)


def gte(field: str, value: Any) -> Filter:
    return cond(field, "gte", value)


def lte(field: str, value: Any) -> Filter:
    return cond(field, "lte", value)


def contains(field: str, value: str) -> Filter:
    return cond(field, "contains", value)


def in_(field: str, values: Iterable[Any]) -> Filter:
    values = list(values)
    if len(values) > MAX_OR_CONDITIONS:
        raise ValueError(f"an 'in' list is limited to {MAX_OR_CONDITIONS} values; chunk it")
    return cond(field, "in", values)


def and_(*items: Filter) -> Filter:
    return {"op": "and", "items": list(items)}


def or_(*items: Filter) -> Filter:
    return {"op": "or", "items": list(items)}


def query_body(filters: Sequence[Filter], *, max_records: int | None = None,
               include_fields: Sequence[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"filter": list(filters) or [EVERYTHING]}
    if max_records is not None:
        body["maxRecords"] = max_records
    if include_fields:
        body["includeFields"] = list(include_fields)
    return body


def chunks(values: Sequence[Any], size: int = 200) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield list(values[start:start + size])


# ------------------------------------------------------------------ evaluation (sandbox)


class FilterError(ValueError):
    """The query cannot be run; Autotask answers such a query with a 500 `errors` body."""


def _lookup(record: dict[str, Any], name: str, entity: str) -> Any:
    lowered = name.lower()
    for key, value in record.items():
        if key.lower() == lowered:
            return value
    raise FilterError(f"Unable to find {name} in the {entity} entity.")


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
        except ValueError:
            return None
    return None


def _as_number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def _comparable(left: Any, right: Any) -> tuple[Any, Any] | None:
    """Both sides as one comparable type, or None when they cannot be compared."""
    if isinstance(left, bool) or isinstance(right, bool):
        return (left, right) if isinstance(left, bool) and isinstance(right, bool) else None
    a, b = _as_datetime(left), _as_datetime(right)
    if a is not None and b is not None:
        return a, b
    x, y = _as_number(left), _as_number(right)
    if x is not None and y is not None:
        return x, y
    if isinstance(left, str) and isinstance(right, str | int | Decimal):
        return left.lower(), str(right).lower()
    return None


def _compare(op: str, actual: Any, wanted: Any) -> bool:
    if op == "exist":
        return actual is not None and actual != ""
    if op == "notexist":
        return actual is None or actual == ""
    if op in ("in", "notin"):
        if not isinstance(wanted, list):
            raise FilterError(f"The '{op}' operator needs a list of values.")
        found = any(_compare("eq", actual, w) for w in wanted)
        return found if op == "in" else not found
    if actual is None:
        return op == "noteq" and wanted is not None
    if op in ("beginswith", "endswith", "contains"):
        text, part = str(actual).lower(), str(wanted).lower()
        return {"beginswith": text.startswith, "endswith": text.endswith,
                "contains": text.__contains__}[op](part)
    pair = _comparable(actual, wanted)
    if pair is None:
        return op == "noteq"
    a, b = pair
    return {"eq": a == b, "noteq": a != b, "gt": a > b, "gte": a >= b, "lt": a < b,
            "lte": a <= b}[op]


def matches(filters: Sequence[Filter], record: dict[str, Any], entity: str) -> bool:
    """True when `record` passes every filter of the list (the top level is an AND)."""
    return all(_one(f, record, entity) for f in filters)


def _one(item: Any, record: dict[str, Any], entity: str) -> bool:
    if not isinstance(item, dict):
        raise FilterError("Each filter must be an object with op, field and value.")
    op = str(_get(item, "op") or "").lower()
    if op in GROUPS:
        items = _get(item, "items")
        if not isinstance(items, list) or not items:
            raise FilterError(f"The '{op}' operator needs a non-empty items list.")
        results = (_one(i, record, entity) for i in items)
        return all(results) if op == "and" else any(results)
    if op not in COMPARISONS:
        raise FilterError(f"Invalid operator: {_get(item, 'op')!r}.")
    if _get(item, "udf"):
        raise FilterError("User-defined fields are not available in this sandbox.")
    name = _get(item, "field")
    if not isinstance(name, str) or not name:
        raise FilterError("A filter needs a field name.")
    return _compare(op, _lookup(record, name, entity), _get(item, "value"))


def _get(item: dict[str, Any], name: str) -> Any:
    for key, value in item.items():
        if key.lower() == name:
            return value
    return None


def count_or_conditions(filters: Sequence[Any]) -> int:
    """OR conditions of a query, counted the way Autotask limits them (in-lists included)."""
    total = 0
    for item in filters:
        if not isinstance(item, dict):
            continue
        op = str(_get(item, "op") or "").lower()
        items = _get(item, "items") or []
        if op == "or":
            total += max(len(items) - 1, 0)
        if op in ("in", "notin") and isinstance(_get(item, "value"), list):
            total += max(len(_get(item, "value")) - 1, 0)
        total += count_or_conditions(items)
    return total
