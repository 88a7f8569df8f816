"""`trueup export`, `trueup templates ...` and `trueup import-decisions`.

Exports fill a template for a period (Xero, QuickBooks, the review workbook or a registered
template of your own); the review workbook comes back with `import-decisions`, all or
nothing. Progress goes to stderr on a terminal; `--json` prints one JSON document.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli.common import CommandError, print_json, say, workspace_from
from app.services.exports import (
    ExportCancelled,
    ExportError,
    copy_template,
    export,
    import_decisions,
    list_templates,
    preview,
    register_template,
    remove_template,
    show_template,
)
from app.services.identity import current_user


def register(sub: argparse._SubParsersAction) -> None:
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", help="print one JSON document")

    p = sub.add_parser("export", parents=[json_flag],
                       help="fill a template (xero, quickbooks, review or your own) for a period")
    p.add_argument("--template", required=True, metavar="NAME", help="see `templates list`")
    p.add_argument("--period", required=True, metavar="YYYY-MM")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="the file to write; .csv or .xlsx as the template allows")
    p.set_defaults(handler=_export)

    group = sub.add_parser("templates", help="list, show, copy, add or remove export templates")
    cmds = group.add_subparsers(dest="templates_command", metavar="ACTION", required=True)
    p = cmds.add_parser("list", parents=[json_flag], help="built-in and registered templates")
    p.set_defaults(handler=_list)
    p = cmds.add_parser("show", parents=[json_flag],
                        help="a template's columns, and its first rows for a period")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--period", metavar="YYYY-MM", help="preview the first rows of this period")
    p.add_argument("--rows", type=int, default=5, help="rows to preview (default 5)")
    p.set_defaults(handler=_show)
    p = cmds.add_parser("copy", help="write a template as a workbook to edit in Excel")
    p.add_argument("name", metavar="NAME")
    p.add_argument("file", metavar="FILE.xlsx")
    p.set_defaults(handler=_copy)
    p = cmds.add_parser("add", parents=[json_flag], help="register an edited template workbook")
    p.add_argument("file", metavar="FILE.xlsx")
    p.add_argument("--name", help="register under this name (default: its _trueup name)")
    p.add_argument("--replace", action="store_true", help="replace a template of that name")
    p.set_defaults(handler=_add)
    p = cmds.add_parser("remove", help="unregister a template of your own")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(handler=_remove)

    p = sub.add_parser("import-decisions", parents=[json_flag],
                       help="apply the decisions edited in a review workbook (all or nothing)")
    p.add_argument("file", metavar="FILE.xlsx")
    p.add_argument("--dry-run", action="store_true",
                   help="check every row and report; change nothing")
    p.set_defaults(handler=_import)


def _progress(done: int, total: int, message: str) -> None:
    sys.stderr.write(f"\r\033[K  {done:,}/{total:,} {message}"[:160])
    sys.stderr.flush()


def _export(args: argparse.Namespace) -> int:
    progress = None if args.json or not sys.stderr.isatty() else _progress
    with workspace_from(args) as ws:
        try:
            result = export(ws, args.template, args.period, Path(args.output),
                            progress=progress, user=current_user(ws))
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
        except ExportCancelled as exc:
            raise CommandError("export cancelled; no file written", 130) from exc
        finally:
            if progress:
                sys.stderr.write("\r\033[K")
    if args.json:
        print_json(result)
        return 0
    invoices = f", {result.invoices} invoices" if result.invoices is not None else ""
    say(f"{result.template} {result.period}: {result.rows} rows{invoices} in "
        f"{result.seconds:.1f} s")
    for warning in result.warnings:
        say(f"warning: {warning}")
    if result.warning_count > len(result.warnings):
        say(f"warning: … {result.warning_count - len(result.warnings)} more")
    for name in result.files:
        print(name)
    return 0


def _list(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        infos = list_templates(ws)
    if args.json:
        print_json(infos)
        return 0
    for info in infos:
        where = "built in" if info.builtin else info.location
        if info.problem:
            print(f"{info.name:<16} BROKEN  {where}: {info.problem.splitlines()[0]}")
        else:
            print(f"{info.name:<16} {'/'.join(info.outputs):<9} {info.source:<14} {info.title}"
                  + ("" if info.builtin else f"  ({where})"))
    return 0


def _show(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        try:
            info = show_template(ws, args.name)
            sample = preview(ws, args.name, args.period, args.rows) if args.period else None
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
    if args.json:
        print_json({"template": info, "preview": sample})
        return 0
    print(f"{info.name}: {info.title}\n  source {info.source}, writes "
          f"{' or '.join(info.outputs)}" + (f"\n  {info.notes}" if info.notes else ""))
    for col in info.columns:
        fmt = f"  [{col['format']}]" if col["format"] else ""
        print(f"  {col['column']:>3} {col['header']:<24} {col['binding']}{fmt}")
    if sample is not None:
        print(f"\nFirst {len(sample.rows)} of {sample.total} rows for {sample.period}:")
        print("\t".join(sample.headers))
        for row in sample.rows:
            print("\t".join(row))
        for note in sample.notes:
            say(f"note: {note}")
    return 0


def _copy(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        try:
            path = copy_template(ws, args.name, Path(args.file))
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
    say(f"Wrote {path}. Edit it in Excel (unhide the _trueup sheet to change bindings), "
        "then: trueup templates add FILE")
    return 0


def _add(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        try:
            info = register_template(ws, Path(args.file), name=args.name, replace=args.replace)
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
    if args.json:
        print_json(info)
    else:
        say(f"Registered template {info.name!r} ({info.source}, {'/'.join(info.outputs)}).")
    return 0


def _remove(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        try:
            remove_template(ws, args.name)
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
    say(f"Removed template {args.name!r}.")
    return 0


def _import(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        try:
            report = import_decisions(ws, Path(args.file), dry_run=args.dry_run,
                                      user=current_user(ws))
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
    if args.json:
        print_json({"file": report.file, "dry_run": report.dry_run, "period": report.period,
                    **report.counts(), "rows": {
                        "applied": report.applied, "unchanged": report.unchanged,
                        "stale": report.stale, "unknown": report.unknown}})
        return 0
    counts = report.counts()
    verb = "would apply" if report.dry_run else "applied"
    say(f"{report.file}: {verb} {counts['applied']}, unchanged {counts['unchanged']}, "
        f"stale {counts['stale']} (not applied), unknown {counts['unknown']}")
    for label, outcomes in (("stale", report.stale), ("unknown", report.unknown)):
        for o in outcomes:
            say(f"  {label}: row {o.row}" + (f" finding {o.finding_id}" if o.finding_id else "")
                + f": {o.reason}")
    return 0
