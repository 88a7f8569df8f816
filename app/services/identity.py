"""Who is acting: the user name recorded in the audit log (a setting, else the OS user)."""

from __future__ import annotations

from sqlalchemy import select

from app.models.audit import os_user
from app.models.connections import Setting
from app.services.workspace import Workspace

USER_KEY = "audit.user_name"


def current_user(ws: Workspace) -> str:
    with ws.begin() as s:
        row = s.scalar(select(Setting).where(Setting.key == USER_KEY))
        if row is not None and row.value.get("name"):
            return row.value["name"]
    return os_user()


def set_user_name(ws: Workspace, name: str) -> None:
    with ws.begin() as s:
        row = s.scalar(select(Setting).where(Setting.key == USER_KEY))
        if row is None:
            s.add(Setting(key=USER_KEY, value={"name": name}))
        else:
            row.value = {"name": name}
