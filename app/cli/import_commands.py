"""`trueup import partner-center|csv` and `trueup profiles ...`: vendor files into the workspace.

`import ... --json` prints exactly one JSON object, {"file", "imported", "duplicates",
"already_imported", "rejected": [{"row", "column", "reason"}]}, on success and on failure
alike; the exit code tells them apart. Human mode shows a progress line on stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from app.cli.common import CommandError, print_json, say, workspace_from
from app.services.imports import (
    PROFILE_FIELDS,
    FileImportError,
    ImportCancelled,
    ImportPreview,
    ImportProfileInfo,
    ImportResult,
    ProfileError,
    ProfileSettings,
    create_profile,
    delete_profile,
    get_profile,
    import_partner_center_file,
    import_with_profile,
    list_profiles,
    preview_with_profile,
)


def register(sub: argparse._SubParsersAction) -> None:
    imp = sub.add_parser("import", help="import a vendor file (Partner Center CSV, or any "
                         "CSV/XLSX through a profile)")
    imp_sub = imp.add_subparsers(dest="import_command", metavar="SOURCE", required=True)
    pc = imp_sub.add_parser("partner-center", help="a new-commerce invoice reconciliation "
                            "CSV, or a daily rated usage CSV with --usage")
    pc.add_argument("file", type=Path)
    pc.add_argument("--usage", action="store_true", help="the file is daily rated usage")
    pc.add_argument("--connection", metavar="NAME",
                    help="the Partner Center connection (default: the only one, created as "
                    "'Partner Center' on first import)")
    _import_options(pc)
    pc.set_defaults(handler=_import_partner_center)
    csv = imp_sub.add_parser("csv", help="a CSV or XLSX file through a saved profile")
    csv.add_argument("file", type=Path)
    csv.add_argument("--profile", required=True, metavar="NAME")
    _import_options(csv)
    csv.set_defaults(handler=_import_csv)

    prof = sub.add_parser("profiles", help="column-mapping profiles for generic vendor files")
    prof_sub = prof.add_subparsers(dest="profiles_command", metavar="ACTION", required=True)
    create = prof_sub.add_parser("create", help="save a new profile")
    create.add_argument("name")
    create.add_argument("--vendor", required=True, help="the vendor's name")
    create.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                        help=f"map a field to a source column; fields: {', '.join(PROFILE_FIELDS)}")
    create.add_argument("--const", action="append", default=[], metavar="FIELD=VALUE",
                        help="a value for a field the file lacks (or leaves empty)")
    create.add_argument("--currency", help="shortcut for --const currency=CODE")
    create.add_argument("--delimiter", default=",", help="CSV delimiter (default ,)")
    create.add_argument("--decimal-comma", action="store_true", help="numbers use 12,50")
    create.add_argument("--thousands", default="", help="thousands separator, e.g. . or ' '")
    create.add_argument("--date-format", action="append", default=[], metavar="FORMAT",
                        help="strftime pattern, e.g. %%d/%%m/%%Y (repeatable; default ISO)")
    create.add_argument("--encoding", default="auto", help="auto (default), utf-8, cp1252...")
    create.add_argument("--header-row", type=int, default=1, help="line of the column names")
    create.add_argument("--sheet", help="XLSX sheet name (default: the active sheet)")
    create.add_argument("--json", action="store_true", help="print one JSON document")
    create.set_defaults(handler=_create)
    listing = prof_sub.add_parser("list", help="the saved profiles")
    listing.add_argument("--json", action="store_true", help="print one JSON document")
    listing.set_defaults(handler=_list)
    show = prof_sub.add_parser("show", help="one profile's settings")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="print one JSON document")
    show.set_defaults(handler=_show)
    delete = prof_sub.add_parser("delete", help="delete a profile")
    delete.add_argument("name")
    delete.set_defaults(handler=_delete)
    prev = prof_sub.add_parser("preview", help="the first rows of a file as the profile "
                               "reads them, with every cell error")
    prev.add_argument("name")
    prev.add_argument("file", type=Path)
    prev.add_argument("--rows", type=int, default=20)
    prev.add_argument("--json", action="store_true", help="print one JSON document")
    prev.set_defaults(handler=_preview)


def _import_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--accept-good-rows", action="store_true",
                        help="import the good rows and list the rejected ones (default: a "
                        "file with any bad row imports nothing)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


# --- import -------------------------------------------------------------------------------------


def _import_partner_center(args: argparse.Namespace) -> int:
    return _run_import(args, lambda ws, progress: import_partner_center_file(
        ws, args.file, usage=args.usage, accept_good_rows=args.accept_good_rows,
        connection=args.connection, progress=progress))


def _import_csv(args: argparse.Namespace) -> int:
    return _run_import(args, lambda ws, progress: import_with_profile(
        ws, args.file, args.profile, accept_good_rows=args.accept_good_rows,
        progress=progress))


def _run_import(args: argparse.Namespace, run) -> int:  # noqa: ANN001
    progress = None if args.json else _ProgressLine(args.file.name)
    with workspace_from(args) as ws:
        try:
            result = run(ws, progress)
        except FileImportError as exc:
            if progress:
                progress.end()
            if args.json:
                print_json(exc.result.as_json())
            else:
                _print_rejects(exc.result, sys.stderr)
            raise CommandError(str(exc)) from exc
        except (ImportCancelled, ProfileError) as exc:
            if args.json:  # still exactly one JSON object, naming the reason
                print_json({"file": args.file.name, "imported": 0, "duplicates": 0,
                            "already_imported": False,
                            "rejected": [{"row": None, "column": None, "reason": str(exc)}]})
            code = 130 if isinstance(exc, ImportCancelled) else 1
            raise CommandError(str(exc), exit_code=code) from exc
        finally:
            if progress:
                progress.end()
    if args.json:
        print_json(result.as_json())
        return 0
    if result.already_imported:
        print(f"{result.file} was already imported; nothing changed.")
        return 0
    print(f"Imported {result.imported:,} lines from {result.file} into {result.connection} "
          f"({result.duplicates:,} duplicates skipped; {result.new_customers:,} new customers, "
          f"{result.new_subscriptions:,} new subscriptions).")
    if result.rejected_rows:
        print(f"{result.rejected_rows:,} rejected rows were not imported (kept in the "
              "import's rejects report):")
        _print_rejects(result, sys.stdout)
    return 0


def _print_rejects(result: ImportResult, stream) -> None:  # noqa: ANN001
    for reject in result.rejected:
        print(f"  {reject.describe(result.file)}", file=stream)


class _ProgressLine:
    """One updating line on stderr (a new line every few seconds when not a terminal)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int, message: str) -> None:
        now = time.monotonic()
        if now - self.last < (0.2 if self.tty else 5.0) and done < total:
            return
        self.last = now
        percent = f"{100 * done // total:3d}% " if total else ""
        line = f"{self.name}: {percent}{message}"
        if self.tty:
            sys.stderr.write(f"\r\033[K{line}"[:160])
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
        self.shown = True

    def end(self) -> None:
        if self.shown and self.tty:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
        self.shown = False


# --- profiles ----------------------------------------------------------------------------------


def _pairs(items: list[str], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        field, sep, value = item.partition("=")
        if not sep or not field.strip():
            raise CommandError(f"{option} expects FIELD=VALUE, not {item!r}")
        pairs[field.strip()] = value.strip()
    return pairs


def _create(args: argparse.Namespace) -> int:
    constants = _pairs(args.const, "--const")
    if args.currency:
        constants["currency"] = args.currency
    settings = ProfileSettings(
        columns=_pairs(args.map, "--map"), constants=constants,
        date_formats=tuple(args.date_format) or ("%Y-%m-%d",),
        decimal_comma=args.decimal_comma, thousands=args.thousands,
        delimiter=args.delimiter.replace("\\t", "\t"), encoding=args.encoding,
        header_row=args.header_row, sheet=args.sheet)
    with workspace_from(args) as ws:
        try:
            info = create_profile(ws, args.name, args.vendor, settings)
        except ProfileError as exc:
            raise CommandError(str(exc)) from exc
    if args.json:
        print_json(_profile_json(info))
    else:
        say(f"Saved profile {info.name!r} for {info.vendor_name}.")
    return 0


def _list(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        profiles = list_profiles(ws)
    if args.json:
        print_json([_profile_json(info) for info in profiles])
    elif not profiles:
        say("No import profiles yet (create one with `trueup profiles create`).")
    else:
        for info in profiles:
            print(f"{info.name:<24} {info.vendor_name}")
    return 0


def _show(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        try:
            info = get_profile(ws, args.name)
        except ProfileError as exc:
            raise CommandError(str(exc)) from exc
    if args.json:
        print_json(_profile_json(info))
        return 0
    s = info.settings
    print(f"Profile:   {info.name}\nVendor:    {info.vendor_name}")
    for field, column in s.columns.items():
        print(f"  {field:<18} ← column {column!r}")
    for field, value in s.constants.items():
        print(f"  {field:<18} = {value!r}")
    print(f"Delimiter: {s.delimiter!r}  Encoding: {s.encoding}  Header row: {s.header_row}"
          f"{'  Sheet: ' + s.sheet if s.sheet else ''}")
    print(f"Numbers:   decimal {'comma' if s.decimal_comma else 'point'}, thousands "
          f"{s.thousands!r}\nDates:     {', '.join(s.date_formats)}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        try:
            delete_profile(ws, args.name)
        except ProfileError as exc:
            raise CommandError(str(exc)) from exc
    say(f"Deleted profile {args.name!r}.")
    return 0


def _preview(args: argparse.Namespace) -> int:
    with workspace_from(args) as ws:
        try:
            shown = preview_with_profile(ws, args.name, args.file, args.rows)
        except (ProfileError, FileImportError) as exc:
            raise CommandError(str(exc)) from exc
    if args.json:
        print_json(shown)
    else:
        _print_preview(shown)
    return 0


def _print_preview(shown: ImportPreview) -> None:
    for problem in shown.problems:
        print(f"! {problem}")
    for row in shown.rows:
        cells = "  ".join(f"{c.field or c.column}={'!' + c.error if c.error else c.value}"
                          for c in row.cells)
        print(f"{row.row:>6}  {'ok ' if row.ok else 'BAD'}  {cells}")


def _profile_json(info: ImportProfileInfo) -> dict[str, object]:
    return {"name": info.name, "vendor_name": info.vendor_name,
            "settings": info.settings.as_json(), "created_at": info.created_at}
