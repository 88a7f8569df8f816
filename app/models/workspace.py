"""Opening a workspace: one database, its engine, its pragmas, its migrations, its sessions.

A workspace is an SQLite file in the user's data folder by default, or any SQLAlchemy URL
(PostgreSQL for a team sharing one). Opening runs the Alembic migrations to head, so an old
workspace is upgraded in place and never loses rows.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.models.checkpoints import Checkpoints

APP_NAME = "TrueUp"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 15_000


class WorkspaceError(RuntimeError):
    """The workspace could not be opened; the message says which and why."""


def data_dir() -> Path:
    """Where workspaces live: TRUEUP_DATA_DIR, else the platform's user data folder."""
    override = os.environ.get("TRUEUP_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, False))


def default_workspace_path() -> Path:
    return data_dir() / "workspace.sqlite"


def demo_workspace_path() -> Path:
    return data_dir() / "demo.sqlite"


def to_url(target: str | Path | None) -> str:
    """A path or an SQLAlchemy URL → a URL; None → the default workspace file."""
    if target is None:
        target = default_workspace_path()
    text = str(target)
    if "://" in text:
        return text
    path = Path(text).expanduser().resolve()
    return f"sqlite:///{path}"


def _set_sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.close()


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WorkspaceError(f"cannot create the workspace folder {folder}: {exc}") from exc
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to `revision`; each migration runs in its own transaction."""
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@dataclass
class Workspace:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    checkpoints: Checkpoints | None = None  # an SQLite workspace's (see defer_checkpoint)

    @classmethod
    def open(cls, target: str | Path | None = None, *, upgrade: bool = True) -> Workspace:
        url = to_url(target)
        engine = make_engine(url)
        try:
            if upgrade:
                migrate(engine)
        except Exception as exc:
            engine.dispose()
            raise WorkspaceError(f"cannot open workspace {display_url(url)}: {exc}") from exc
        checkpoints = Checkpoints(engine) if engine.dialect.name == "sqlite" else None
        return cls(url, engine, sessionmaker(engine, expire_on_commit=False), checkpoints)

    @property
    def path(self) -> Path | None:
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            return Path(parsed.database)
        return None

    @contextmanager
    def begin(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any error."""
        with self.sessions.begin() as session:
            yield session

    def defer_checkpoint(self, session: Session) -> None:
        """Let a big write's commit return before SQLite folds its log into the file (see
        app.models.checkpoints); nothing to do on other databases."""
        if self.checkpoints is not None:
            self.checkpoints.defer(session)

    def backup(self, destination: Path) -> Path:
        """A consistent copy of an SQLite workspace through SQLite's online backup API."""
        if self.path is None:
            raise WorkspaceError("backup is only available for SQLite workspaces")
        destination = Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(str(self.path))
        dst = sqlite3.connect(str(destination))
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return destination

    def close(self) -> None:
        if self.checkpoints is not None:
            self.checkpoints.wait()
        self.engine.dispose()


def display_url(url: str) -> str:
    """The URL without any password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)
