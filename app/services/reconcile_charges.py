"""A period's vendor charge lines, read fast, for the engine's BilledLines and VendorCharges.

A big book has a million charge lines in a month, most of them Azure daily usage (a line per
meter per day). Loading them costs what the engine needs and no more:

* seat lines (a few per subscription) are read through the DBAPI cursor as raw values (no
  per-row ORM or type-decorator work), parsed when the facts are built
  (app.services.reconcile_book): ISO dates, exact decimal text;
* usage lines are grouped in SQL per subscription (and currency). The engine only ever adds
  usage amounts up (usage charge, unmapped estimate), so one charge per group changes no
  amount. The finding then explains "N usage lines" (their first line, dates and
  invoices) rather than carrying every daily line, which charge_lines still holds.

Usage sums must be exact, and SQLite's SUM goes through float. So SQLite sums each group
in float and also reports what makes that sum provably exact (`exact_sum`): the most
decimals any line has, and that no line is negative, both from what each line keeps of how
its numbers are written (ChargeLine.quantity_places and amount_places). A float sum of n
non-negative values is off by less than about n units in the last place, far below the
group's last decimal; rounded there it *is* the exact sum. A group where the proof fails (a
credit line, Partner Center's 15-place amounts, a line written without its places) is read
again as its lines' decimal texts, by the background read itself, and added up in Decimal
(`decimal_sum`). A range whose first lines already have too many places for the proof is
read as texts at once (`_many_places`). PostgreSQL sums NUMERIC exactly.

A SQLite workspace keeps its usage lines added up per subscription and day
(app.models.usage_days): a month is then 30 rows per subscription rather than a line per
meter per day, and the groups are added up from those days (`_day_groups`), with the same
proof of exactness, whenever the days hold every line in the run's snapshot. Otherwise, and
on PostgreSQL, the lines themselves are grouped.

`UsageRead` runs the grouped read on other SQLite connections in background threads, on the
same snapshot, while the caller loads everything else: SQLite works without holding
Python's lock, so on two cores it costs almost no wall time.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    Numeric,
    Text,
    and_,
    cast,
    column,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    table,
    tuple_,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from app.domain.periods import BillingPeriod
from app.models import usage_days
from app.models.types import NEGATIVE_PLACES
from app.models.usage_days import DAYS
from app.services.reconcile_book import SEPARATOR, Key

# What the statements below are built for: a connection, or the engine (for its dialect).
Bind = Connection | Engine

# Untyped columns: values arrive as the database stores them (text dates, decimal text).
LINES = table("charge_lines", *(column(name) for name in (
    "id", "connection_id", "subscription_external_id", "line_key", "charge_type",
    "charge_start", "charge_end", "quantity", "unit_price", "subtotal", "total", "is_usage",
    "invoice_number", "currency", "quantity_places", "amount_places")))
def raw_rows(conn: Connection, query: Select) -> Iterator[tuple]:
    """Rows straight from the DBAPI cursor (SQLAlchemy binds the parameters): a million rows
    through SQLAlchemy's result objects would cost several seconds of per-row Python."""
    result = conn.execute(query)
    try:
        yield from result.cursor
    finally:
        result.close()


def _bounds(conn: Bind, period: BillingPeriod) -> tuple[Any, Any]:
    """The period's first and last day as the driver takes them. The columns are untyped,
    so values reach the driver as they are: SQLite stores dates as ISO text, PostgreSQL
    wants dates."""
    if conn.dialect.name == "sqlite":
        return period.start.isoformat(), period.end.isoformat()
    return period.start, period.end


def _in_period(conn: Bind, period: BillingPeriod):  # noqa: ANN202
    """Lines touching the period."""
    start, end = _bounds(conn, period)
    return and_(LINES.c.subscription_external_id.is_not(None),
                LINES.c.charge_start <= end,
                or_(LINES.c.charge_end >= start, LINES.c.charge_end.is_(None)))


def _concat(conn: Bind, value: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return func.string_agg(value, SEPARATOR)
    return func.group_concat(value, SEPARATOR)


def _summed(conn: Bind, value: Any, places: Any) -> list[Any]:
    """A group's sum of decimal texts, with what `exact_sum` needs to prove it exact: the
    most of their `places` (see stored_places), a line without them counted as unproven."""
    if conn.dialect.name == "postgresql":
        return [func.sum(cast(value, Numeric)), null()]
    return [func.sum(value), func.max(func.coalesce(places, NEGATIVE_PLACES))]


# The float sum of n values read from decimal text is off from their exact sum by at most
# (n - 1) rounding steps of the sum, each value's conversion and the sum's text form: well
# inside this many units in the last place.
SUM_SLACK = 64
MAX_DECIMALS = 12


def exact_sum(total: Any, places: Any, count: int) -> str | None:
    """A group's exact sum as decimal text, from SQL's sum of its lines' decimal texts and
    the most of their places (app.models.types.stored_places); None when the sum cannot be
    proven exact.

    A sum SQL computed as an integer, or PostgreSQL's NUMERIC, is exact as it is. A float
    sum of values that are all non-negative (no line's places reach NEGATIVE_PLACES) and
    have at most `places` decimals is exact once rounded to `places` places, as long as its
    error bound stays below a quarter of that last place. The text keeps `places` places, as
    Decimal addition of the lines' texts would. The texts are as the money columns store
    them (app.models.types.DecimalText): plain notation, never an exponent."""
    if total is None:
        return "0"
    if isinstance(total, str):  # from a packed read: SQLite's text form of the number
        total = int(total) if total.lstrip("-").isdigit() else float(total)
    if isinstance(total, Decimal):
        return format(total, "f")
    if isinstance(total, int) and not isinstance(total, bool):
        return str(total)
    places = int(places) if places is not None else NEGATIVE_PLACES
    if not 0 <= places <= MAX_DECIMALS or not math.isfinite(total):
        return None
    bound = (count + SUM_SLACK) * abs(total) * 2.0 ** -52
    if bound >= 10.0 ** -places / 4:
        return None
    try:
        exact = Decimal.from_float(total).quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:  # more digits than the context holds: not a usage sum
        return None
    return format(abs(exact) if exact.is_zero() else exact, "f")


# --- seat lines --------------------------------------------------------------------------------


def seat_queries(conn: Bind, period: BillingPeriod) -> tuple[Select, ...]:
    """A period's seat (non-usage) charge lines: (connection, subscription key, line key,
    type, start, end, quantity, unit price, subtotal, total, invoice, currency).

    Two searches of the seat lines' index on their end day, the open-ended lines and those
    ending in the period or later (in the index's own order, said): "ends on or after the start,
    or never" in one condition would make SQLite scan every seat line the workspace ever
    imported, years of them."""
    c = LINES.c
    start, end = _bounds(conn, period)
    query = select(c.connection_id, c.subscription_external_id, c.line_key, c.charge_type,
                   c.charge_start, c.charge_end, c.quantity, c.unit_price, c.subtotal,
                   c.total, c.invoice_number, c.currency
                   ).where(c.subscription_external_id.is_not(None), c.charge_start <= end,
                           c.is_usage.is_(False))
    return tuple(query.where(ends).order_by(c.charge_end, c.id)
                 for ends in (c.charge_end.is_(None), c.charge_end >= start))


def seat_rows(session: Session, period: BillingPeriod) -> dict[Key, list[tuple]]:
    """A period's seat charge lines as raw rows (see `seat_queries`) per subscription key:
    (line key, type, start, end, quantity, unit price, subtotal, total, invoice,
    currency)."""
    conn = session.connection()
    rows: dict[Key, list[tuple]] = defaultdict(list)
    for query in seat_queries(conn, period):
        for row in raw_rows(conn, query):
            rows[(row[0], row[1])].append(row[2:])
    return dict(rows)


# --- usage lines -------------------------------------------------------------------------------


def _not_superseded():  # noqa: ANN202
    """Usage lines less the unbilled ones of a day whose billed usage is there too: the
    billed daily usage of a subscription covers every meter of its days, and the unbilled
    lines of those days are the same usage seen before it was invoiced."""
    c, billed = LINES.c, LINES.alias("billed")
    unbilled = or_(c.invoice_number.is_(None), c.invoice_number == "")
    twin = (select(literal(1))
            .where(billed.c.connection_id == c.connection_id,
                   billed.c.subscription_external_id == c.subscription_external_id,
                   billed.c.charge_start == c.charge_start, billed.c.is_usage.is_(True),
                   billed.c.invoice_number.is_not(None), billed.c.invoice_number != "")
            .exists())
    return not_(and_(unbilled, twin))


def _starting_in(conn: Bind, period: BillingPeriod) -> list[Any]:
    """Lines starting in the period."""
    start, end = _bounds(conn, period)
    c = LINES.c
    return [c.subscription_external_id.is_not(None), c.charge_start >= start,
            c.charge_start <= end]


# Whether a read gives a group's quantities and its amounts as their lines' texts.
Texts = tuple[bool, bool]
SUMS, TEXTS = (False, False), (True, True)


def _key_range(low: Key | None, high: Key | None, source: Any = LINES) -> list[Any]:
    """low <= (connection, subscription) < high, of the lines or of the usage days."""
    key = tuple_(source.c.connection_id, source.c.subscription_external_id)
    bounds = [key >= tuple_(*map(literal, low))] if low else []
    return bounds + ([key < tuple_(*map(literal, high))] if high else [])


def _usage_groups(conn: Bind, period: BillingPeriod, low: Key | None = None,
                  high: Key | None = None, *, again: Sequence[Key] | None = None,
                  texts: Texts = SUMS, days: bool = False) -> Select:
    """Grouped by the index's own order (connection, subscription): no sort. `low` and
    `high` bound the (connection, subscription) keys read: low <= key < high. Quantities
    and amounts come as their sums (see exact_sum), or, where `texts` says so, as their
    lines' decimal texts. `again` reads these keys' groups (of one connection) whole, as
    TEXTS. `days`: the sums are added up from the usage days (app.models.usage_days),
    current in the caller's snapshot, rather than from the lines."""
    if days and again is None and texts == SUMS:
        return _day_groups(conn, period, low, high)
    c = LINES.c
    bounds = _key_range(low, high)
    amount = func.coalesce(c.total, c.subtotal)
    values = ((c.quantity, c.quantity_places), (amount, c.amount_places))
    if again is None:  # the lines starting in the period (see _spanning)
        sums = [field for (value, places), as_texts in zip(values, texts, strict=True)
                for field in ([_concat(conn, value)] if as_texts else
                              _summed(conn, value, places))]
        bounds += _starting_in(conn, period)
    else:  # every line of the keys touching the period
        sums = [_concat(conn, value) for value, _ in values]
        connections = {connection_id for connection_id, _ in again}
        if len(connections) != 1:
            raise ValueError("groups are read again one connection at a time")
        bounds += [_in_period(conn, period), c.connection_id == connections.pop(),
                   c.subscription_external_id.in_([sub for _, sub in again])]
    return (select(c.connection_id, c.subscription_external_id, func.min(c.currency),
                   func.max(c.currency), func.min(c.charge_type), func.min(c.invoice_number),
                   func.max(c.invoice_number), func.min(c.charge_start),
                   func.max(func.coalesce(c.charge_end, c.charge_start)),
                   func.min(c.line_key), func.count(), *sums)
            .where(c.is_usage.is_(True), _not_superseded(), *bounds)
            .group_by(c.connection_id, c.subscription_external_id))


def _day_groups(conn: Bind, period: BillingPeriod, low: Key | None, high: Key | None
                ) -> Select:
    """`_usage_groups` (SUMS) from the usage days: the same groups, their sums added up
    from each day's, and the proof of exactness from each day's places and line count.
    A float sum of the days' float sums makes as many roundings as one of the lines'
    (one per line), so exact_sum's bound holds as it is. A day's unbilled lines are
    dropped when its billed ones are in, as `_not_superseded` drops them."""
    d, billed = DAYS.c, DAYS.alias("billed")
    start, end = _bounds(conn, period)
    twin = (select(literal(1))
            .where(billed.c.connection_id == d.connection_id,
                   billed.c.subscription_external_id == d.subscription_external_id,
                   billed.c.day == d.day, billed.c.billed.is_(True))
            .exists())
    return (select(d.connection_id, d.subscription_external_id, func.min(d.currency),
                   func.max(d.last_currency), func.min(d.charge_type),
                   func.min(d.invoice_number), func.max(d.last_invoice_number),
                   func.min(d.day), func.max(d.last_day), func.min(d.first_line_key),
                   func.sum(d.lines), func.sum(d.quantity), func.max(d.quantity_places),
                   func.sum(d.amount), func.max(d.amount_places))
            .where(d.day >= start, d.day <= end, or_(d.billed.is_(True), not_(twin)),
                   *_key_range(low, high, DAYS))
            .group_by(d.connection_id, d.subscription_external_id))


# How many usage lines of a key range `_many_places` looks at.
PROBE_LINES = 200


def _many_places(conn: Bind, period: BillingPeriod, low: Key | None, high: Key | None,
                 days: bool = False) -> tuple[str, tuple]:
    """Whether the first PROBE_LINES usage lines of a key range have quantities, and
    amounts, with more decimals than a float sum can be proven exact to (Partner Center's
    daily usage amounts have 15): then every group of the range is likely to fail the
    proof, and reading those values' texts at once saves a float pass thrown away. Only
    the cheaper of two exact reads is chosen by it.

    The statement for the raw cursor (SQLite), walking the range in key order through the
    key index, named to SQLite: for a LIMIT its planner would rather walk the range in
    line-key order, reading every line's row. A range without usage in the period is still
    walked whole, its index entries only: about what the grouped read costs there."""
    if days:  # the first days' places: the most of their lines'
        d = DAYS.c
        start, end = _bounds(conn, period)
        sample = (select(d.quantity_places, d.amount_places)
                  .where(d.day >= start, d.day <= end, *_key_range(low, high, DAYS))
                  .limit(PROBE_LINES).subquery())
    else:
        c = LINES.c
        sample = (select(c.quantity_places, c.amount_places)
                  .where(c.is_usage.is_(True), *_key_range(low, high),
                         *_starting_in(conn, period))
                  .limit(PROBE_LINES).subquery())
    sql, params = _statement(select(*(
        func.coalesce(func.max(places % NEGATIVE_PLACES), 0) > MAX_DECIMALS
        for places in (sample.c.quantity_places, sample.c.amount_places))), conn)
    return (sql if days else indexed_by(sql, BY_KEY)), params


def indexed_by(sql: str, index: str) -> str:
    """The statement's charge lines read through `index` (SQLite's INDEXED BY, so SQLite
    refuses the statement rather than read them otherwise). A statement that does not read
    the charge lines exactly once is refused here, rather than left unindexed."""
    written = "FROM charge_lines "
    if sql.count(written) != 1:
        raise ValueError(f"the statement reads {written!r} {sql.count(written)} times")
    return sql.replace(written, f"{written}INDEXED BY {index} ")


BY_KEY = "ix_charge_lines_subscription"  # (connection, subscription, start)
SPANS = "ix_charge_lines_usage_spans"  # usage lines of more than a day (migration 0005)


def _spanning(conn: Connection, period: BillingPeriod) -> set[Key]:
    """The keys with a usage line starting before the period and ending in it, later or
    never: the grouped read takes only lines starting in the period (so years of daily
    usage are never read), and these keys are read again whole.

    Such lines are found through their own small index, named to SQLite: with statistics
    of a workspace holding none, its planner would rather scan every earlier day's usage."""
    c = LINES.c
    start, _ = _bounds(conn, period)
    keys: set[Key] = set()
    for ends in (c.charge_end.is_(None), c.charge_end >= start):
        query = (select(c.connection_id, c.subscription_external_id).distinct()
                 .where(c.is_usage.is_(True), c.subscription_external_id.is_not(None),
                        c.charge_start < start,
                        or_(c.charge_end.is_(None), c.charge_end > c.charge_start), ends))
        if conn.dialect.name == "sqlite":
            sql, params = _statement(query, conn)
            rows = conn.exec_driver_sql(indexed_by(sql, SPANS), params)
        else:
            rows = conn.execute(query)
        keys.update((row[0], row[1]) for row in rows)
    return keys


def _by_currency(conn: Bind, period: BillingPeriod, key: Key) -> Select:
    """A subscription whose usage comes in several currencies (never seen in practice) is
    grouped again by currency, because amounts in two currencies are never added."""
    c = LINES.c
    return (select(c.charge_type, c.invoice_number, c.currency, func.min(c.charge_start),
                   func.max(func.coalesce(c.charge_end, c.charge_start)),
                   func.min(c.line_key), func.count(), _concat(conn, c.quantity),
                   _concat(conn, func.coalesce(c.total, c.subtotal)))
            .where(_in_period(conn, period), c.is_usage.is_(True), _not_superseded(),
                   c.connection_id == key[0], c.subscription_external_id == key[1])
            .group_by(c.charge_type, c.invoice_number, c.currency))


# The background read asks for its groups as one text value: SQLite then computes them all
# without Python's lock, where a row at a time would wait for the lock at every row while
# the caller's thread runs Python (4,000 groups: about a second more).
RECORD, UNIT, NULL = "\x1e", "\x1f", "\x1d"
GROUP_FIELDS = 15


def _packed(conn: Bind, period: BillingPeriod, low: Key | None = None,
            high: Key | None = None, days: bool = False) -> Select:
    groups = _usage_groups(conn, period, low, high, days=days).subquery()
    fields = [func.coalesce(cast(c, Text), NULL) for c in groups.c]
    record = fields[0]
    for value in fields[1:]:
        record = record.concat(UNIT).concat(value)
    return select(func.group_concat(record, RECORD))


def _unpacked(text: str | None) -> list[tuple] | None:
    """The packed groups as rows, or None when a value held a separator (read them again
    a row at a time)."""
    rows = []
    for record in text.split(RECORD) if text else ():
        values = record.split(UNIT)
        if len(values) != GROUP_FIELDS:
            return None
        row: list[Any] = [None if v == NULL else v for v in values]
        row[0], row[10] = int(row[0]), int(row[10])
        rows.append(tuple(row))
    return rows


# A group to be read again whole: its quantities and amounts None (see UsageRead.groups).
READ_AGAIN = (None,) * 9
READ_AGAIN_AT_ONCE = 500  # keys per query


def _grouped(rows: Iterable[tuple], texts: Texts = SUMS) -> list[tuple[Key, tuple | None]]:
    """Usage groups per subscription, their quantities and amounts as exact decimal texts
    (see exact_sum) or, where `texts` says the read gave them so, their lines' texts joined
    ("" for none). A group whose lines come in two currencies is returned as None, to be
    split by currency; one whose sums are not proven exact with quantities and amounts
    None, to be read again."""
    out: list[tuple[Key, tuple | None]] = []
    for (connection_id, subscription, currency, other_currency, charge_type, invoice,
         last_invoice, start, end, first_key, lines, *sums) in rows:
        if currency != other_currency:
            out.append(((connection_id, subscription), None))
            continue
        if invoice != last_invoice:
            invoice = f"{invoice}..{last_invoice}"
        fields = iter(sums)
        quantities, amounts = (next(fields) or "" if as_texts else
                               exact_sum(next(fields), next(fields), lines) for as_texts in texts)
        if quantities is None or amounts is None:
            quantities = amounts = None
        out.append(((connection_id, subscription), (
            charge_type, invoice, currency, start, end, first_key, lines, quantities,
            amounts)))
    return out


def _unproven(group: tuple | None) -> bool:
    return group is not None and group[-1] is None


def _read_again(rows: list[tuple[Key, tuple | None]],
                read: Callable[[list[Key]], Iterable[tuple]]) -> list[tuple[Key, tuple | None]]:
    """The groups, each one not proven exact (or READ_AGAIN) replaced by its key's lines
    read whole as their decimal texts (`_usage_groups` with `again`, run by `read`):
    a few queries for them all, one connection and READ_AGAIN_AT_ONCE keys at a time, not
    one each. A month of Partner Center daily usage has 15-place amounts, whose float sums
    cannot be proven exact: every one of its groups comes this way."""
    by_connection: dict[int, list[Key]] = defaultdict(list)
    for key, group in rows:
        if _unproven(group):
            by_connection[key[0]].append(key)
    if not by_connection:
        return rows
    again: dict[Key, tuple | None] = {}
    for keys in by_connection.values():  # searched by connection and subscription
        for start in range(0, len(keys), READ_AGAIN_AT_ONCE):
            again.update(_grouped(read(keys[start:start + READ_AGAIN_AT_ONCE]), TEXTS))
    return [(key, again.get(key, group) if _unproven(group) else group)
            for key, group in rows]


def _ranges(bind: Engine) -> list[tuple[Key | None, Key | None]]:
    """Two key ranges split at the middle subscription (one range when there are few, or
    when the usage will likely be read from its days, a tenth of the lines' work): any
    split is correct, an even one halves the time."""
    vs = table("vendor_subscriptions", column("connection_id"), column("external_id"))
    with bind.connect() as conn:
        if usage_days.current(conn):  # likely still so in the run's snapshot
            return [(None, None)]
        count = conn.scalar(select(func.count()).select_from(vs)) or 0
        middle = conn.execute(select(vs.c.connection_id, vs.c.external_id)
                              .order_by(vs.c.connection_id, vs.c.external_id)
                              .offset(count // 2).limit(1)).first() if count > 1 else None
    if middle is None:
        return [(None, None)]
    return [(None, tuple(middle)), (tuple(middle), None)]


class _Go:
    """The caller's word to the background reads: go, and from the usage days or not."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.days = False

    def give(self, *, days: bool) -> None:
        self.days = days
        self.event.set()


class _RangeRead:
    """One key range of the usage groups, read on its own connection and thread."""

    def __init__(self, bind: Engine, period: BillingPeriod, low: Key | None,
                 high: Key | None, go: _Go) -> None:
        self.ready = threading.Event()
        self.rows: list[tuple[Key, tuple | None]] | None = None
        self.same_snapshot = False
        self.texts: Texts = SUMS  # what the read gave as the lines' texts (_many_places)
        self.packed: str | None = None  # SUMS: the groups as one text (see _packed) ...
        self.plain: tuple[str, tuple] | None = None  # ... and their statement, row by row
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._read, args=(bind, period, low, high, go),
                                       daemon=True, name="trueup-usage-read")
        self.thread.start()

    def _read(self, bind: Engine, period: BillingPeriod, low: Key | None, high: Key | None,
              go: _Go) -> None:
        raw = None
        try:
            statements = {days: (_many_places(bind, period, low, high, days),
                                 _statement(_packed(bind, period, low, high, days), bind),
                                 _statement(_usage_groups(bind, period, low, high, days=days),
                                            bind))
                          for days in (False, True)}
            raw = bind.raw_connection()
            before = _data_version(raw.cursor())
        except BaseException as exc:  # noqa: BLE001 - read again on the caller's connection
            self.error = exc
            if raw is not None:
                raw.close()
            return
        finally:
            self.ready.set()
        try:
            go.event.wait()
            probe, packed, plain = statements[go.days]
            cursor = raw.cursor()
            cursor.execute("BEGIN")
            cursor.execute("SELECT 1 FROM charge_lines LIMIT 1")  # this read's snapshot
            cursor.fetchall()
            self.same_snapshot = _data_version(cursor) == before
            if self.same_snapshot:
                texts = self.texts = tuple(map(bool, cursor.execute(*probe).fetchone()))
                if texts == SUMS:
                    # Only SQL here: the groups are unpacked by the caller (`groups`), as
                    # Python run here would hold the lock the caller's reads wait for at
                    # every row they step through.
                    self.packed = cursor.execute(*packed).fetchone()[0]
                    self.plain = plain
                    return
                rows = cursor.execute(*_statement(_usage_groups(  # a row at a time
                    bind, period, low, high, texts=texts), bind)).fetchall()
                self.rows = _read_again(_grouped(rows, texts), lambda keys: cursor.execute(
                    *_statement(_usage_groups(bind, period, again=keys), bind)).fetchall())
        except BaseException as exc:  # noqa: BLE001 - read again on the caller's connection
            self.error = exc
        finally:
            raw.rollback()
            raw.close()


def _statement(query: Select, conn: Bind) -> tuple[str, tuple]:
    """SQL text and positional parameters for the raw DBAPI cursor."""
    compiled = query.compile(conn, compile_kwargs={"render_postcompile": True})
    return str(compiled), tuple(compiled.params[name] for name in compiled.positiontup or ())


def _data_version(cursor: Any) -> int:
    """SQLite's count of commits by other connections, as this connection has seen them."""
    cursor.execute("PRAGMA data_version")
    return int(cursor.fetchone()[0])


class UsageRead:
    """The period's usage grouped per subscription, read in the background on SQLite files.

    Read from the lines, the read is split at a middle subscription into two key ranges,
    each on its own connection and thread: SQLite works without Python's lock, so the two
    halves and the caller's own reads share the cores. Read from the usage days, a tenth of
    that work, it is one.

    All reads must see the same data. Each background connection notes SQLite's data
    version, the caller then takes its snapshot (its first read: whether the usage days are
    current in it, which tells the background reads what to read), and only then does each
    background read begin its own; if its data version is unchanged once that snapshot is
    held, nobody committed in between and the snapshots are the same. Otherwise `groups`
    reads again on the caller's connection.
    """

    def __init__(self, session: Session, period: BillingPeriod, *, background: bool = True
                 ) -> None:
        self.period = period
        self._threads: list[_RangeRead] = []
        self.days = False  # read from the usage days (known once the snapshot is taken)
        bind = session.get_bind()
        if background and isinstance(bind, Engine) and bind.dialect.name == "sqlite" and \
                bind.url.database not in (None, "", ":memory:"):
            go = _Go()
            self._threads = [_RangeRead(bind, period, low, high, go)
                             for low, high in _ranges(bind)]
            for thread in self._threads:
                thread.ready.wait()
            try:
                # The caller's snapshot begins with this read.
                self.days = usage_days.current(session.connection())
            finally:
                go.give(days=self.days)
        else:
            self.days = usage_days.current(session.connection())

    @property
    def same_snapshot(self) -> bool:
        """Every background read saw the caller's snapshot (known once `groups` ran)."""
        return bool(self._threads) and all(t.same_snapshot for t in self._threads)

    @staticmethod
    def _rows_of(read: _RangeRead, conn: Connection) -> list[tuple[Key, tuple | None]]:
        """A background read's groups; packed ones are unpacked here (the caller's snapshot
        is the read's), or read again a row at a time when a value held a separator."""
        if read.plain is not None and read.rows is None:
            rows = _unpacked(read.packed)
            if rows is None:
                rows = list(conn.exec_driver_sql(*read.plain))
            read.rows = _grouped(rows, read.texts)
        return read.rows or []

    def groups(self, session: Session) -> dict[Key, list[tuple]]:
        """(charge type, invoice, currency, start, end, first line key, lines, quantities,
        amounts) per usage group, per subscription: the quantities and amounts as decimal
        texts (one exact sum, or the lines' texts joined by SEPARATOR)."""
        conn = session.connection()
        rows: list[tuple[Key, tuple | None]] | None = None
        if self._threads:
            for thread in self._threads:
                thread.thread.join()
            if all(t.error is None and t.same_snapshot for t in self._threads):
                rows = [row for t in self._threads for row in self._rows_of(t, conn)]
        if rows is None:
            rows = _grouped(raw_rows(conn, _usage_groups(conn, self.period, days=self.days)))
        spanning = _spanning(conn, self.period)
        rows = [(key, group) for key, group in rows if key not in spanning]
        rows += [(key, READ_AGAIN) for key in sorted(spanning)]
        rows = _read_again(rows, lambda keys: raw_rows(conn, _usage_groups(
            conn, self.period, again=keys)))
        out: dict[Key, list[tuple]] = defaultdict(list)
        for key, group in rows:
            if _unproven(group):  # not in the period after all (read whole: no lines)
                continue
            if group is None:
                out[key] += list(raw_rows(conn, _by_currency(conn, self.period, key)))
            else:
                out[key].append(group)
        return out
