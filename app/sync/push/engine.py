"""Running push intents against a PSA: read before write, absolute values, settle by re-reading.

The adapter is the only PSA-specific part: `read` re-reads the target line (or finds a created
line by its marker) and `send` makes the change. Whatever goes wrong after a request may have
left — a timeout, a dropped connection, a 5xx, a crash — the intent is settled by reading the
PSA again, never by sending again blindly.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from app.models.activity import PushIntent
from app.models.review import Finding
from app.sync.http import DEFAULT_TIMEOUT, RetryPolicy
from app.sync.push.intents import (
    UNSETTLED,
    IntentState,
    IntentView,
    claim,
    list_intents,
    transition,
)
from app.sync.push.verdict import Judgement, LineSnapshot, Verdict, judge

Progress = Callable[[int, int, str], None]


def _worst_request() -> timedelta:
    """The longest one request may legitimately take: every attempt running to its
    timeouts, with the longest waits on 429 and the connect retries between them."""
    policy, timeout = RetryPolicy(), DEFAULT_TIMEOUT
    attempt = sum(t or 0 for t in (timeout.connect, timeout.write, timeout.read, timeout.pool))
    attempts = 1 + policy.max_429_retries + policy.max_connect_retries
    waits = policy.max_429_retries * policy.max_wait_s + policy.max_connect_retries * (
        policy.base_backoff_s * 2 ** policy.max_connect_retries)
    return timedelta(seconds=attempts * attempt + waits)


# How long an owner may go without a sign of life before another process may take its
# intent over. The owner renews its claim just before the write, so the lease must cover
# the one request after that (the write: under 27 minutes with every 429 and timeout),
# not the whole push; it was 3 minutes, shorter than the waits a rate-limited write may
# make, which let a second process re-send a change still on its way.
LEASE = _worst_request() + timedelta(minutes=2)
OWNER = f"{socket.gethostname()}:{os.getpid()}"


class PushRejected(Exception):
    """The PSA refused the change (validation): it certainly did not happen."""


class PushUncertain(Exception):
    """The request may or may not have been applied (timeout, reset, 5xx)."""


@dataclass(frozen=True)
class SendResult:
    record_id: str | None
    response: dict[str, Any] = field(default_factory=dict)


class PushAdapter(Protocol):
    def read(self, intent: IntentView) -> LineSnapshot: ...

    def send(self, intent: IntentView) -> SendResult: ...


AdapterFor = Callable[[IntentView], PushAdapter]


@dataclass(frozen=True)
class PushOutcome:
    intent_id: int
    state: str
    message: str
    record_id: str | None = None


@dataclass(frozen=True)
class DryRunLine:
    intent: IntentView
    before: dict[str, str]
    after: dict[str, str]
    verdict: str
    reason: str
    online: bool


def _finding_status_for(state: IntentState) -> str | None:
    return {IntentState.DONE: "pushed", IntentState.FAILED: "failed",
            IntentState.CONFLICT: "failed"}.get(state)


def _move(sessions: sessionmaker[Session], intent: IntentView, state: IntentState, *,
          user: str, error: str | None = None, record_id: str | None = None,
          response: dict[str, Any] | None = None) -> PushOutcome:
    """One transaction: the intent's new state, its finding's status, and the audit entry."""
    with sessions.begin() as s:
        moved = transition(s, intent.id, state, user=user, error=error, psa_record_id=record_id,
                           response=response)
        status = _finding_status_for(state)
        if status and moved.finding_id:
            finding = s.get(Finding, moved.finding_id)
            if finding is not None:
                finding.status = status
                finding.updated_at = datetime.now(UTC)
    return PushOutcome(intent.id, state, error or "", record_id or moved.psa_record_id)


def _judge(intent: IntentView, current: LineSnapshot) -> Judgement:
    return judge(intent.action_type, intent.marker, intent.seen_state, intent.desired_state,
                 current)


def _claim(sessions: sessionmaker[Session], intent: IntentView, from_states: tuple[str, ...]
           ) -> datetime | None:
    """Claim the intent for this process: the claim's time, or None if another got it."""
    with sessions.begin() as s:
        if not claim(s, intent.id, from_states):
            return None
        row = s.get(PushIntent, intent.id)
        row.payload = {**intent.payload, "claimed_by": OWNER}
        return row.updated_at


def _renew(sessions: sessionmaker[Session], intent: IntentView, claimed_at: datetime) -> bool:
    """Still ours, untouched since `claimed_at`? Then renew the lease (one compare-and-set):
    the fence before the write, so a push whose read outlasted the lease (long waits on
    429) never writes after another process took the intent over."""
    with sessions.begin() as s:
        result = s.execute(
            update(PushIntent)
            .where(PushIntent.id == intent.id, PushIntent.state == IntentState.SENDING,
                   PushIntent.updated_at == claimed_at)
            .values(updated_at=datetime.now(UTC)))
        return result.rowcount == 1


def settle(sessions: sessionmaker[Session], intent: IntentView, adapter: PushAdapter, *,
           user: str) -> PushOutcome:
    """Decide an intent whose request may have gone out, from a fresh read of the PSA."""
    try:
        current = adapter.read(intent)
    except Exception as exc:  # noqa: BLE001 - any read failure leaves it unknown
        return _move(sessions, intent, IntentState.UNKNOWN, user=user,
                     error=f"could not re-read the PSA to settle this change: {exc}")
    verdict = _judge(intent, current)
    if verdict.verdict is Verdict.DONE:
        return _move(sessions, intent, IntentState.DONE, user=user,
                     record_id=current.record_id or intent.psa_record_id,
                     response={"settled_by": "re-read", "reason": verdict.reason})
    if verdict.verdict is Verdict.CONFLICT:
        return _move(sessions, intent, IntentState.CONFLICT, user=user, error=verdict.reason)
    if intent.last_error is None:
        # Left SENDING by a crash before any answer: the re-read proves nothing landed,
        # so it goes back to the queue and is sent normally (read-before-write again).
        return _move(sessions, intent, IntentState.PENDING, user=user)
    return _move(sessions, intent, IntentState.FAILED, user=user,
                 error=f"{intent.last_error}; the PSA shows the change did not happen, "
                 "so it is safe to retry")


def _owner_gone(intent: IntentView, now: datetime) -> bool:
    owner = intent.payload.get("claimed_by", "")
    host, _, pid = owner.partition(":")
    if owner == OWNER:
        return False
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return now - intent.updated_at > LEASE
    return now - intent.updated_at > LEASE


def _take_over(sessions: sessionmaker[Session], intent: IntentView) -> bool:
    """Atomically adopt a SENDING intent whose owner is gone; False if anyone touched it since.

    Without this compare-and-set, two recoveries that both saw the same stale intent would
    both settle it, and the slower one could put it back in the queue while the faster one
    is already sending it: a second write (for a new line, a double bill).
    """
    with sessions.begin() as s:
        result = s.execute(
            update(PushIntent)
            .where(PushIntent.id == intent.id, PushIntent.state == IntentState.SENDING,
                   PushIntent.updated_at == intent.updated_at)
            .values(updated_at=datetime.now(UTC), payload={**intent.payload, "claimed_by": OWNER})
        )
        return result.rowcount == 1


def recover(sessions: sessionmaker[Session], adapter_for: AdapterFor, *, user: str,
            progress: Progress | None = None) -> list[PushOutcome]:
    """Settle SENDING intents left by a crash and UNKNOWN ones, by re-reading the PSA."""
    with sessions.begin() as s:
        pending = list_intents(s, tuple(UNSETTLED))
    now = datetime.now(UTC)
    outcomes = []
    for i, intent in enumerate(pending, 1):
        if intent.state == IntentState.SENDING and not _owner_gone(intent, now):
            continue  # a live worker is still on it
        # The adapter first: if it cannot be built (keyring locked), nothing is claimed, so
        # the intent is not left SENDING under this live process where no one would settle it.
        adapter = adapter_for(intent)
        if intent.state == IntentState.SENDING and not _take_over(sessions, intent):
            continue
        if intent.state == IntentState.UNKNOWN and not _claim(sessions, intent, (IntentState.UNKNOWN,)):
            continue
        outcomes.append(settle(sessions, intent, adapter, user=user))
        if progress:
            progress(i, len(pending), f"verified intent {intent.id}")
    return outcomes


def push_one(sessions: sessionmaker[Session], intent: IntentView, adapter: PushAdapter, *,
             user: str) -> PushOutcome | None:
    claimed_at = _claim(sessions, intent, (IntentState.PENDING,))
    if claimed_at is None:
        return None  # someone else (another click, another process) is pushing it
    try:
        current = adapter.read(intent)
    except Exception as exc:  # noqa: BLE001 - nothing was written: a plain failure
        return _move(sessions, intent, IntentState.FAILED, user=user,
                     error=f"could not read the PSA line before writing: {exc}")
    verdict = _judge(intent, current)
    if verdict.verdict is Verdict.DONE:
        return _move(sessions, intent, IntentState.DONE, user=user, record_id=current.record_id,
                     response={"settled_by": "read-before-write", "reason": verdict.reason})
    if verdict.verdict is Verdict.CONFLICT:
        return _move(sessions, intent, IntentState.CONFLICT, user=user, error=verdict.reason)
    if not _renew(sessions, intent, claimed_at):
        return None  # taken over while we read: the other process settles and sends it
    try:
        result = adapter.send(intent)
    except PushRejected as exc:
        return _move(sessions, intent, IntentState.FAILED, user=user, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - timeout, reset, 5xx: outcome unknown
        unknown = _move(sessions, intent, IntentState.UNKNOWN, user=user,
                        error=f"{type(exc).__name__}: {exc}")
        with sessions.begin() as s:
            if not claim(s, intent.id, (IntentState.UNKNOWN,)):
                return unknown
        refreshed = _reload(sessions, intent.id)
        return settle(sessions, refreshed, adapter, user=user)
    return _move(sessions, intent, IntentState.DONE, user=user, record_id=result.record_id,
                 response=result.response)


def _reload(sessions: sessionmaker[Session], intent_id: int) -> IntentView:
    from app.sync.push.intents import view

    with sessions.begin() as s:
        return view(s.get(PushIntent, intent_id))


def push_pending(sessions: sessionmaker[Session], adapter_for: AdapterFor, *, user: str,
                 progress: Progress | None = None, cancel: threading.Event | None = None,
                 only: set[int] | None = None) -> list[PushOutcome]:
    """Recover what a crash left, then push every PENDING intent once, in order."""
    outcomes = recover(sessions, adapter_for, user=user)
    with sessions.begin() as s:
        queue = [i for i in list_intents(s, (IntentState.PENDING,)) if not only or i.id in only]
    for n, intent in enumerate(queue, 1):
        if cancel is not None and cancel.is_set():
            break  # between intents only: never half-way through one
        outcome = push_one(sessions, intent, adapter_for(intent), user=user)
        if outcome is not None:
            outcomes.append(outcome)
        if progress:
            progress(n, len(queue), f"intent {intent.id}: {outcome.state if outcome else 'skipped'}")
    return outcomes


def dry_run(sessions: sessionmaker[Session], adapter_for: AdapterFor) -> list[DryRunLine]:
    """Before → after and the verdict for each queued intent, sending nothing."""
    with sessions.begin() as s:
        queue = list_intents(s, (IntentState.PENDING, IntentState.FAILED))
    lines = []
    unreachable: dict[int, str] = {}  # connection id → why its PSA could not be read
    for intent in queue:
        reason = unreachable.get(intent.connection_id)
        if reason is None:
            try:
                current = adapter_for(intent).read(intent)
            except Exception as exc:  # noqa: BLE001 - offline: show what was seen at approval
                # Remembered for the connection: each further read would only wait through
                # the same connection retries again (seconds per queued change).
                reason = unreachable[intent.connection_id] = str(exc)
        if reason is None:
            verdict = _judge(intent, current)
            before = current.values if current.exists else {}
            online = True
        else:
            verdict = Judgement(Verdict.SEND, f"PSA not reachable ({reason}); "
                                "showing approval state")
            before, online = intent.seen_state, False
        lines.append(DryRunLine(intent, dict(before), dict(intent.desired_state),
                                str(verdict.verdict), verdict.reason, online))
    return lines
