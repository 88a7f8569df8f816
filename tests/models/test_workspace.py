"""Opening a workspace: pragmas, migrations that keep every row, append-only audit, backup."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError, IntegrityError

from app.models import usage_days
from app.models.base import Base
from app.models.entities import AuditEntry, Connection
from app.models.workspace import Workspace, WorkspaceError, make_engine, migrate


def test_pragmas_are_set_on_every_connection(db_path):
    ws = Workspace.open(db_path)
    try:
        with ws.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    finally:
        ws.close()


def test_open_creates_every_table_at_head(db_path):
    ws = Workspace.open(db_path)
    try:
        tables = set(inspect(ws.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        with ws.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    finally:
        ws.close()


def test_foreign_keys_are_enforced(db_path):
    ws = Workspace.open(db_path)
    try:
        with pytest.raises(IntegrityError), ws.begin() as s:
            s.execute(text(
                "INSERT INTO vendor_customers (connection_id, external_id, name, first_seen_at) "
                "VALUES (999, 'x', 'Ghost', '2024-01-01 00:00:00')"
            ))
    finally:
        ws.close()


def test_upgrade_from_first_migration_keeps_every_row(db_path):
    engine = make_engine(f"sqlite:///{db_path}")
    migrate(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO connections (name, kind, side, settings, created_at) "
            "VALUES ('pax8', 'pax8', 'vendor', '{}', '2024-01-01 00:00:00')"
        ))
        conn.execute(text(
            "INSERT INTO vendor_customers (connection_id, external_id, name, first_seen_at) "
            "VALUES (1, 'c-1', 'Contoso', '2024-01-01 00:00:00')"
        ))
        conn.execute(text(
            "INSERT INTO audit_log (at, user, action, entity, entity_id) "
            "VALUES ('2024-01-01 00:00:00', 'ann', 'map', 'customer', '1')"
        ))
        before = {
            t: conn.execute(text(f"SELECT * FROM {t} ORDER BY id")).all()
            for t in ("connections", "vendor_customers", "audit_log")
        }
    engine.dispose()

    ws = Workspace.open(db_path)  # opening migrates to head
    try:
        with ws.engine.connect() as conn:
            for table, rows in before.items():
                assert conn.execute(text(f"SELECT * FROM {table} ORDER BY id")).all() == rows
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() != "0001"
    finally:
        ws.close()


def test_audit_log_is_append_only(db_path):
    ws = Workspace.open(db_path)
    try:
        with ws.begin() as s:
            s.add(AuditEntry(user="ann", action="approve", entity="finding", entity_id="7",
                             before={"status": "open"}, after={"status": "approved"}))
        with pytest.raises(DatabaseError, match="append-only"), ws.begin() as s:
            s.execute(text("UPDATE audit_log SET user = 'mallory'"))
        with pytest.raises(DatabaseError, match="append-only"), ws.begin() as s:
            s.execute(text("DELETE FROM audit_log"))
        with ws.begin() as s:
            assert s.query(AuditEntry).one().user == "ann"
    finally:
        ws.close()


def test_backup_uses_a_consistent_copy(db_path, tmp_path):
    ws = Workspace.open(db_path)
    try:
        with ws.begin() as s:
            s.add(Connection(name="pax8", kind="pax8", side="vendor",
                             created_at=datetime(2024, 1, 1, tzinfo=UTC)))
        dest = ws.backup(tmp_path / "copy" / "backup.sqlite")
    finally:
        ws.close()
    with sqlite3.connect(dest) as conn:
        assert conn.execute("SELECT name FROM connections").fetchall() == [("pax8",)]


def test_unreadable_workspace_is_a_clear_error(tmp_path):
    bogus = tmp_path / "not-a-db.sqlite"
    bogus.write_bytes(b"this is not an sqlite file" * 100)
    with pytest.raises(WorkspaceError, match="not-a-db.sqlite"):
        Workspace.open(bogus)
    assert bogus.read_bytes().startswith(b"this is not an sqlite file")


@pytest.mark.postgres
def test_models_create_and_run_on_postgresql(postgres_url):
    url = postgres_url
    ws = Workspace.open(url)
    try:
        with ws.begin() as s:
            s.add(AuditEntry(user="ann", action="approve", entity="finding", entity_id="1"))
        with pytest.raises(DatabaseError, match="append-only"), ws.begin() as s:
            s.execute(text("DELETE FROM audit_log"))
        assert set(Base.metadata.tables) <= set(inspect(ws.engine).get_table_names())
        from app.services.reconcile import reconcile_period  # one snapshot: REPEATABLE READ

        assert reconcile_period(ws, "2026-03", user="ann").findings == 0
    finally:
        ws.close()


def test_migrations_match_the_models(db_path):
    """A model changed without a migration would leave real workspaces behind."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    ws = Workspace.open(db_path)
    try:
        with ws.engine.connect() as conn:
            # The usage days are derived data SQLite workspaces keep outside the models.
            ctx = MigrationContext.configure(conn, opts={
                "compare_type": True,
                "include_name": lambda name, kind, _parent: not (
                    kind == "table" and name in usage_days.TABLES)})
            assert compare_metadata(ctx, Base.metadata) == []
    finally:
        ws.close()
