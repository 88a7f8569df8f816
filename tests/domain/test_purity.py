"""The domain stands alone: standard library only (one named exception), and no float near
money."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "app" / "domain"
MONEY_MODULES = ["money.py", "periods.py", "daycount.py", "timeline.py", "cancellation.py"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


# The one exception, and where: a faster writer of json's own text (see its docstring).
ALLOWED = {"json_text.py": {"orjson"}}


@pytest.mark.parametrize("path", sorted(DOMAIN.rglob("*.py")),
                         ids=lambda p: str(p.relative_to(DOMAIN)))
def test_domain_imports_only_the_standard_library(path):
    foreign = {
        name
        for name in _imports(path)
        if name.split(".")[0] not in sys.stdlib_module_names and not name.startswith("app.domain")
    } - ALLOWED.get(str(path.relative_to(DOMAIN)), set())
    assert not foreign, f"{path.name} imports {sorted(foreign)}"


@pytest.mark.parametrize("name", MONEY_MODULES)
def test_no_float_literal_or_conversion_in_money_code(name):
    tree = ast.parse((DOMAIN / name).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        assert not (isinstance(node, ast.Constant) and isinstance(node.value, float)), (
            f"{name}:{node.lineno} has a float literal"
        )
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id != "float", f"{name}:{node.lineno} calls float()"
