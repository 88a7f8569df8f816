"""The one entry point: no command opens the desktop app, a command runs the CLI."""

from __future__ import annotations

import logging
import os
import sys

from app.services.reconcile_worker import WORKER_FLAG, work


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [WORKER_FLAG]:  # a reconcile worker: no CLI, no database layer, no Qt
        work()
    from app.cli import build_parser, run_command
    from app.services.logging_setup import setup_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging()
    if args.self_test:
        return self_test(allow_no_keyring=args.allow_no_keyring)
    if getattr(args, "command", None) is None:
        from app.ui.app import run_gui  # Qt is imported only when the GUI is wanted

        return run_gui(db=args.db, demo=args.demo)
    return run_command(args)


def self_test(*, allow_no_keyring: bool = False) -> int:
    """Print one summary line; exit 0, or 1 with the failed steps named."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before Qt loads: no window, no display
    from app.services.self_test import run_self_test
    from app.ui.self_check import build_window_offscreen

    report = run_self_test(allow_no_keyring=allow_no_keyring,
                           window_check=build_window_offscreen)
    logging.getLogger("trueup.self_test").info(report.summary())
    print(report.summary(), file=sys.stdout if report.ok else sys.stderr)
    return report.exit_code
