"""Matching rules for the Map step: name and domain normalisation, a fuzzy score, candidates.

Guessing wrong costs money, so only exact evidence (same domain, same normalised name, same
SKU) is ever trusted without a person; everything fuzzy becomes a scored suggestion. Scores
are integers 0–100 computed with integer arithmetic, so a run is deterministic everywhere.
Standard library only.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Container, Hashable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from difflib import SequenceMatcher
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FUZZY_THRESHOLD = 85  # a score at or above this becomes a suggestion; below, nothing

# Legal-form words dropped from the end of a company name ("Contoso, Inc." == "CONTOSO INC").
LEGAL_SUFFIXES = _words(
    "inc incorporated corp corporation co company llc llp lp pllc plc ltd limited pty "
    "gmbh mbh ag kg ug ohg ev bv nv vof sa sas sarl srl spa sl sro oy oyj ab as asa aps "
    "kk pte bhd sdn pvt lda se cv"
)
# Multi-word legal forms, written as their normalised tokens (after "." and "&" handling).
_LEGAL_PAIRS = frozenset({("b", "v"), ("n", "v"), ("s", "a"), ("co", "kg"), ("e", "v"),
                          ("pty", "ltd"), ("s", "r", "l"), ("l", "l", "c")})
_TRANSLIT = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "œ": "oe",
                           "Œ": "oe", "đ": "d", "Đ": "d", "ł": "l", "Ł": "l", "þ": "th"})
_NON_WORD = re.compile(r"[^0-9a-z]+")

# Mailbox providers: a shared domain says nothing about which company it is.
GENERIC_DOMAINS = _words(
    "gmail.com googlemail.com outlook.com hotmail.com hotmail.co.uk live.com msn.com "
    "yahoo.com yahoo.co.uk ymail.com icloud.com me.com mac.com aol.com protonmail.com "
    "proton.me gmx.com gmx.de gmx.net web.de mail.com zoho.com yandex.com qq.com "
    "onmicrosoft.com"
)
_TWO_LEVEL_SUFFIXES = _words(
    "co.uk org.uk ac.uk gov.uk com.au net.au org.au co.nz org.nz co.za com.br com.mx "
    "co.jp co.in com.sg com.hk co.kr com.cn com.tr"
)


def fold(text: str) -> str:
    """Lower case, accents removed ("Müller" → "muller"), "&" read as "and"."""
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.lower().replace("&", " and ")


def normalise_text(text: str | None) -> str:
    """Words only, single-spaced: the key for product names and identifiers."""
    return " ".join(_NON_WORD.split(fold(text or ""))).strip()


def compact(text: str | None) -> str:
    """Letters and digits only: "MST-365-E3" and "mst365e3" are one SKU."""
    return _NON_WORD.sub("", fold(text or ""))


def normalise_name(name: str | None) -> str:
    """A company name without case, punctuation, accents, a leading "the" or legal forms.

    Dots inside abbreviations are joined first ("B.V." → "bv"). If every word is a legal
    form ("Company Ltd"), the words are kept so the name does not vanish.
    """
    text = fold(name or "")
    text = re.sub(r"\b(\w)\.(?=\w\b\.?)", r"\1", text)  # b.v. → bv., s.a.r.l. → sarl.
    words = [w for w in _NON_WORD.split(text) if w]
    kept = list(words)
    while kept:
        tail2, tail3 = tuple(kept[-2:]), tuple(kept[-3:])
        if len(kept) > 3 and tail3 in _LEGAL_PAIRS:
            kept = kept[:-3]
        elif len(kept) > 2 and tail2 in _LEGAL_PAIRS:
            kept = kept[:-2]
        elif len(kept) > 1 and kept[-1] in LEGAL_SUFFIXES:
            kept.pop()
        else:
            break
        if len(kept) > 1 and kept[-1] == "and":  # "Smith & Co", "Müller GmbH & Co. KG"
            kept.pop()
    if len(kept) > 1 and kept[0] == "the":
        kept = kept[1:]
    return " ".join(words if kept == ["the"] else kept or words)


def domain_of(text: str | None) -> str | None:
    """The host named by an email, a URL or a bare domain, lower case, without "www.".

    "bob@Contoso.com" → "contoso.com"; "https://www.contoso.com/about" → "contoso.com";
    "contoso.onmicrosoft.com" stays as it is (see `tenant_of`). None when nothing looks
    like a domain.
    """
    if not text:
        return None
    host = text.strip().lower()
    if "@" in host and "://" not in host:
        host = host.rsplit("@", 1)[1]
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", host)
    host = re.split(r"[/?#]", host, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1].split(":")[0].strip(". ")
    host = host.removeprefix("www.")
    if "." not in host or not re.fullmatch(r"[0-9a-z.-]+", host):
        return None
    return host


def base_domain(domain: str | None) -> str | None:
    """The registrable part: "mail.contoso.co.uk" → "contoso.co.uk" (a short suffix list)."""
    if not domain:
        return None
    labels = domain.split(".")
    keep = 3 if ".".join(labels[-2:]) in _TWO_LEVEL_SUFFIXES else 2
    return ".".join(labels[-keep:])


def tenant_of(text: str | None) -> str | None:
    """The Microsoft tenant name in "contoso.onmicrosoft.com" ("contoso"), else None."""
    host = domain_of(text)
    if host and host.endswith(".onmicrosoft.com"):
        return host.removesuffix(".onmicrosoft.com").split(".")[-1] or None
    return None


def domain_key(text: str | None) -> str | None:
    """The key two records must share to match by domain; None for mailbox providers.

    An onmicrosoft.com tenant is its own key (a tenant is one company), any other domain
    matches on its registrable part, so "portal.contoso.com" meets "contoso.com".
    """
    host = domain_of(text)
    if host is None:
        return None
    if host.endswith(".onmicrosoft.com"):
        return host
    key = base_domain(host)
    return None if key in GENERIC_DOMAINS else key


def _ratio(a: str, b: str) -> int:
    """difflib's 2·M/T as a whole percentage, rounded half up, with integer arithmetic."""
    total = len(a) + len(b)
    if total == 0:
        return 100
    matched = sum(block.size for block in
                  SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    return (200 * matched * 2 + total) // (2 * total)


def _prefix_ratio(prefix: str, whole: str) -> int:
    total = len(prefix) + len(whole)
    return (200 * len(prefix) * 2 + total) // (2 * total)


def similarity(a: str, b: str, floor: int = 0) -> int:
    """Token-set similarity 0–100 of two normalised strings.

    Word order does not matter ("Smith Dental" ~ "Dental Smith" = 100). A name that is
    contained in the other scores high but loses 5 points per extra word, so "Contoso" vs
    "Contoso Consulting Group" is 90: worth a suggestion, never equal to a real match.
    With a `floor`, a pair whose length alone rules out reaching it scores 0 without
    running difflib (the costly part).
    """
    ta, tb = set(a.split()), set(b.split())
    if ta == tb:
        return 100 if ta else 0
    if not ta or not tb:
        return 0
    common = " ".join(sorted(ta & tb))
    only_a, only_b = " ".join(sorted(ta - tb)), " ".join(sorted(tb - ta))
    t1, t2 = f"{common} {only_a}".strip(), f"{common} {only_b}".strip()
    # `common` is a prefix of t1 and t2, so their ratios need no difflib: 2·|common| / T.
    subset_score = (max(_prefix_ratio(common, t1), _prefix_ratio(common, t2))
                    - 5 * len(ta ^ tb)) if common else 0
    shorter, longer = sorted((t1, t2), key=len)
    if max(_prefix_ratio(shorter, longer), subset_score) < floor:  # difflib can't do better
        return 0
    return max(_ratio(t1, t2), subset_score)


def _grams(norm: str) -> set[str]:
    grams: set[str] = set()
    for word in norm.split():
        padded = f" {word} "
        grams.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return grams


@dataclass(frozen=True)
class Match(Generic[K]):
    key: K
    score: int
    method: str  # domain | name | sku | fuzzy | tenant
    reason: str


class NameIndex(Generic[K]):
    """Names indexed by normalised form and by trigram, built once per run.

    `exact` is a dict look-up; `fuzzy` scores only a shortlist of the names sharing the most
    trigrams, so matching N names against M costs about N × shortlist difflib calls, not N × M.
    """

    def __init__(self, entries: Iterable[tuple[K, str]],
                 normalise: Callable[[str | None], str] = normalise_name) -> None:
        self.normalise = normalise
        self._keys: list[K] = []
        self._names: list[str] = []
        self._norms: list[str] = []
        self._gram_sizes: list[int] = []
        self._exact: dict[str, list[int]] = defaultdict(list)
        self._postings: dict[str, list[int]] = defaultdict(list)
        for key, name in entries:
            norm = normalise(name)
            if not norm:
                continue
            index = len(self._keys)
            self._keys.append(key)
            self._names.append(name)
            self._norms.append(norm)
            self._exact[norm].append(index)
            grams = _grams(norm)
            self._gram_sizes.append(len(grams))
            for gram in grams:
                self._postings[gram].append(index)

    def __len__(self) -> int:
        return len(self._keys)

    def exact(self, name: str | None) -> list[tuple[K, str]]:
        """Every (key, name) whose normalised form equals that of `name`."""
        norm = self.normalise(name)
        return [(self._keys[i], self._names[i]) for i in self._exact.get(norm, ())] if norm else []

    def fuzzy(self, name: str | None, *, shortlist: int = 10,
              floor: int = 0) -> list[tuple[K, str, int]]:
        """The shortlist's (key, name, score) scoring at least `floor`, best first; ties in
        index order."""
        norm = self.normalise(name)
        if not norm:
            return []
        grams = sorted(_grams(norm))  # sorted: tie order must not depend on hash seeds
        shared: Counter[int] = Counter()
        for gram in grams:
            shared.update(self._postings.get(gram, ()))
        size, sizes = len(grams), self._gram_sizes
        ranked = sorted(shared.most_common(shortlist * 3),
                        key=lambda kv: (-(kv[1] * 2000) // (size + sizes[kv[0]]), kv[0]))
        ranked = ranked[:shortlist]
        scored = [(i, score) for i, _ in ranked
                  if (score := similarity(norm, self._norms[i], floor)) >= max(floor, 1)]
        scored.sort(key=lambda pair: (-pair[1], pair[0]))
        return [(self._keys[i], self._names[i], score) for i, score in scored]


@dataclass(frozen=True)
class Decision(Generic[K]):
    """What to do with one vendor item: map it, suggest candidates, or say why neither."""

    auto: Match[K] | None
    suggestions: tuple[Match[K], ...]
    reason: str


def decide(exact: Sequence[Match[K]], fuzzy: Sequence[Match[K]], *,
           threshold: int = FUZZY_THRESHOLD, limit: int = 3) -> Decision[K]:
    """Exact evidence for one candidate maps; evidence split equally between several only
    suggests; fuzzy matches at or above `threshold` only suggest.

    A candidate backed by more kinds of exact evidence (domain and name) beats one backed
    by fewer; a tie at the top is never resolved by guessing.
    """
    if exact:
        by_key: dict[K, list[Match[K]]] = {}
        for match in exact:
            by_key.setdefault(match.key, []).append(match)
        strength = {key: len({m.method for m in ms}) for key, ms in by_key.items()}
        best = max(strength.values())
        top = [key for key, n in strength.items() if n == best]
        if len(top) == 1:
            ms = by_key[top[0]]
            method = "+".join(sorted({m.method for m in ms}))
            return Decision(Match(top[0], 100, method, "; ".join(m.reason for m in ms)), (), "")
        tied = tuple(Match(key, 100, "+".join(sorted({m.method for m in by_key[key]})),
                           "; ".join(m.reason for m in by_key[key])
                           + f" (tie: {len(top)} candidates match equally)")
                     for key in top)
        return Decision(None, tied, f"{len(top)} candidates match equally")
    good = [m for m in fuzzy if m.score >= threshold]
    if good:
        return Decision(None, tuple(good[:limit]), "close matches wait for confirmation")
    if fuzzy:
        best_match = max(fuzzy, key=lambda m: m.score)
        return Decision(None, (), f"no exact match; closest {best_match.reason} "
                                  f"scored {best_match.score} (< {threshold})")
    return Decision(None, (), "no exact match and no similar name")


def quantity_score(a: Decimal, b: Decimal) -> int:
    """100 for equal quantities, down to 0 as the relative gap grows."""
    top = max(abs(a), abs(b))
    if top == 0:
        return 100
    gap = (Decimal(100) * abs(a - b) / top).to_integral_value(rounding=ROUND_HALF_UP)
    return max(0, 100 - int(gap))


def pair_by_quantity(subs: Sequence[tuple[K, Decimal]], lines: Sequence[tuple[K, Decimal]],
                     exclude: Container[tuple[K, K]] = ()) -> list[tuple[K, K, int]]:
    """Pair subscriptions with billing lines by closest quantity, one to one first.

    Subscriptions left over (more subscriptions than lines) are paired with their closest
    line too: several subscriptions billed on one line is a real pattern (many-to-one).
    Pairs in `exclude` (rejected by a person) are never made. Deterministic: ties go to
    the earlier item in the given order.
    """
    if not lines:
        return []
    order_s = {k: i for i, (k, _) in enumerate(subs)}
    order_l = {k: i for i, (k, _) in enumerate(lines)}
    pairs = sorted(((abs(qs - ql), order_s[s], order_l[ln], s, ln, qs, ql)
                    for s, qs in subs for ln, ql in lines if (s, ln) not in exclude),
                   key=lambda p: p[:3])
    used_s: set[K] = set()
    used_l: set[K] = set()
    result: list[tuple[K, K, int]] = []
    for _, _, _, s, ln, qs, ql in pairs:
        if s not in used_s and ln not in used_l:
            used_s.add(s)
            used_l.add(ln)
            result.append((s, ln, quantity_score(qs, ql)))
    for _, _, _, s, ln, qs, ql in pairs:
        if s not in used_s:
            used_s.add(s)
            result.append((s, ln, quantity_score(qs, ql)))
    return result


# ---------------------------------------------------------------- billing motion

MOTIONS = ("monthly", "annual-monthly", "annual-annual", "usage")
_MONTHS_RE = re.compile(r"^p(\d+)([my])$|^(\d+)\s*[- ]?\s*(year|yr|month|mo)s?$")
_FREQ_MONTHS = {"monthly": 1, "month": 1, "annual": 12, "annually": 12, "yearly": 12,
                "year": 12, "biennial": 24, "triennial": 36}
_UPFRONT = {"onetime", "one-time", "one time", "prepaid", "upfront"}
_USAGE = {"usage", "arrears", "metered", "consumption"}


def _months(term: str | None) -> int | None:
    if not term:
        return None
    text = term.strip().lower()
    if text in _FREQ_MONTHS:
        return _FREQ_MONTHS[text]
    match = _MONTHS_RE.match(text)
    if not match:
        return None
    if match.group(1):
        n, unit = int(match.group(1)), match.group(2)
    else:
        n, unit = int(match.group(3)), match.group(4)[0]
    return n * 12 if unit == "y" else n


def motion_of(term: str | None, billing_frequency: str | None) -> str:
    """The billing motion of a subscription: monthly, annual-monthly, annual-annual or usage.

    Term is the commitment ("P1M", "P1Y", "P3Y", "1-Year"...), billing frequency how often
    it is invoiced ("Monthly", "Annual", "Triennial", "OneTime", "Usage"). 2- and 3-year
    terms follow the annual rules: billed monthly → annual-monthly (the recurring
    agreement), billed yearly or upfront → annual-annual (a one-time charge). A one-time
    purchase is billed upfront, so annual-annual too. Missing data falls back to monthly,
    the PSA's ordinary recurring line.
    """
    freq = (billing_frequency or "").strip().lower()
    if freq in _USAGE:
        return "usage"
    term_months = _months(term)
    if freq in _UPFRONT:
        return "annual-annual"
    freq_months = _months(freq) if freq else None
    if freq_months is not None and freq_months >= 12:
        return "annual-annual"
    if term_months is not None and term_months >= 12:
        return "annual-monthly"
    return "monthly"
