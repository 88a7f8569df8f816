"""Name and domain normalisation, the fuzzy score, candidate decisions and billing motions."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from app.domain.matching import (
    Match,
    NameIndex,
    decide,
    domain_key,
    domain_of,
    motion_of,
    normalise_name,
    normalise_text,
    pair_by_quantity,
    similarity,
    tenant_of,
)


@pytest.mark.parametrize(("a", "b"), [
    ("Contoso, Inc.", "CONTOSO INC"),
    ("Müller GmbH", "Muller"),
    ("Acme Pty. Ltd.", "ACME"),
    ("Fabrikam B.V.", "fabrikam bv"),
    ("Smith & Co", "Smith"),
    ("Müller GmbH & Co. KG", "muller"),
    ("The Contoso Group LLC", "Contoso Group"),
    ("Société Générale S.A.R.L.", "societe generale"),
    ("Straße AG", "Strasse"),
])
def test_names_that_are_the_same_company_normalise_equal(a, b):
    assert normalise_name(a) == normalise_name(b)


def test_a_name_made_only_of_legal_words_does_not_vanish():
    assert normalise_name("The Company Ltd") == "the company ltd"
    assert normalise_name("Inc") == "inc"
    assert normalise_name("") == ""


def test_different_companies_stay_different():
    assert normalise_name("Contoso") != normalise_name("Contoso Dental")
    assert normalise_text("Microsoft 365 E3") != normalise_text("Microsoft 365 E5")


@pytest.mark.parametrize(("text", "domain"), [
    ("bob@Contoso.com", "contoso.com"),
    ("https://www.contoso.com/about?x=1", "contoso.com"),
    ("http://Contoso.com:8080", "contoso.com"),
    ("www.contoso.co.uk", "contoso.co.uk"),
    ("contoso.onmicrosoft.com", "contoso.onmicrosoft.com"),
    ("not a domain", None),
    ("", None),
    (None, None),
])
def test_domain_of(text, domain):
    assert domain_of(text) == domain


def test_domain_key_uses_the_registrable_part_and_ignores_mailbox_providers():
    assert domain_key("https://portal.contoso.com") == "contoso.com"
    assert domain_key("ops@mail.contoso.co.uk") == "contoso.co.uk"
    assert domain_key("someone@gmail.com") is None
    assert domain_key("fabrikam.onmicrosoft.com") == "fabrikam.onmicrosoft.com"
    assert tenant_of("fabrikam.onmicrosoft.com") == "fabrikam"
    assert tenant_of("fabrikam.com") is None


def test_similarity_is_symmetric_bounded_and_order_free():
    assert similarity("smith dental", "dental smith") == 100
    assert similarity("contoso", "contosso") == similarity("contosso", "contoso")
    assert 85 <= similarity("contoso", "contosso") < 100
    assert similarity("contoso", "contoso consulting group") == 90  # subset, 2 extra words
    assert similarity("contoso", "fabrikam") < 50
    assert similarity("", "x") == 0
    assert isinstance(similarity("a b", "a c"), int)


def test_similarity_is_deterministic():
    pairs = [("northwind traders", "northwind trading"), ("adventure works", "adventureworks")]
    assert [similarity(a, b) for a, b in pairs] == [similarity(a, b) for a, b in pairs]


def test_name_index_exact_and_fuzzy():
    index = NameIndex([(1, "Contoso Ltd"), (2, "Fabrikam, Inc."), (3, "Northwind Traders")])
    assert index.exact("CONTOSO LIMITED") == [(1, "Contoso Ltd")]
    assert index.exact("Tailspin") == []
    best = index.fuzzy("Northwnd Traders")
    assert best[0][0] == 3 and best[0][2] >= 85


def test_decide_exact_single_maps_and_ties_only_suggest():
    one = decide([Match(7, 100, "domain", "same domain")], [])
    assert one.auto is not None and one.auto.key == 7 and not one.suggestions
    tie = decide([Match(7, 100, "name", "n"), Match(8, 100, "name", "n")], [])
    assert tie.auto is None and {m.key for m in tie.suggestions} == {7, 8}
    # domain and name agree on 7, only the name on 8: 7 is better, not equal
    stronger = decide([Match(7, 100, "domain", "d"), Match(7, 100, "name", "n"),
                       Match(8, 100, "name", "n")], [])
    assert stronger.auto is not None and stronger.auto.key == 7
    assert stronger.auto.method == "domain+name"
    # conflicting evidence: domain says 7, name says 8 → people decide
    conflict = decide([Match(7, 100, "domain", "d"), Match(8, 100, "name", "n")], [])
    assert conflict.auto is None and len(conflict.suggestions) == 2


def test_decide_fuzzy_suggests_above_threshold_only():
    fuzzy = [Match(1, 91, "fuzzy", "a ~ b"), Match(2, 70, "fuzzy", "a ~ c")]
    decision = decide([], fuzzy, threshold=85)
    assert decision.auto is None and [m.key for m in decision.suggestions] == [1]
    below = decide([], [Match(2, 70, "fuzzy", "'a' ~ 'c'")], threshold=85)
    assert not below.suggestions and "70" in below.reason


def test_pair_by_quantity_one_to_one_then_many_to_one():
    subs = [("s1", Decimal(10)), ("s2", Decimal(3)), ("s3", Decimal(4))]
    lines = [("l1", Decimal(3)), ("l2", Decimal(10))]
    pairs = pair_by_quantity(subs, lines)
    assert ("s1", "l2", 100) in pairs and ("s2", "l1", 100) in pairs
    assert [p for p in pairs if p[0] == "s3"] == [("s3", "l1", 75)]
    assert pair_by_quantity(subs, []) == []
    assert ("s2", "l1", 100) not in pair_by_quantity(subs, lines, exclude={("s2", "l1")})


@pytest.mark.parametrize(("term", "frequency", "motion"), [
    ("P1M", "Monthly", "monthly"),
    ("P1Y", "Monthly", "annual-monthly"),
    ("P1Y", "Annual", "annual-annual"),
    ("P3Y", "Monthly", "annual-monthly"),
    ("P3Y", "Annual", "annual-annual"),
    ("P3Y", "Triennial", "annual-annual"),
    ("1-Year", "monthly", "annual-monthly"),
    (None, "Usage", "usage"),
    (None, "OneTime", "annual-annual"),
    (None, "Annual", "annual-annual"),
    (None, None, "monthly"),
])
def test_motion_of(term, frequency, motion):
    assert motion_of(term, frequency) == motion


def test_index_is_not_quadratic_in_difflib_calls():
    """2,000 × 2,000 names: the trigram shortlist keeps it to seconds, not minutes."""
    words = ["alpha", "bravo", "cedar", "delta", "ember", "fjord", "grove", "harbor", "iris",
             "juniper", "kestrel", "lumen", "maple", "nova", "onyx", "pine", "quartz", "river"]
    names = [f"{words[i % 18]} {words[(i // 18) % 18]} {words[(i // 324) % 18]} {i}"
             for i in range(2000)]
    index = NameIndex(enumerate(names))
    started = time.perf_counter()
    hits = sum(1 for name in names if index.fuzzy(name + "x", floor=50)[0][2] >= 85)
    elapsed = time.perf_counter() - started
    assert hits == 2000
    assert elapsed < 30
