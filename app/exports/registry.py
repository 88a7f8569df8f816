"""Registered user templates: validated copies kept in the workspace's templates folder.

A copy, not a path to the person's file: later edits to (or the deletion of) the original
cannot change or break an export that worked, and the folder sits beside the workspace file,
so a backup of one is easily a backup of both. Re-register the file to take its edits.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from app.exports.builtins import BUILTINS
from app.exports.template import Template, TemplateError
from app.exports.template_file import read_template


def template_path(folder: Path, name: str) -> Path:
    return folder / f"{name}.xlsx"


def registered_names(folder: Path) -> list[str]:
    return [p.stem for p in sorted(folder.glob("*.xlsx"))] if folder.is_dir() else []


def find_template(folder: Path, name: str) -> Template:
    if name in BUILTINS:
        return BUILTINS[name]
    path = template_path(folder, name)
    if not path.is_file():
        known = [*BUILTINS, *registered_names(folder)]
        raise TemplateError(f"no template named {name!r}; known: {', '.join(known)}")
    return read_template(path, name=name)


def register(folder: Path, source: Path, name: str | None, *, replace: bool) -> Template:
    """Validate `source`, then copy it in under its name; nothing is kept if it is invalid."""
    if not source.is_file():
        raise TemplateError(f"{source} does not exist")
    template = read_template(source, name=name)
    if template.name in BUILTINS:
        raise TemplateError(f"{template.name!r} is a built-in template's name; choose another "
                            "(name setting in the _trueup sheet, or --name)")
    target = template_path(folder, template.name)
    if target.exists() and not replace:
        raise TemplateError(f"a template named {template.name!r} is already registered; "
                            "remove it first or replace it")
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    shutil.copyfile(source, partial)
    partial.replace(target)
    return read_template(target, name=template.name)


def unregister(folder: Path, name: str) -> None:
    if name in BUILTINS:
        raise TemplateError(f"{name!r} is built in and cannot be removed")
    path = template_path(folder, name)
    if not path.is_file():
        raise TemplateError(f"no registered template named {name!r}")
    path.unlink()
