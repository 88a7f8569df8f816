"""The log file: rotating, in the platform's log folder, with secrets and tokens redacted.

Redaction happens in a filter on the file handler, before anything is written, so a secret
that reaches a log message by accident (an HTTP header, a connector error echoing a request,
a traceback) never lands on disk. Secrets loaded from the keyring are registered as they are
read, so even a bare value with no telling key around it is caught.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path

import platformdirs

from app.sync import credentials

APP_NAME = "TrueUp"
LOG_FILE = "trueup.log"
MAX_BYTES = 2_000_000
BACKUPS = 5
MASK = "[REDACTED]"
MIN_SECRET = 4  # shorter registered values would redact ordinary words
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"

_KEYS = r"client_secret|private_key|password|passwd|secret|api_key|access_token|" \
        r"refresh_token|token"
PATTERNS = [
    # PEM blocks, e.g. a private key pasted into a connection.
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----",
                re.S), MASK),
    # Authorization: Basic …, Bearer …, or any scheme-less value.
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(?:(bearer|basic|token)\s+)?"
                r"[^\s\"',;}]+"), lambda m: f"{m[1]}{m[2] + ' ' if m[2] else ''}{MASK}"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {MASK}"),
    # key=value, key: value, "key": "value" (JSON, query strings, reprs).
    (re.compile(rf"(?i)([\"']?\b(?:\w*_)?(?:{_KEYS})\b[\"']?\s*[:=]\s*[\"']?)"
                r"(?!\[REDACTED\])[^\s\"',;&}]+"), rf"\1{MASK}"),
]

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Redact this exact value from every later log line (called for each loaded secret)."""
    if value and len(value) >= MIN_SECRET:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)  # longest first: no partial leaks
    for value in known:
        text = text.replace(value, MASK)
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites the message and the traceback text of every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def log_dir() -> Path:
    """TRUEUP_LOG_DIR (tests, portable installs), else the platform's user log folder."""
    override = os.environ.get("TRUEUP_LOG_DIR")
    return Path(override) if override else Path(platformdirs.user_log_dir(APP_NAME, False))


def log_file() -> Path:
    return log_dir() / LOG_FILE


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Attach the rotating, redacting file handler to the root logger (once). Returns the
    log file, or None if the folder cannot be written: logging must never stop the app."""
    credentials.on_secret_loaded(register_secret)
    root = logging.getLogger()
    root.setLevel(min(root.level or level, level))
    path = log_file()
    for handler in root.handlers:
        if isinstance(handler, RotatingFileHandler) and Path(handler.baseFilename) == path:
            return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                      encoding="utf-8", delay=True)
    except OSError as exc:
        print(f"trueup: warning: no log file ({exc})", file=sys.stderr)
        return None
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    return path


def teardown_logging() -> None:
    """Detach and close the file handler (tests, and switching log folders)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, RotatingFileHandler) and handler.filters and isinstance(
                handler.filters[0], RedactingFilter):
            root.removeHandler(handler)
            handler.close()
