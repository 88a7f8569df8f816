"""The reconciliation engine: vendor vs PSA for one billing period, as explained findings."""

from app.domain.reconciliation.engine import (
    PolicyFor,
    default_policy,
    finding_order,
    merge_results,
    merge_summaries,
    non_billable,
    policy_resolver,
    reconcile,
)
from app.domain.reconciliation.facts import (
    AgreementKind,
    ChargeCategory,
    CustomerRef,
    MappingState,
    OrphanPsaLine,
    PsaLineFacts,
    SubscriptionFacts,
    VendorCharge,
)
from app.domain.reconciliation.findings import (
    FindingDraft,
    FindingKind,
    ReconcileResult,
    ReconcileSummary,
    StatusSuggestion,
    finding_key,
    finding_reference,
)

__all__ = [
    "AgreementKind",
    "ChargeCategory",
    "CustomerRef",
    "FindingDraft",
    "FindingKind",
    "MappingState",
    "OrphanPsaLine",
    "PolicyFor",
    "PsaLineFacts",
    "ReconcileResult",
    "ReconcileSummary",
    "StatusSuggestion",
    "SubscriptionFacts",
    "VendorCharge",
    "default_policy",
    "finding_key",
    "finding_order",
    "finding_reference",
    "merge_results",
    "merge_summaries",
    "non_billable",
    "policy_resolver",
    "reconcile",
]
