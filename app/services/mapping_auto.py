"""Auto map: exact evidence maps, fuzzy evidence suggests, existing mappings stay put.

Customers match by domain and normalised name, products by SKU and name; both go through
indexes (dict look-ups, then a trigram shortlist for difflib) so thousands × thousands stay
fast. Then agreements per billing motion, then subscriptions per (company, product,
agreement). A rejected pair is never suggested nor mapped again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.domain.matching import (
    FUZZY_THRESHOLD,
    Match,
    NameIndex,
    compact,
    decide,
    domain_key,
    normalise_name,
    normalise_text,
    pair_by_quantity,
    tenant_of,
)
from app.models.mapping import AgreementMapping, MappingSuggestion
from app.models.psa import PsaAgreement
from app.models.vendor import VendorSubscription
from app.services.mapping_queries import ONE_TIME_KINDS, MappingState, unmapped_queue
from app.services.mapping_writes import (
    agr_snap,
    audit,
    ensure_vendor_products,
    put_customer,
    put_pair,
    put_product,
)
from app.services.workspace import Workspace


@dataclass(frozen=True)
class AutoMapReport:
    customers_mapped: int
    products_mapped: int
    subscriptions_mapped: int  # subscription–line pairs
    agreements_mapped: int  # (company, motion) pairs
    suggestions_created: int
    suggestions_pending: int
    unmapped_customers: int
    unmapped_products: int
    unmapped_subscriptions: int
    unmapped_agreements: int


class _AutoRun:
    """One auto-map pass over the loaded state; counts what it did."""

    def __init__(self, st: MappingState, user: str, threshold: int) -> None:
        self.st, self.s, self.user, self.threshold = st, st.session, user, threshold
        self.floor = max(0, threshold - 20)  # closer than this is worth naming in the queue
        self.names = st.conn
        self.counts = defaultdict(int)
        self.produced: set[tuple[str, int, int]] = set()

    def suggest(self, kind: str, vendor: int, psa: int, score: int, reason: str) -> None:
        key = (kind, vendor, psa)
        if self.st.rejected(*key):
            return
        self.produced.add(key)
        row = self.st.suggestions.get(key)
        if row is None:
            row = MappingSuggestion(kind=kind, vendor_ref=vendor, psa_ref=psa, status="pending",
                                    score=Decimal(score), reason=reason[:200])
            self.s.add(row)
            self.st.suggestions[key] = row
            self.counts["suggestions"] += 1
            return
        row.status = "pending"  # an accepted pair whose mapping was removed since
        if row.score != Decimal(score) or row.reason != reason[:200]:
            row.score, row.reason = Decimal(score), reason[:200]

    def customers(self) -> None:
        st = self.st
        companies = sorted(st.companies.values(), key=lambda c: c.id)
        index = NameIndex((c.id, c.name) for c in companies)
        by_domain: dict[str, list[int]] = defaultdict(list)
        by_compact: dict[str, list[int]] = defaultdict(list)
        for c in companies:
            if key := domain_key(c.domain):
                by_domain[key].append(c.id)
            by_compact[compact(normalise_name(c.name))].append(c.id)
        for vc in sorted(st.vcustomers.values(), key=lambda r: r.id):
            if vc.id in st.cust_map:
                continue
            ok = lambda cid, vid=vc.id: not st.rejected("customer", vid, cid)  # noqa: E731
            dkey = domain_key(vc.domain)
            exact = [Match(cid, 100, "domain", f"same domain {dkey}")
                     for cid in by_domain.get(dkey or "", ()) if ok(cid)]
            exact += [Match(cid, 100, "name", f"same name {name!r}")
                      for cid, name in index.exact(vc.name) if ok(cid)]
            fuzzy: list[Match[int]] = []
            if not exact:
                tenant = tenant_of(vc.domain)
                fuzzy = [Match(cid, 95, "tenant", f"tenant {vc.domain} ~ "
                               f"{st.companies[cid].name!r}")
                         for cid in by_compact.get(tenant or "", ()) if ok(cid)]
                fuzzy += [Match(cid, score, "fuzzy", f"{vc.name!r} ~ {name!r}")
                          for cid, name, score in index.fuzzy(vc.name, floor=self.floor)
                          if ok(cid)]
            decision = decide(exact, _best_per_key(fuzzy), threshold=self.threshold)
            if decision.auto:
                m, _ = put_customer(self.s, self.names, self.user, vc, decision.auto.key,
                                    decision.auto.method, Decimal(100), None)
                st.cust_map[vc.id] = m
                self.counts["customers"] += 1
            for match in decision.suggestions:
                self.suggest("customer", vc.id, match.key, match.score, match.reason)

    def products(self) -> None:
        st = self.st
        products = sorted(st.pproducts.values(), key=lambda p: p.id)
        index = NameIndex([(p.id, p.identifier) for p in products]
                          + [(p.id, p.description) for p in products if p.description],
                          normalise=normalise_text)
        by_sku: dict[str, list[int]] = defaultdict(list)
        for p in products:
            by_sku[compact(p.identifier)].append(p.id)
        for vp in sorted(st.vproducts.values(), key=lambda r: r.id):
            if vp.id in st.prod_map:
                continue
            ok = lambda pid, vid=vp.id: not st.rejected("product", vid, pid)  # noqa: E731
            exact = [Match(pid, 100, "sku", f"same SKU {vp.sku!r}")
                     for pid in by_sku.get(compact(vp.sku), ()) if ok(pid)]
            exact += [Match(pid, 100, "name", f"same name {name!r}")
                      for pid, name in dict(index.exact(vp.name)).items() if ok(pid)]
            fuzzy = [] if exact else [
                Match(pid, score, "fuzzy", f"{vp.name!r} ~ {name!r}")
                for pid, name, score in index.fuzzy(vp.name, floor=self.floor)
                if ok(pid)]
            decision = decide(exact, _best_per_key(fuzzy), threshold=self.threshold)
            if decision.auto:
                st.prod_map[vp.id] = put_product(self.s, self.names, self.user, vp,
                                                 decision.auto.key, decision.auto.method, None)
                self.counts["products"] += 1
            for match in decision.suggestions:
                self.suggest("product", vp.id, match.key, match.score, match.reason)

    def agreements(self) -> None:
        """One live recurring agreement takes M/M and A/M; one live one-time or fixed-price
        agreement takes A/A. Anything else waits for a person."""
        st = self.st
        live: dict[int, list[PsaAgreement]] = defaultdict(list)
        for a in sorted(st.agreements.values(), key=lambda a: a.id):
            if st.agreement_active(a):
                live[a.company_id].append(a)
        for company_id in sorted({m.psa_company_id for m in st.cust_map.values()}):
            recurring = [a for a in live[company_id] if a.kind not in ONE_TIME_KINDS]
            one_time = [a for a in live[company_id] if a.kind in ONE_TIME_KINDS]
            wanted = [(m, recurring) for m in ("monthly", "annual-monthly")]
            for motion, choice in [*wanted, ("annual-annual", one_time)]:
                if len(choice) == 1 and (company_id, motion) not in st.agr_map:
                    m = AgreementMapping(psa_company_id=company_id, motion=motion,
                                         psa_agreement_id=choice[0].id)
                    self.s.add(m)
                    self.s.flush()
                    audit(self.s, self.user, "map", "agreement_mapping",
                          f"{self.names[st.companies[company_id].connection_id]}:"
                          f"{st.companies[company_id].external_id}:{motion}", None,
                          agr_snap(self.s, self.names, m) | {"method": "auto"})
                    st.agr_map[(company_id, motion)] = m
                    self.counts["agreements"] += 1

    def subscriptions(self) -> None:
        """Per (company, product, agreement): one subscription and one line map; one A/A
        subscription takes all its one-time charges; anything else is paired by quantity
        and suggested."""
        st = self.st
        rejected = {(k[1], k[2]) for k, r in st.suggestions.items()
                    if k[0] == "subscription" and r.status == "rejected"}
        groups: dict[tuple[Any, ...], list[VendorSubscription]] = defaultdict(list)
        for sub in sorted(st.subs.values(), key=lambda r: r.id):
            if st.sub_active(sub) and (group := st.group_of(sub)) is not None:
                groups[group].append(sub)
        for group, subs in groups.items():
            unmapped = [sub for sub in subs if sub.id not in st.sub_pairs]
            lines = st.candidate_lines(group)
            if not unmapped or not lines:
                continue
            free = [ln for ln in lines if ln not in st.line_pairs]
            one_time = group[2] == "one_time" or (isinstance(group[2], int) and st.agreements[
                group[2]].kind in ONE_TIME_KINDS)
            if len(subs) == 1:
                allowed = [ln for ln in free if not st.rejected("subscription", subs[0].id, ln)]
                if allowed and (one_time or (len(lines) == 1 and allowed == lines)):
                    for line_id in allowed:
                        pair, _ = put_pair(self.s, self.names, self.user, subs[0],
                                           st.lines[line_id], "auto")
                        st.add_pair(pair)
                        self.counts["subscriptions"] += 1
                    continue
            pool = free or lines
            product, company = st.pproducts[group[1]], st.companies[group[0]]
            for sub_id, line_id, score in pair_by_quantity(
                    [(sub.id, sub.quantity) for sub in unmapped],
                    [(ln, st.lines[ln].quantity) for ln in pool], rejected):
                self.suggest("subscription", sub_id, line_id, score,
                             f"{len(subs)} subscription(s), {len(lines)} line(s) for "
                             f"{product.identifier} at {company.name}; quantity "
                             f"{st.subs[sub_id].quantity} vs {st.lines[line_id].quantity}")

    def drop_stale(self) -> None:
        """Pending suggestions this run no longer makes (the item got mapped, the data moved)."""
        for key, row in list(self.st.suggestions.items()):
            if row.status == "pending" and key not in self.produced:
                self.s.delete(row)
                del self.st.suggestions[key]


def _best_per_key(matches: list[Match[int]]) -> list[Match[int]]:
    best: dict[int, Match[int]] = {}
    for m in matches:
        if m.key not in best or m.score > best[m.key].score:
            best[m.key] = m
    return sorted(best.values(), key=lambda m: (-m.score, m.key))


def auto_map(ws: Workspace, user: str, *, threshold: int = FUZZY_THRESHOLD,
             today: date | None = None) -> AutoMapReport:
    """Map what exact evidence decides, suggest what fuzzy evidence hints, in one transaction.

    Order matters: customers and products first, then agreements per motion (they narrow
    which lines a subscription may use), then subscriptions.
    """
    with ws.begin() as s:
        ensure_vendor_products(s)
        st = MappingState(s, today)
        run = _AutoRun(st, user, threshold)
        run.customers()
        run.products()
        run.agreements()
        run.subscriptions()
        run.drop_stale()
        s.flush()
        queue = unmapped_queue(st)
        kinds = defaultdict(int)
        for item in queue:
            kinds[item.kind] += 1
        pending = sum(1 for r in st.suggestions.values() if r.status == "pending")
        c = run.counts
        return AutoMapReport(c["customers"], c["products"], c["subscriptions"], c["agreements"],
                             c["suggestions"], pending, kinds["customer"], kinds["product"],
                             kinds["subscription"], kinds["agreement"])
