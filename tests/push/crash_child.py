"""A push process that dies by SIGKILL at a chosen moment: no cleanup, no except, no finally.

Run by test_crash_recovery.py as `python crash_child.py DB MOMENT` with the connection's
secret in TRUEUP_TEST_CHILD_SECRET (a child cannot see the parent's in-memory keyring).
MOMENT is `before_send` (after the claim and the read-before-write, before any write) or
`after_send` (the PSA accepted the write; the local DONE was never committed).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

import keyring  # noqa: E402

from app.models.workspace import Workspace  # noqa: E402
from app.services.push import push_approved  # noqa: E402
from app.sync import credentials  # noqa: E402
from app.sync.push.connectwise_adapter import ConnectWisePushAdapter  # noqa: E402
from tests.push.keyring_backend import MemoryKeyring  # noqa: E402


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def main(db: str, moment: str) -> int:
    keyring.set_keyring(MemoryKeyring())
    credentials.store_secret("CW", os.environ["TRUEUP_TEST_CHILD_SECRET"])
    real_send = ConnectWisePushAdapter.send

    def send(self, intent):  # noqa: ANN001, ANN202
        if moment == "before_send":
            die()
        result = real_send(self, intent)
        if moment == "after_send":
            die()
        return result

    ConnectWisePushAdapter.send = send
    push_approved(Workspace.open(db), user="child")
    return 3  # not reached: the process is killed inside push_approved


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
