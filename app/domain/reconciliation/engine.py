"""reconcile(): every discrepancy of one billing period as a finding with money and actions.

Pure and deterministic: bundles are visited in (vendor, subscription) order, findings come
back sorted, and the same facts always give the same keys, amounts and hashes. What does not
become a finding is counted in the summary (non-billable, rounding, settled, waived).

Per bundle, in this order: billable rules (internal customer, exclusion, trial or free) →
mapping (anything unmapped is a mapping task and nothing else) → by billing motion:

* usage: usage charge;
* PSA lines billing in the period: billed but cancelled when the vendor subscription has
  ended and no seats remain, else quantity drift, cost change and negative margin;
* no PSA line, upfront (A/A, 3Y/3Y): annual charge missing, one per charge span;
* no PSA line, otherwise: unbilled subscription (a mapping task if no agreement or product);

and for every non-usage bundle, the vendor invoice check. Orphan PSA lines (their vendor
subscription is gone) become billed-but-cancelled findings after the billable rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from app.domain.periods import BillingPeriod
from app.domain.policy import BillingPolicy, PolicyRule, resolve_policy
from app.domain.reconciliation.context import Run
from app.domain.reconciliation.facts import (
    MappingState,
    OrphanPsaLine,
    SubscriptionFacts,
    billed_in,
)
from app.domain.reconciliation.findings import (
    KIND_ORDER,
    FindingDraft,
    ReconcileResult,
    ReconcileSummary,
)
from app.domain.reconciliation.kinds.cancellations import cancelled_subscription, orphan_line
from app.domain.reconciliation.kinds.charges import (
    annual_charges,
    invoice_mismatch,
    usage_charges,
)
from app.domain.reconciliation.kinds.prices import cost_change, negative_margin
from app.domain.reconciliation.kinds.seats import quantity_drift, unbilled_subscription
from app.domain.reconciliation.kinds.unmapped import unmapped
from app.domain.reconciliation.quiet import in_step, plain_seats

PolicyFor = Callable[[SubscriptionFacts | OrphanPsaLine], BillingPolicy]


_DEFAULTS: dict[str, BillingPolicy] = {}


def default_policy(subject: SubscriptionFacts | OrphanPsaLine) -> BillingPolicy:
    if subject.psa_kind not in _DEFAULTS:
        _DEFAULTS[subject.psa_kind] = BillingPolicy.default(subject.psa_kind)
    return _DEFAULTS[subject.psa_kind]


def policy_resolver(rules: Iterable[PolicyRule]) -> PolicyFor:
    """`policy_for` from stored rules: vendor name, customer (PSA id, then vendor id) and
    product (SKU, then PSA product id) references, the PSA kind for `day_count=psa`.

    A policy depends on a subject's references only through the rules stored for them, so
    references no rule names are dropped before the cache look-up: with no customer rules,
    every customer of a vendor, product and PSA shares one resolution (40,000 subscriptions:
    a handful instead of ~20,000, each of which parses every key).
    """
    stored = tuple(rules)
    named: dict[str, set[str]] = {"vendor": set(), "customer": set(), "product": set()}
    for rule in stored:
        named.get(str(rule.scope), set()).add(rule.scope_ref)
    vendors, customers, products = named["vendor"], named["customer"], named["product"]
    resolved: dict[tuple, BillingPolicy] = {}

    def policy_for(subject: SubscriptionFacts | OrphanPsaLine) -> BillingPolicy:
        refs = (subject.vendor if subject.vendor in vendors else None,
                tuple(r for r in subject.customer.policy_refs if r in customers)
                if customers else (),
                tuple(r for r in subject.policy_products() if r in products)
                if products else (),
                subject.psa_kind)
        policy = resolved.get(refs)
        if policy is None:
            policy = resolved[refs] = resolve_policy(
                stored, vendor=refs[0], customer=refs[1], product=refs[2], psa_kind=refs[3])
        return policy

    return policy_for


def non_billable(subject: SubscriptionFacts | OrphanPsaLine, policy: BillingPolicy) -> str | None:
    """Why the subject is left out before any finding, or None when it is billable."""
    if subject.customer.internal or policy.internal:
        where = "customer flag" if subject.customer.internal else policy.source("internal")
        return f"internal customer ({where})"
    if policy.exclude:
        return f"excluded ({policy.source('exclude')})"
    if isinstance(subject, SubscriptionFacts) and policy.skip_free:
        if subject.is_trial:
            return "trial subscription"
        if subject.is_free:
            return "free SKU (cost and price 0)"
    return None


def reconcile(
    period: BillingPeriod,
    facts: Iterable[SubscriptionFacts],
    orphans: Iterable[OrphanPsaLine] = (),
    policy_for: PolicyFor = default_policy,
    in_step_already: int = 0,
) -> ReconcileResult:
    """`in_step_already` counts the subscriptions the caller found in step by
    `quiet.in_step` and never built into facts: they are counted, nothing more."""
    run = Run(period)
    run.counts["subscriptions"] += in_step_already
    bundles = sorted(facts, key=lambda f: (f.vendor, f.vendor_subscription_id))
    run.shared_usage = _shared_usage_products(bundles)
    for bundle in bundles:
        run.counts["subscriptions"] += 1
        policy = policy_for(bundle)
        reason = non_billable(bundle, policy)
        if reason is not None:
            run.skip(bundle.vendor_subscription_id, reason)
        elif bundle.mapping is not MappingState.MAPPED:
            unmapped(run, bundle, policy, bundle.mapping)
        else:
            _reconcile_bundle(run, bundle, policy)
    for orphan in sorted(orphans, key=lambda o: (o.vendor, o.vendor_subscription_id,
                                                 o.line.line_id)):
        run.counts["orphans"] += 1
        policy = policy_for(orphan)
        reason = non_billable(orphan, policy)
        if reason is not None:
            run.skip(orphan.vendor_subscription_id, reason)
        else:
            orphan_line(run, orphan, policy)
    findings = tuple(sorted(run.drafts.values(), key=finding_order))
    return ReconcileResult(findings, run.summary(len(findings)))


def merge_results(results: Iterable[ReconcileResult]) -> ReconcileResult:
    """One result from the results of disjoint parts of a book (each customer's bundles all
    in one part): the same findings, order and summary as reconciling the whole book."""
    results = list(results)
    findings = tuple(sorted((d for r in results for d in r.findings), key=finding_order))
    return ReconcileResult(findings, merge_summaries([r.summary for r in results]))


def merge_summaries(summaries: Iterable[ReconcileSummary]) -> ReconcileSummary:
    """The summary of a book from its disjoint parts' summaries."""
    summaries = list(summaries)
    counts = {name: sum(getattr(s, name) for s in summaries) for name in (
        "findings", "subscriptions", "orphans", "rounding_residuals", "skipped_non_billable",
        "settled", "waived")}
    return ReconcileSummary(
        **counts,
        skipped=tuple(sorted(x for s in summaries for x in s.skipped)),
        residual_keys=tuple(sorted(x for s in summaries for x in s.residual_keys)))


def _shared_usage_products(bundles: list[SubscriptionFacts]) -> frozenset[tuple[str, str]]:
    """(customer, PSA product) pairs billed usage by more than one subscription: there a
    same-product charge cannot tell which subscription's usage it bills."""
    seen: set[tuple[str, str]] = set()
    shared: set[tuple[str, str]] = set()
    for bundle in bundles:
        if bundle.psa_product_id is None or not bundle.has_usage:
            continue
        pair = (bundle.customer.psa_id or bundle.customer.vendor_id, bundle.psa_product_id)
        (shared if pair in seen else seen).add(pair)
    return frozenset(shared)


def _reconcile_bundle(run: Run, facts: SubscriptionFacts, policy: BillingPolicy) -> None:
    period = run.period
    plain = plain_seats(facts)
    if plain is not None and in_step(period, plain, policy, facts.one_time_charges()):
        return  # the checks below would find nothing (see quiet)
    if facts.has_usage:
        usage_charges(run, facts, policy)
    if facts.is_usage:
        return
    lines = billed_in(facts.recurring_lines(), period)
    if lines:
        ended = facts.is_ended or (facts.end_date is not None and facts.end_date <= period.end)
        if ended and facts.vendor_timeline.quantity_on(period.end).is_zero():
            cancelled_subscription(run, facts, policy, lines)
        else:
            quantity_drift(run, facts, policy, lines)
            price_set = cost_change(run, facts, policy, lines)
            negative_margin(run, facts, policy, lines, price_already_set=price_set)
    elif facts.is_upfront:
        annual_charges(run, facts, policy)
    elif not unbilled_subscription(run, facts, policy):
        state = MappingState.AGREEMENT_UNMAPPED if facts.agreement_id is None \
            else MappingState.SKU_UNMAPPED
        unmapped(run, facts, policy, state)
    invoice_mismatch(run, facts, policy)


def finding_order(draft: FindingDraft) -> tuple:
    """Where a finding comes in a result: by customer, subscription, kind and key. Plain
    values, so a part's order can travel without its findings."""
    return (draft.customer.name.lower(), draft.customer.vendor_id, draft.vendor,
            draft.vendor_subscription_id or "", KIND_ORDER[draft.kind], draft.key)
