"""Billing policies: show the effective settings and change one at a scope, audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from app.domain.policy import POLICY_KEYS, PolicyRule
from app.models import entities as m
from app.models.audit import record_audit
from app.services.workspace import Workspace


@dataclass(frozen=True)
class PolicySetting:
    key: str
    description: str
    allowed: str
    default: str
    value: str  # the global value in force
    overrides: tuple[tuple[str, str, str], ...]  # (scope, reference, value)


def show_policy(ws: Workspace) -> list[PolicySetting]:
    with ws.begin() as s:
        rules = s.scalars(select(m.PolicyRule).order_by(m.PolicyRule.scope,
                                                        m.PolicyRule.scope_ref)).all()
        out = []
        for key in POLICY_KEYS.values():
            mine = [r for r in rules if r.key == key.name]
            value = next((r.value for r in mine if r.scope == "global"), key.default)
            out.append(PolicySetting(key.name, key.description, key.allowed, key.default, value,
                                     tuple((r.scope, r.scope_ref, r.value) for r in mine
                                           if r.scope != "global")))
        return out


def set_policy(ws: Workspace, key: str, value: str, *, user: str, scope: str = "global",
               scope_ref: str = "") -> None:
    """Validate through the domain rule first: a bad key, value or scope changes nothing."""
    if key not in POLICY_KEYS:
        raise ValueError(f"unknown policy key {key!r}; one of {', '.join(POLICY_KEYS)}")
    rule = PolicyRule(scope, scope_ref, key, value)
    with ws.begin() as s:
        if rule.scope == "customer" and s.scalar(select(m.PsaCompany.id).where(
                m.PsaCompany.external_id == rule.scope_ref)) is None:
            raise ValueError(f"no PSA company with id {rule.scope_ref!r}")
        row = s.scalar(select(m.PolicyRule).where(m.PolicyRule.scope == str(rule.scope),
                                                  m.PolicyRule.scope_ref == rule.scope_ref,
                                                  m.PolicyRule.key == key))
        before = {"value": row.value} if row else None
        if row is None:
            row = m.PolicyRule(scope=str(rule.scope), scope_ref=rule.scope_ref, key=key,
                               value=value)
            s.add(row)
        else:
            row.value, row.updated_at = value, datetime.now(UTC)
        s.flush()
        record_audit(s, user=user, action="set_policy", entity="policy", entity_id=row.id,
                     before=before, after={"scope": rule.where, "key": key, "value": value})
