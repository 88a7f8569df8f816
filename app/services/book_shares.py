"""A big book read in shares, each by the process that reconciles it.

Turning a month-end book's big tables (subscriptions, seat charge lines, PSA lines) into
Python rows costs several times what SQLite takes to find them, and it is work one process
does with one core. Reconciled with a worker per extra core, the book is not read whole by
the process that stores the findings and then handed out: that process reads the small
tables (rules, mappings, companies: what says which part a customer falls in) and then its
own share of the big ones, while each worker reads its share on a connection of its own to
the same SQLite file, at the same time.

`BookShares` is what a process needs for that: the small tables, the statements that read
the big ones for some customers and companies (SQL text whose filters are bound when a share
is read), and the part every vendor customer and PSA company falls in, by the same rule as
`Book.split`. Read for some parts, it gives those parts exactly as splitting the whole book
would.

A worker's read begins after the snapshot of the process that stores the findings began
(it is sent its statements once the small tables are in). Had anyone committed in between,
the worker's rows would be newer than that process's: but then that process's snapshot is
no longer the workspace's latest, its write of the findings fails (SQLite's BUSY_SNAPSHOT)
and the run starts again (app.services.reconcile). Findings drawn from two snapshots are
never stored.

This module imports nothing but the standard library and the book: a worker reads with
sqlite3 itself.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

from app.services.reconcile_book import Book, Line, lines_by_subscription, owner_part


class Bound(NamedTuple):
    """A parameter of a share's statement bound when the share is read: the JSON array of
    the ids of its vendor customers ("customers") or PSA companies ("companies")."""

    name: str


CUSTOMERS, COMPANIES = Bound("customers"), Bound("companies")
Statement = tuple[str, tuple[Any, ...]]  # SQL text and its positional parameters
# The temporary table of a share's subscriptions, each flagged quiet or not, while it is read.
SHARE_TABLE = "trueup_share_subscriptions"


@dataclass(frozen=True)
class ShareStatements:
    """The reads of a share: `prepare` lists its subscriptions in SHARE_TABLE, flagging those
    plainly in step (app.services.quiet_subscriptions); `quiet` counts those per vendor
    customer (id, external id, count); the others read the big tables for the rest, in
    the columns and order `read_book` reads the whole book's: subscriptions with their
    customers, the PSA lines each is mapped to, seat charge lines (one statement per
    search of their index), live PSA lines with their agreements."""

    prepare: Statement
    quiet: Statement
    subs: Statement
    sub_lines: Statement
    seat_rows: tuple[Statement, ...]
    lines: Statement


@dataclass
class BookShares:
    """A book in `count` parts by customer, before its big tables are read."""

    base: Book  # the small tables: no subscriptions, their PSA lines, charge lines or usage
    statements: ShareStatements
    count: int
    customer_parts: dict[int, int]  # vendor customer id -> part
    company_parts: dict[int, int]  # PSA company id -> part (of the customers mapped to it)

    @classmethod
    def plan(cls, base: Book, statements: ShareStatements, count: int,
             customers: Collection[tuple[int, str]]) -> BookShares:
        """The parts of the `customers` (vendor customer id, external id) and of the PSA
        companies they map to, by `Book.split`'s rule."""
        customer_parts = {customer_id: owner_part(base, customer_id, external_id, count)
                          for customer_id, external_id in customers}
        company_parts = {}
        for customer_id, part in customer_parts.items():
            company_id = base.customer_map.get(customer_id)
            if company_id is not None:
                company_parts[company_id] = part
        return cls(base, statements, count, customer_parts, company_parts)

    def read(self, connection: Any, parts: Collection[int]) -> dict[int, Book]:
        """Parts `parts` of the book, less their usage, read on a DBAPI `connection` of
        the SQLite workspace (in the caller's transaction)."""
        wanted = set(parts)
        values = {
            CUSTOMERS: json.dumps(sorted(c for c, n in self.customer_parts.items()
                                         if n in wanted)),
            COMPANIES: json.dumps(sorted(c for c, n in self.company_parts.items()
                                         if n in wanted)),
        }

        def rows(statement: Statement) -> list[tuple]:
            sql, params = statement
            return connection.execute(sql, tuple(values[p] if isinstance(p, Bound) else p
                                                 for p in params)).fetchall()

        statements = self.statements
        connection.execute(f"DROP TABLE IF EXISTS temp.{SHARE_TABLE}")
        rows(statements.prepare)
        try:
            quiet = {(customer_id, external_id): count
                     for customer_id, external_id, count in rows(statements.quiet)}
            subs = rows(statements.subs)
            sub_lines = lines_by_subscription(rows(statements.sub_lines))
            seat_rows: dict[tuple[int, str], list[tuple]] = defaultdict(list)
            for statement in statements.seat_rows:
                for row in rows(statement):
                    seat_rows[(row[0], row[1])].append(row[2:])
            lines = {row[0]: Line._make(row) for row in rows(statements.lines)}
        finally:
            connection.execute(f"DROP TABLE temp.{SHARE_TABLE}")
        book = replace(self.base, subs=subs, sub_lines=sub_lines, seat_rows=dict(seat_rows),
                       lines=lines, quiet=quiet)
        split = book.split(self.count)
        return {n: split[n] for n in sorted(wanted)}


@functools.cache
def supported() -> bool:
    """Whether this SQLite can read shares: their filters list ids in JSON (json_each)."""
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("SELECT value FROM json_each('[1]')").fetchall()
    except sqlite3.Error:
        return False
    finally:
        connection.close()
    return True


def read_shares(path: str, shares: BookShares, parts: Collection[int]) -> dict[int, Book]:
    """`BookShares.read` on a read-only connection of its own to the workspace file at
    `path`, in one transaction (a worker's)."""
    # Read-only, by URI: a wrong path fails rather than creating an empty workspace.
    connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True,
                                 timeout=30)
    try:
        connection.execute("BEGIN")
        return shares.read(connection, parts)
    finally:
        connection.rollback()
        connection.close()


@dataclass(frozen=True)
class ShareJob:
    """A worker's share of a book to read itself: the parts `held` of `shares`, from the
    SQLite workspace file at `path` (see app.services.book_shares). Any other part it is
    given without its rows it reads too."""

    path: str
    shares: BookShares
    held: tuple[int, ...]

    def read(self, parts: tuple[int, ...] | None = None) -> dict[int, Book]:
        return read_shares(self.path, self.shares, self.held if parts is None else parts)
