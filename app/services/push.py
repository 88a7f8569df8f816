"""Push use cases: queue approved actions, preview them, push them exactly once, recover.

The UI's "Push approved" button and `trueup push` both call `push_approved`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass

import httpx
from sqlalchemy.exc import IntegrityError

from app.domain.actions import PsaAction
from app.services.connections import (
    ConnectionSetupError,
    ConnectionView,
    get_connection,
    get_connection_by_id,
)
from app.services.connectors import open_autotask, open_connectwise, psa_account
from app.services.sandboxes import sandbox_transport
from app.services.workspace import Workspace
from app.sync.push import engine
from app.sync.push.autotask_adapter import AutotaskPushAdapter, entity_for
from app.sync.push.connectwise_adapter import DEFAULT_MARKER_FIELD, ConnectWisePushAdapter
from app.sync.push.intents import (
    IntentState,
    IntentView,
    create_intent,
    list_intents,
    transition,
)
from app.sync.push.intents import retry as retry_intent
from app.sync.push.verdict import judge

Progress = Callable[[int, int, str], None]
# Re-exported for the UI, which sees the push engine only through this module.
DryRunLine = engine.DryRunLine
PushOutcome = engine.PushOutcome


def entity_of(psa_kind: str, action: PsaAction) -> str:
    """What the intent writes: a CW addition, or the Autotask entity for the action."""
    return entity_for(action.type) if psa_kind == "autotask" else "addition"


@dataclass(frozen=True)
class PushReport:
    """Every step of the run in order; one intent can appear twice (recovered, then pushed)."""

    outcomes: list[engine.PushOutcome]

    @property
    def final(self) -> list[engine.PushOutcome]:
        """Where each intent ended up: its last outcome in this run."""
        return list({o.intent_id: o for o in self.outcomes}.values())

    def count(self, state: str) -> int:
        return sum(1 for o in self.final if o.state == state)

    @property
    def ok(self) -> bool:
        return all(o.state == IntentState.DONE for o in self.final)


def queue_action(ws: Workspace, connection_name: str, action: PsaAction, *, user: str,
                 finding_id: int | None = None, approval_id: int | None = None) -> IntentView:
    """Durably record the intent to make `action`, before any request is sent."""
    view = get_connection(ws, connection_name)
    if view.side != "psa":
        raise ConnectionSetupError(f"{connection_name!r} is not a PSA connection")

    def create() -> IntentView:
        with ws.begin() as s:
            intent, _ = create_intent(s, action=action, connection_id=view.id,
                                      psa_account=psa_account(view), entity=entity_of(view.kind, action),
                                      user=user, finding_id=finding_id, approval_id=approval_id)
        return intent

    try:
        return create()
    except IntegrityError:
        # Queued at the same moment from another window or process (the unique key won):
        # the same correction is one intent, so this approval finds that one.
        return create()


class _Adapters:
    """One connector per connection for the whole run, closed at the end."""

    def __init__(self, ws: Workspace, stack: ExitStack,
                 transport: httpx.BaseTransport | None) -> None:
        self.ws, self.stack, self.transport = ws, stack, transport
        self.cache: dict[int, engine.PushAdapter] = {}

    def __call__(self, intent: IntentView) -> engine.PushAdapter:
        if intent.connection_id not in self.cache:
            view = get_connection_by_id(self.ws, intent.connection_id)
            self.cache[intent.connection_id] = self._build(view)
        return self.cache[intent.connection_id]

    def _build(self, view: ConnectionView) -> engine.PushAdapter:
        # A sandbox connection's sandbox stays lent (and locked) until the run ends.
        transport = self.stack.enter_context(sandbox_transport(self.ws, view, self.transport))
        if view.kind == "connectwise":
            connector = self.stack.enter_context(open_connectwise(view, transport=transport))
            return ConnectWisePushAdapter(
                connector, view.settings.get("marker_field", DEFAULT_MARKER_FIELD))
        if view.kind == "autotask":
            connector = self.stack.enter_context(open_autotask(view, transport=transport))
            return AutotaskPushAdapter(connector, charge_extra=view.settings.get("charge_fields"))
        raise ConnectionSetupError(f"pushing to {view.kind} is not available")


def push_approved(ws: Workspace, *, user: str, progress: Progress | None = None,
                  cancel: threading.Event | None = None, only: set[int] | None = None,
                  transport: httpx.BaseTransport | None = None) -> PushReport:
    with ExitStack() as stack:
        adapters = _Adapters(ws, stack, transport)
        outcomes = engine.push_pending(ws.sessions, adapters, user=user, progress=progress,
                                       cancel=cancel, only=only)
    return PushReport(outcomes)


def recover_unsettled(ws: Workspace, *, user: str,
                      transport: httpx.BaseTransport | None = None) -> PushReport:
    """At start-up: settle what a crash left SENDING or UNKNOWN by re-reading the PSA."""
    with ExitStack() as stack:
        outcomes = engine.recover(ws.sessions, _Adapters(ws, stack, transport), user=user)
    return PushReport(outcomes)


def preview(ws: Workspace, *,
            transport: httpx.BaseTransport | None = None) -> list[engine.DryRunLine]:
    """The dry run: before → after, verdict and money effect, nothing sent."""
    with ExitStack() as stack:
        return engine.dry_run(ws.sessions, _Adapters(ws, stack, transport))


def reread(ws: Workspace, intent_id: int, *,
           transport: httpx.BaseTransport | None = None) -> engine.DryRunLine:
    """The PSA line as it is now, judged against one intent in any state, sending nothing:
    what a person resolving a CONFLICT or an UNKNOWN needs to see before deciding."""
    with ws.begin() as s:
        intent = {i.id: i for i in list_intents(s)}.get(intent_id)
    if intent is None:
        raise LookupError(f"push intent {intent_id} does not exist")
    with ExitStack() as stack:
        current = _Adapters(ws, stack, transport)(intent).read(intent)
    verdict = judge(intent.action_type, intent.marker, intent.seen_state, intent.desired_state,
                    current)
    return engine.DryRunLine(intent, dict(current.values) if current.exists else {},
                             dict(intent.desired_state), str(verdict.verdict), verdict.reason,
                             True)


def queue(ws: Workspace, states: tuple[str, ...] | None = None) -> list[IntentView]:
    with ws.begin() as s:
        return list_intents(s, states)


def retry(ws: Workspace, intent_id: int, *, user: str) -> IntentView:
    with ws.begin() as s:
        return retry_intent(s, intent_id, user=user)


def dismiss_conflict(ws: Workspace, intent_id: int, *, user: str, note: str = "") -> IntentView:
    """A person gives up a CONFLICT (someone changed the PSA line since approval): the intent
    becomes FAILED with their note, audited, so nothing overwrites the other edit and the
    finding is reconciled again from the PSA's current state."""
    with ws.begin() as s:
        current = {i.id: i for i in list_intents(s, (IntentState.CONFLICT,))}.get(intent_id)
        if current is None:
            raise ValueError(f"push intent {intent_id} is not in CONFLICT")
        reason = note.strip() or "conflict dismissed"
        return transition(s, intent_id, IntentState.FAILED, user=user,
                          error=f"{reason} (was: {current.last_error or 'conflict'})")
