"""Who buys what in the demo, relative to `today`, and which scenario each customer carries.

The previous calendar month is the period to close. Every finding kind has a customer built
to produce it (`Scenario`), the rest of the book is clean background business in M/M, A/M
and A/A (1- and 3-year) motions, so a reconciliation shows the scenarios and nothing else.
Deterministic: the same `today` and size give the same plan, ids and all.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from app.domain.periods import BillingPeriod, add_months
from app.sync.pax8.sandbox_data import CATALOG

SEED = 5_2024
DEFAULT_CUSTOMERS = 60
AZURE = "Microsoft Azure Plan"
NOT_IN_PSA_CATALOG = ("Visio Plan 2",)  # the SKU-unmapped scenario sells it
BACKGROUND_PRODUCTS = tuple(item.name for item in CATALOG
                            if not item.usage and item.name not in NOT_IN_PSA_CATALOG)
ANNUAL_ONLY = frozenset(item.name for item in CATALOG if item.monthly is None)
PC_PRODUCTS = ("Microsoft 365 Business Basic", "Microsoft 365 Business Standard",
               "Microsoft 365 Business Premium", "Exchange Online (Plan 1)")


@dataclass(frozen=True)
class PsaLine:
    """How ConnectWise bills a subscription. None prices mean "as the vendor prices it"."""

    quantity: int
    unit_price: Decimal | None = None
    unit_cost: Decimal | None = None
    one_time: bool = False  # an A/A charge already billed on the one-time agreement
    agreement: str = "cloud"  # "cloud" (the usual one) or "licensing" (second agreement)


@dataclass(frozen=True)
class DemoSub:
    key: str
    product: str
    motion: str  # "M/M", "A/M", "A/A", "3Y/A" or "usage"
    quantity: int
    start: date
    psa: PsaLine | None = None
    changes: tuple[tuple[date, int], ...] = ()  # (day, seats from that day)
    cancelled: date | None = None
    vendor_price: Decimal | None = None  # overrides the catalogue list price
    vendor_cost: Decimal | None = None
    unbilled_extra: int = 0  # seats on a vendor charge line that lost its end date
    note: str = ""

    def quantity_on(self, day: date) -> int:
        seats = self.quantity
        for when, after in self.changes:
            if when <= day:
                seats = after
        return seats


@dataclass(frozen=True)
class DemoCustomer:
    key: str
    vendor: str  # "pax8" | "partner_center"
    name: str
    website: str  # Pax8 website, or the Partner Center tenant domain
    psa_name: str | None  # None: the customer is not in ConnectWise yet
    psa_website: str | None = None
    mapping: str = "auto"  # auto | confirm (a suggestion the bookkeeper accepts) | leave
    agreements: str = "standard"  # standard | two_recurring
    subs: tuple[DemoSub, ...] = ()
    scenario: str = ""  # the finding kinds this customer is built to show


@dataclass(frozen=True)
class DemoPlan:
    today: date
    period: BillingPeriod
    customers: tuple[DemoCustomer, ...] = field(default_factory=tuple)

    def of(self, vendor: str) -> list[DemoCustomer]:
        return [c for c in self.customers if c.vendor == vendor]

    @property
    def subscriptions(self) -> int:
        return sum(len(c.subs) for c in self.customers)


def previous_month(today: date) -> BillingPeriod:
    last = today.replace(day=1) - timedelta(days=1)
    return BillingPeriod.month(last.year, last.month)


def demo_plan(today: date, customers: int = DEFAULT_CUSTOMERS) -> DemoPlan:
    period = previous_month(today)
    scenario = _scenarios(period)
    rng = random.Random(SEED)
    taken = {c.name.lower() for c in scenario} | {(c.psa_name or "").lower() for c in scenario}
    background = _background(rng, period, max(0, customers - len(scenario)), taken)
    return DemoPlan(today, period, tuple(scenario + background))


# ---------------------------------------------------------------- scenarios


def _scenarios(p: BillingPeriod) -> list[DemoCustomer]:
    def d(n: int) -> date:  # the n-th day of the period to close
        return p.start + timedelta(days=n - 1)

    long_ago, last_year = add_months(p.start, -14), add_months(p.start, -9)
    before = p.start - timedelta(days=12)  # a day of the month before the period

    def sub(key: str, product: str, motion: str, seats: int, start: date = long_ago,
            billed: int | None = -1, **kw: object) -> DemoSub:
        psa = None if billed is None else PsaLine(seats if billed == -1 else billed)
        return DemoSub(key, product, motion, seats, start, psa, **kw)  # type: ignore[arg-type]

    bp, bs, bb, e3 = ("Microsoft 365 Business Premium", "Microsoft 365 Business Standard",
                      "Microsoft 365 Business Basic", "Microsoft 365 E3")
    exo, mdb = "Exchange Online (Plan 1)", "Microsoft Defender for Business"
    pax8 = [
        DemoCustomer("summit", "pax8", "Summit Dental Group", "summitdental.com",
                     "Summit Dental Group", "summitdental.com", scenario="quantity_drift", subs=(
                         sub("summit-bp", bp, "M/M", 10, changes=((d(12), 13),),
                             note="3 seats added on day 12; the PSA still bills 10"),
                         sub("summit-exo", exo, "A/M", 10), sub("summit-mdb", mdb, "M/M", 10))),
        DemoCustomer("riverbend", "pax8", "Riverbend Accounting LLC", "riverbendcpa.com",
                     "Riverbend Accounting", "riverbendcpa.com", scenario="quantity_drift",
                     subs=(sub("riverbend-bs", bs, "M/M", 25, changes=((d(20), 20),),
                               note="5 seats removed on day 20; the PSA still bills 25"),
                           sub("riverbend-exo", exo, "M/M", 25))),
        DemoCustomer("lakeside", "pax8", "Lakeside Logistics", "lakesidelogistics.com",
                     "Lakeside Logistics", "lakesidelogistics.com",
                     scenario="unbilled_subscription", subs=(
                         sub("lakeside-phone", "Microsoft Teams Phone Standard", "M/M", 8,
                             start=add_months(p.start, -3) + timedelta(days=6), billed=None,
                             note="bought three months ago, never added to the agreement"),
                         sub("lakeside-pbi", "Power BI Pro", "A/M", 4, start=d(8), billed=None,
                             note="bought on day 8"),
                         sub("lakeside-bp", bp, "A/M", 22), sub("lakeside-mdb", mdb, "A/M", 22))),
        DemoCustomer("ironwood", "pax8", "Ironwood Construction", "ironwoodbuilds.com",
                     "Ironwood Construction", "ironwoodbuilds.com",
                     scenario="billed_but_cancelled", subs=(
                         sub("ironwood-e3", e3, "M/M", 12, cancelled=before,
                             note="cancelled last month; the PSA line still bills"),
                         sub("ironwood-bs", bs, "A/M", 30))),
        DemoCustomer("granite", "pax8", "Granite Peak Engineering", "granitepeakeng.com",
                     "Granite Peak Engineering", "granitepeakeng.com", scenario="cost_change",
                     subs=(DemoSub("granite-bp", bp, "A/M", 20, long_ago,
                                   PsaLine(20, Decimal("22.00"), Decimal("19.80")),
                                   vendor_price=Decimal("23.10"), vendor_cost=Decimal("20.79"),
                                   note="Pax8 raised the price; the PSA line keeps the old "
                                        "cost"),
                           sub("granite-exo", exo, "A/M", 6))),
        DemoCustomer("maple", "pax8", "Maple Grove Veterinary Clinic", "maplegrovevets.com",
                     "Maple Grove Veterinary", "mgvclinic.com", mapping="confirm",
                     scenario="negative_margin", subs=(
                         DemoSub("maple-e3", e3, "A/M", 15, long_ago,
                                 PsaLine(15, unit_price=Decimal("30.00")),
                                 note="sold at 30.00, below the 32.40 cost"),
                         sub("maple-mdb", mdb, "A/M", 15))),
        DemoCustomer("copper", "pax8", "Copper Canyon Realty", "coppercanyonrealty.com",
                     "Copper Canyon Realty", "coppercanyonrealty.com",
                     scenario="annual_charge_missing", subs=(
                         sub("copper-bp", bp, "A/A", 12, start=d(9), billed=None,
                             note="an annual purchase on day 9, not charged yet"),
                         DemoSub("copper-e3", e3, "A/A", 6, add_months(d(15), -12),
                                 PsaLine(6, one_time=True),
                                 note="renewed on day 15 and already charged: settled"),
                         sub("copper-exo", exo, "A/M", 12))),
        DemoCustomer("brightwater", "pax8", "Brightwater Marketing", "brightwatermktg.com",
                     "Brightwater Marketing", "brightwatermktg.com",
                     scenario="annual_charge_missing", subs=(
                         sub("brightwater-bs", bs, "A/A", 9, start=add_months(d(22), -12),
                             billed=None, note="renewed on day 22, not charged yet"),
                         sub("brightwater-mdb", mdb, "M/M", 9))),
        DemoCustomer("pinecrest", "pax8", "Pinecrest Physical Therapy", "pinecrestpt.com",
                     "Pinecrest Physical Therapy", "pinecrestpt.com",
                     scenario="vendor_invoice_mismatch", subs=(
                         sub("pinecrest-bp", bp, "M/M", 14, unbilled_extra=4,
                             note="an invoice line for 4 seats lost its end date"),
                         sub("pinecrest-exo", exo, "M/M", 14))),
        DemoCustomer("northgate", "pax8", "Northgate Insurance Agency", "northgateins.com",
                     None, scenario="unmapped", subs=(
                         sub("northgate-bs", bs, "M/M", 7, start=last_year, billed=None),
                         sub("northgate-mdb", mdb, "M/M", 7, start=last_year, billed=None))),
        DemoCustomer("silver", "pax8", "Silver Creek Title & Escrow", "silvercreektitle.com",
                     "Silver Creek Title", "sctitleco.com", mapping="leave", scenario="unmapped",
                     subs=(sub("silver-bp", bp, "A/M", 11), sub("silver-exo", exo, "A/M", 4))),
        DemoCustomer("evergreen", "pax8", "Evergreen Architects", "evergreenarch.com",
                     "Evergreen Architects", "evergreenarch.com", scenario="unmapped", subs=(
                         sub("evergreen-visio", "Visio Plan 2", "A/M", 3, billed=None,
                             note="Visio is not in the PSA catalogue"),
                         sub("evergreen-bp", bp, "A/M", 16))),
        DemoCustomer("harbor", "pax8", "Harbor Point Auto Group", "harborpointauto.com",
                     "Harbor Point Auto Group", "harborpointauto.com",
                     agreements="two_recurring", subs=(
                         DemoSub("harbor-bp", bp, "A/M", 40, long_ago,
                                 PsaLine(40, agreement="licensing")),
                         DemoSub("harbor-phone", "Microsoft Teams Phone Standard", "M/M", 12,
                                 long_ago, PsaLine(12, agreement="licensing")))),
        DemoCustomer("oakview", "pax8", "Oakview Medical Group", "oakviewmed.com",
                     "Oakview Medical Group", "oakviewmed.com", subs=(
                         sub("oakview-e3a", e3, "A/M", 5), sub("oakview-e3b", e3, "M/M", 12),
                         sub("oakview-exo", exo, "A/M", 17))),
        DemoCustomer("stonegate", "pax8", "Stonegate Family Law", "stonegatelaw.com",
                     "Stonegate Family Law", "stonegatelaw.com", scenario="unmapped", subs=(
                         sub("stonegate-bpa", bp, "M/M", 7), sub("stonegate-bpb", bp, "A/M", 18))),
        DemoCustomer("falcon", "pax8", "Falcon Ridge Insurance Agency, Inc.", "falconridgeins.com",
                     "Falcon Ridge Insurance Agency", "frinsure.com", subs=(
                         sub("falcon-bs", bs, "A/M", 9), sub("falcon-mdb", mdb, "M/M", 9))),
        DemoCustomer("bluemesa", "pax8", "Blue Mesa Law", "bluemesalaw.com",
                     "Blue Mesa Legal Group", "https://www.bluemesalaw.com", subs=(
                         sub("bluemesa-bp", bp, "A/M", 8), sub("bluemesa-e3", e3, "3Y/A", 3,
                                                              start=add_months(d(3), -20)))),
        DemoCustomer("cedar", "pax8", "Cedar Ridge Dental LLC", "cedarridgedental.com",
                     "Cedar Ridge Dental", "cedarridgedental.com", subs=(
                         sub("cedar-bb", bb, "M/M", 6), sub("cedar-exo", exo, "A/M", 6))),
    ]
    pc = [
        DemoCustomer("aspen", "partner_center", "Aspen Dental Partners",
                     "aspendentalpartners.onmicrosoft.com", "Aspen Dental Partners", subs=(
                         sub("aspen-bb", bb, "M/M", 20), sub("aspen-bp", bp, "A/M", 10))),
        DemoCustomer("frontrange", "partner_center", "Front Range Credit Union",
                     "frontrangecu.onmicrosoft.com", "Front Range Credit Union",
                     scenario="quantity_drift", subs=(
                         DemoSub("frontrange-bp", bp, "A/M", 30, long_ago, PsaLine(30),
                                 changes=((d(10), 35),),
                                 note="an NCE addQuantity on day 10: refund 30, charge 35"),
                         sub("frontrange-exo", exo, "M/M", 30))),
        DemoCustomer("sunrise", "partner_center", "Sunrise Veterinary Clinic",
                     "sunrisevet.onmicrosoft.com", "Sunrise Veterinary Clinic",
                     scenario="annual_charge_missing", subs=(
                         sub("sunrise-bp", bp, "A/A", 8, start=d(10), billed=None,
                             note="a new annual purchase on day 10"),
                         sub("sunrise-bb", bb, "M/M", 8))),
        DemoCustomer("bayview", "partner_center", "Bayview Logistics",
                     "bayviewlogistics.onmicrosoft.com", "Bayview Logistics",
                     scenario="usage_charge", subs=(
                         sub("bayview-azure", AZURE, "usage", 1, billed=None),
                         sub("bayview-bs", bs, "A/M", 14))),
        DemoCustomer("redstone", "partner_center", "Redstone Engineering",
                     "redstoneeng.onmicrosoft.com", "Redstone Engineering",
                     scenario="usage_charge", subs=(
                         sub("redstone-azure", AZURE, "usage", 1, billed=None),
                         sub("redstone-bp", bp, "A/M", 19))),
        DemoCustomer("cedar-azure", "partner_center", "Cedar Ridge Dental",
                     "cedarridgedental.onmicrosoft.com", "Cedar Ridge Dental",
                     scenario="usage_charge", subs=(
                         sub("cedar-azure", AZURE, "usage", 1, billed=None),)),
        DemoCustomer("willow", "partner_center", "Willow Bay Realty Partners",
                     "willowbayrealty.onmicrosoft.com", "Willow Bay Realty", mapping="confirm",
                     subs=(sub("willow-bs", bs, "M/M", 5), sub("willow-exo", exo, "M/M", 5))),
    ]
    return pax8 + pc


# ---------------------------------------------------------------- background


_PLACES = ["Sunset", "Harborview", "Elm Street", "Canyon", "Prairie", "Westfield", "Kingsley",
           "Bridgeport", "Clearwater", "Highland", "Meadowbrook", "Rockport", "Fairview",
           "Glenwood", "Lakeshore", "Crestview", "Parkside", "Riverside", "Hillcrest", "Eastgate"]
_TRADES = ["Dental", "Family Law", "Accounting", "Logistics", "Veterinary Clinic", "Realty",
           "Engineering", "Insurance Agency", "Medical Group", "Construction", "Credit Union",
           "Architects", "Auto Group", "Marketing", "Physical Therapy", "Title & Escrow"]
_SUFFIXES = ["", "", " LLC", ", Inc.", " PC", " Group"]


def _background(rng: random.Random, p: BillingPeriod, count: int, taken: set[str]
                ) -> list[DemoCustomer]:
    """Clean customers: every subscription billed as the vendor bills it, no anniversary of
    an annual subscription in the period (those are scenarios), no change inside it."""
    out: list[DemoCustomer] = []
    names: list[str] = []
    while len(names) < count:
        base = f"{rng.choice(_PLACES)} {rng.choice(_TRADES)}"
        if base.lower() not in taken:
            taken.add(base.lower())
            names.append(base)
    for index, base in enumerate(names):
        vendor = "partner_center" if index % 4 == 3 else "pax8"
        key = f"bg{index:02d}"
        slug = "".join(ch for ch in base.lower() if ch.isalnum())[:24]
        if vendor == "pax8":
            products = rng.sample(BACKGROUND_PRODUCTS, k=rng.randint(12, 17))
            name, website = base + rng.choice(_SUFFIXES), f"{slug}.com"
        else:
            products = rng.sample(PC_PRODUCTS, k=rng.randint(3, len(PC_PRODUCTS)))
            name, website = base, f"{slug}.onmicrosoft.com"
        subs = [_background_sub(rng, p, f"{key}-{n}", product, vendor)
                for n, product in enumerate(products)]
        for sub in list(subs):  # flex seats billed monthly beside an annual purchase
            if sub.motion == "A/A" and sub.product not in ANNUAL_ONLY and rng.random() < 0.6:
                seats = rng.choice([1, 2, 3, 5])
                subs.append(DemoSub(f"{sub.key}-flex", sub.product, "M/M", seats,
                                    min(sub.start + timedelta(days=rng.randint(20, 60)),
                                        p.start - timedelta(days=5)),
                                    PsaLine(seats)))
        out.append(DemoCustomer(key, vendor, name, website, base,
                                f"{slug}.com" if vendor == "pax8" else None,
                                subs=tuple(subs)))
    return out


def _background_sub(rng: random.Random, p: BillingPeriod, key: str, product: str,
                    vendor: str) -> DemoSub:
    seats = rng.choice([2, 3, 5, 5, 8, 10, 12, 15, 20, 25, 30, 40, 50])
    motions = ["M/M", "A/M", "A/M"] if vendor == "partner_center" else \
        ["M/M", "M/M", "A/M", "A/M", "A/M", "A/A", "3Y/A"]
    if product in ANNUAL_ONLY:
        motions = [m for m in motions if m != "M/M"]
    motion = rng.choice(motions)
    if motion in ("A/A", "3Y/A"):  # anniversaries anywhere but in the period
        months = rng.choice([m for m in range(2, 24) if m != 12])
    else:
        months = rng.randint(1, 30)
    start = add_months(p.start, -months) + timedelta(days=rng.randint(0, 27))
    sub = DemoSub(key, product, motion, seats, start, PsaLine(seats))
    if motion in ("M/M", "A/M") and vendor == "pax8" and months >= 3 and rng.random() < 0.3:
        # a seat change months ago that the PSA already follows
        when = add_months(p.start, -rng.randint(1, months - 1)) + timedelta(days=rng.randint(
            0, 20))
        after = max(1, seats + rng.choice([-2, -1, 1, 2, 3]))
        sub = replace(sub, changes=((when, after),), psa=PsaLine(after))
    if motion in ("A/A", "3Y/A"):
        sub = replace(sub, psa=None)  # billed once a year on the one-time agreement
    return sub
