"""`trueup connect pax8` then `trueup sync --connection Pax8` against the Pax8 sandbox on a
real socket: a progress line, a summary, and a non-zero exit with the reason on failure."""

from __future__ import annotations

import json
import sys

from app.main import main
from app.sync.pax8.sandbox import Pax8Sandbox
from app.sync.sandbox.base import SERVER_ERROR, LoopbackServer


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_pax8_sync_from_the_command_line(db_path, capsys, monkeypatch):
    sandbox = Pax8Sandbox.seeded(customers=8, subscriptions=40, seed=9)
    db = str(db_path)
    with LoopbackServer(sandbox) as server:
        monkeypatch.setenv("TRUEUP_SECRET", sandbox.client_secret)
        code, _, err = _run(capsys, "--db", db, "connect", "pax8", "--url", server.url + "/v1",
                            "--client-id", sandbox.client_id)
        assert code == 0, err

        monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
        code, out, err = _run(capsys, "--db", db, "sync", "--connection", "Pax8")
        assert code == 0, err
        assert out.startswith("Pax8: complete (customers 8, products 19, subscriptions 40")
        assert "Pax8 companies: page 1 of 1" in err and "Pax8 subscription history" in err
        assert err.endswith("\r\x1b[K")  # the progress line is cleared at the end

        code, out, _ = _run(capsys, "--db", db, "sync", "--json")  # every connection
        [result] = json.loads(out)
        assert code == 0 and result["status"] == "complete"
        assert result["counts"]["histories"] == 0  # nothing changed: no history requests

        sandbox.inject(SERVER_ERROR, path="^/subscriptions$")
        code, out, _ = _run(capsys, "--db", db, "sync", "--connection", "Pax8")
        assert code == 1
        assert out.startswith("Pax8: failed — ConnectorError: Pax8 GET /subscriptions")
        assert "HTTP 500" in out and "Injected server error" in out

        code, _, err = _run(capsys, "--db", db, "sync", "--connection", "Nope")
        assert code == 1 and "no connection named 'Nope'" in err

    assert sandbox.client_secret not in out + err
