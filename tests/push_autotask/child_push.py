"""Child process of the SIGKILL test: push every pending intent and die right after the
adjustment was accepted, before the engine could record DONE (run with `python -m`)."""

from __future__ import annotations

import os
import signal
import sys

import app.models.connections  # noqa: F401 - mapped before the engine's models need it
from app.models.workspace import Workspace
from app.sync.autotask import AutotaskConnector
from app.sync.push import engine
from app.sync.push.autotask_adapter import AutotaskPushAdapter
from app.sync.push.engine import SendResult
from app.sync.push.intents import IntentView
from app.sync.push.verdict import LineSnapshot

SECRET_ENV = "TRUEUP_CHILD_SECRET"  # never on the command line, where `ps` would show it


class DieAfterSend:
    """The real adapter, but the process is SIGKILLed the moment `send` returns."""

    def __init__(self, inner: AutotaskPushAdapter) -> None:
        self.inner = inner

    def read(self, intent: IntentView) -> LineSnapshot:
        return self.inner.read(intent)

    def send(self, intent: IntentView) -> SendResult:
        result = self.inner.send(intent)
        os.kill(os.getpid(), signal.SIGKILL)
        return result  # never reached


def main(db: str, zone_url: str, username: str, integration_code: str) -> int:
    ws = Workspace.open(db, upgrade=False)
    connector = AutotaskConnector(username, os.environ[SECRET_ENV], integration_code,
                                  zone_url=zone_url)
    adapter = DieAfterSend(AutotaskPushAdapter(connector))
    engine.push_pending(ws.sessions, lambda intent: adapter, user="child")
    return 3  # reaching this means the kill did not happen


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
