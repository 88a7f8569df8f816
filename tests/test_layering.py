"""Imports point one way: (ui, cli) → services → (sync, exports) → models → domain."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"

# For each layer, the app packages and third-party roots it must never import.
FORBIDDEN = {
    "domain": {"app.models", "app.sync", "app.exports", "app.services", "app.ui", "app.cli",
               "PySide6", "sqlalchemy", "httpx", "alembic", "openpyxl", "keyring"},
    "models": {"app.sync", "app.exports", "app.services", "app.ui", "app.cli", "PySide6",
               "httpx"},
    "sync": {"app.services", "app.ui", "app.cli", "PySide6"},
    "exports": {"app.services", "app.ui", "app.cli", "PySide6"},
    "services": {"app.ui", "app.cli", "PySide6"},
    "cli": {"app.ui", "app.sync", "app.models", "app.exports", "PySide6"},
    "ui": {"app.cli", "app.sync", "app.models", "app.exports"},
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _violations(layer: str) -> list[str]:
    folder = APP / layer
    files = [folder.with_suffix(".py")] if not folder.is_dir() else sorted(folder.rglob("*.py"))
    bad = []
    for path in files:
        if not path.exists():
            continue
        for line, module in _imports(path):
            for banned in FORBIDDEN[layer]:
                if module == banned or module.startswith(banned + "."):
                    bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return bad


def test_domain_is_standard_library_only():
    assert _violations("domain") == []


def test_layers_point_one_way():
    problems = [v for layer in FORBIDDEN if layer != "domain" for v in _violations(layer)]
    assert problems == []


def test_domain_imports_with_qt_sqlalchemy_httpx_unavailable():
    """Import every domain module in a process where those libraries cannot be imported."""
    modules = sorted(
        "app.domain." + p.stem for p in (APP / "domain").glob("*.py") if p.stem != "__init__"
    )
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'PySide6', 'sqlalchemy', 'httpx', 'shiboken6'}:\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {modules!r}:\n"
        "    __import__(m)\n"
        "print('ok', len(sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")
