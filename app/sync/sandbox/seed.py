"""What every PSA sandbox's seed data shares: customer names, and a deterministic clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

COMPANY_NAMES = [
    "Acme Dental", "Birch & Vale Law", "Cobalt Logistics", "Delta Orthopedics",
    "Evergreen Realty", "Fjord Architects", "Granite Credit Union", "Harbor Veterinary",
    "Ironwood Manufacturing", "Juniper Accounting", "Keystone Schools", "Lumen Media",
]


def company_name(n: int) -> str:
    """The n-th seeded customer's name (0-based); past the list, numbered: "Acme Dental 2"."""
    name = COMPANY_NAMES[n % len(COMPANY_NAMES)]
    return name + (f" {n // len(COMPANY_NAMES) + 1}" if n >= len(COMPANY_NAMES) else "")


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class TickingClock:
    """A deterministic clock: each call is one second after the previous one."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        self.current += timedelta(seconds=1)
        return self.current
