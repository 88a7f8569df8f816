"""`python main.py` and the `trueup` script reach the same main(); --help lists commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, env_extra: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env_extra or {})}
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=env, **kw)


def test_help_lists_the_commands():
    result = _run("--help")
    assert result.returncode == 0
    assert "workspace" in result.stdout
    assert "--db PATH|URL" in result.stdout


def test_version():
    from app import __version__

    result = _run("--version")
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_workspace_info_json_on_a_fresh_database(tmp_path):
    db = tmp_path / "fresh.sqlite"
    result = _run("--db", str(db), "workspace", "info", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["location"] == str(db.resolve())
    assert info["counts"]["connections"] == 0
    assert db.exists()


def test_default_workspace_lives_in_the_data_folder(tmp_path):
    result = _run("workspace", "info", "--json", env_extra={"TRUEUP_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["location"] == str(tmp_path / "workspace.sqlite")


def test_bad_database_fails_with_a_reason(tmp_path):
    bogus = tmp_path / "garbage.sqlite"
    bogus.write_bytes(b"garbage" * 1000)
    result = _run("--db", str(bogus), "workspace", "info")
    assert result.returncode == 1
    assert "garbage.sqlite" in result.stderr
    assert "Traceback" not in result.stderr


def test_console_script_points_at_the_same_main():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["trueup"] == "app.main:main"
