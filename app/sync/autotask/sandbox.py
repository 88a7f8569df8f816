"""A stateful Autotask sandbox for tests and the demo workspace.

It serves only paths of the swagger subset (case-insensitively, like the real IIS host),
demands the UserName / Secret / ApiIntegrationCode headers, answers in the real camelCase
`items` + `pageDetails` envelope, and keeps units per billing period per contract service,
so an adjustment changes what later reads of ContractServiceUnits show. Like the real API
it refuses a fourth concurrent request to one endpoint and every request once the hourly
threshold is used up; `max_inflight` and `write_log` let tests prove limits and count writes.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import httpx

from app.sync.autotask import sandbox_data as data
from app.sync.autotask import sandbox_reads as reads
from app.sync.autotask import sandbox_writes as writes
from app.sync.autotask.connector import AutotaskConnector
from app.sync.autotask.throttle import THREADS_PER_ENDPOINT, UNLIMITED, endpoint_of
from app.sync.autotask.wire import to_date
from app.sync.sandbox.base import SandboxCore, SandboxRequest
from app.sync.sandbox.seed import TickingClock, utc_now

WriteRecord = writes.WriteRecord
ENTITIES = ("Companies", "Contracts", "Services", "ContractServices", "ContractServiceUnits",
            "ContractCharges")
UNCOUNTED = {UNLIMITED, "thresholdinformation"}


class AutotaskSandbox(SandboxCore):
    """Fake Autotask tenant: call it with an httpx.Request (MockTransport) or serve it."""

    def __init__(self, *, credentials: data.SandboxCredentials | None = None,
                 base_path: str = data.BASE_PATH, zone_origin: str | None = None,
                 clock: Callable[[], datetime] | None = None,
                 thread_limit: int = THREADS_PER_ENDPOINT, threshold_limit: int = 10_000) -> None:
        super().__init__(base_path=base_path)
        self.credentials = credentials or data.SandboxCredentials()
        self.zone_origin = zone_origin  # None: the zone is the origin the lookup came to
        self.clock = clock or utc_now
        self.companies: dict[int, dict[str, Any]] = {}
        self.contracts: dict[int, dict[str, Any]] = {}
        self.services: dict[int, dict[str, Any]] = {}
        self.contract_services: dict[int, dict[str, Any]] = {}
        self.units: dict[int, dict[str, Any]] = {}
        self.charges: dict[int, dict[str, Any]] = {}
        self.adjustments: list[dict[str, Any]] = []  # create-only: never served back
        self.hidden: set[tuple[str, int]] = set()
        self.entity_fields = copy.deepcopy(data.ENTITY_FIELDS)  # picklists, editable per test
        self.write_log: list[WriteRecord] = []
        self.route_templates: list[tuple[str, str]] = []
        self.thread_limit = thread_limit  # a 4th concurrent request per endpoint is refused
        self.threshold_limit = threshold_limit  # requests per hour, the whole tenant's
        self.threshold_used = 0  # set it to play the other integrations' share
        self.inflight: dict[str, int] = {}
        self.max_inflight: dict[str, int] = {}
        self.refused_for_threads = 0
        self._next_id = 29_700_001  # one sequence, so ids never collide across entities
        self._register_routes()

    def __repr__(self) -> str:
        return (f"AutotaskSandbox(companies={len(self.companies)}, "
                f"contracts={len(self.contracts)}, "
                f"contract_services={len(self.contract_services)})")

    @classmethod
    def seeded(cls, companies: int = 8, seed: int = 1, today: date | None = None,
               **kwargs: Any) -> AutotaskSandbox:
        """A deterministic tenant; its clock ticks one second per call from `today` 09:00."""
        today = today or date.today()
        kwargs.setdefault("clock", TickingClock(datetime.combine(today, time(9), UTC)))
        sandbox = cls(**kwargs)
        data.seed(sandbox, companies=companies, seed=seed, today=today)
        return sandbox

    @property
    def base_url(self) -> str:
        return (self.zone_origin or data.ORIGIN) + self.base_path

    def connector_kwargs(self) -> dict[str, str]:
        c = self.credentials
        return {"username": c.username, "secret": c.secret,
                "integration_code": c.integration_code, "zone_url": self.base_url}

    def connector(self, **kwargs: Any) -> AutotaskConnector:
        """A real connector wired to this sandbox through httpx.MockTransport (no sockets)."""
        kwargs.setdefault("transport", httpx.MockTransport(self))
        merged = {**self.connector_kwargs(), **kwargs}
        return AutotaskConnector(**merged)

    # ------------------------------------------------------------ seeding / inspection

    def take_id(self) -> int:
        with self.lock:
            value, self._next_id = self._next_id, self._next_id + 1
            return value

    def store(self, entity: str) -> dict[int, dict[str, Any]]:
        return {"Companies": self.companies, "Contracts": self.contracts,
                "Services": self.services, "ContractServices": self.contract_services,
                "ContractServiceUnits": self.units, "ContractCharges": self.charges}[entity]

    def visible(self, entity: str, record: dict[str, Any]) -> bool:
        """False for what the API user may not see (security level, line of business)."""
        if (entity, record["id"]) in self.hidden:
            return False
        parent = record.get("contractID")
        return entity == "Contracts" or parent is None or ("Contracts", parent) not in self.hidden

    def hide(self, entity: str, record_id: int) -> None:
        """Take a record out of the API user's sight, as a permission change would."""
        self.hidden.add((entity, int(record_id)))

    def add_company(self, name: str, *, company_type: int = data.CUSTOMER, active: bool = True,
                    number: str = "", web: str | None = None,
                    when: datetime | None = None) -> dict[str, Any]:
        rec = data.company(self.take_id(), name, when or self.clock(),
                           company_type=company_type, active=active, number=number, web=web)
        self.companies[rec["id"]] = rec
        return rec

    def add_contract(self, company_id: int, name: str | None = None, *,
                     contract_type: int = data.RECURRING_SERVICE, status: int = data.ACTIVE,
                     start: date | None = None, end: date | None = None,
                     period_type: int = 1) -> dict[str, Any]:
        comp = self.companies[company_id]
        start = start or self.clock().date().replace(day=1)
        end = end or data.add_months(start, 12) - timedelta(days=1)  # one year by default
        if end < start:
            raise ValueError("a contract cannot end before it starts")
        rec = data.contract(self.take_id(), company_id,
                            name or f"{comp['companyName']} - {data.CONTRACT_TYPES[contract_type]}",
                            contract_type=contract_type, status=status, start=start, end=end,
                            period_type=period_type)
        self.contracts[rec["id"]] = rec
        return rec

    def add_service(self, name: str, description: str | None = None, *, price: Decimal,
                    cost: Decimal) -> dict[str, Any]:
        rec = data.service(self.take_id(), name, description or name, price, cost, self.clock())
        self.services[rec["id"]] = rec
        return rec

    def add_contract_service(self, contract_id: int, service_id: int, *, units: int = 0,
                             start: date | None = None, price: Decimal | None = None,
                             cost: Decimal | None = None, invoice_description: str | None = None,
                             internal_description: str | None = None) -> dict[str, Any]:
        """A service on a contract, with a unit row per billing period to the contract's end."""
        contract, item = self.contracts[contract_id], self.services[service_id]
        line = data.contract_service(
            self.take_id(), contract_id, service_id,
            price=item["unitPrice"] if price is None else price,
            cost=item["unitCost"] if cost is None else cost,
            invoice_description=invoice_description, internal_description=internal_description)
        self.contract_services[line["id"]] = line
        first = max(start or to_date(contract["startDate"]), to_date(contract["startDate"]))
        months = data.PERIOD_MONTHS.get(contract["contractPeriodType"], 1)
        for span_start, span_end in data.periods(first, to_date(contract["endDate"]), months):
            row = data.unit_row(self.take_id(), line, span_start, span_end, units)
            self.units[row["id"]] = row
        return line

    def add_charge(self, contract_id: int, name: str, *, quantity: Decimal, price: Decimal,
                   purchased: date, cost: Decimal | None = None, description: str | None = None,
                   product_id: int | None = None, billable: bool = True) -> dict[str, Any]:
        rec = data.charge(self.take_id(), contract_id, name, self.clock(), quantity=quantity,
                          price=price, cost=cost, purchased=purchased, description=description,
                          product_id=product_id, billable=billable)
        self.charges[rec["id"]] = rec
        return rec

    def unit_rows(self, contract_service_id: int) -> list[dict[str, Any]]:
        return sorted((r for r in self.units.values()
                       if r["contractServiceID"] == contract_service_id),
                      key=lambda r: r["startDate"])

    def unit_row_on(self, contract_service_id: int, day: date) -> dict[str, Any] | None:
        return next((r for r in self.unit_rows(contract_service_id)
                     if to_date(r["startDate"]) <= day <= to_date(r["endDate"])), None)

    def units_on(self, contract_service_id: int, day: date) -> int:
        row = self.unit_row_on(contract_service_id, day)
        return int(row["units"]) if row else 0

    def set_units_externally(self, contract_service_id: int, units: int, *, effective: date,
                             by: str = "someone_else") -> None:
        """Someone changes the seats in Autotask (not through TrueUp); not in write_log."""
        with self.lock:
            change = units - self.units_on(contract_service_id, effective)
            writes.adjust_units(self, contract_service_id, change, effective)

    def edit_contract_service_externally(self, contract_service_id: int, **changes: Any
                                         ) -> dict[str, Any]:
        """e.g. unitPrice=Decimal("8.00"): an edit in the Autotask UI; not in write_log."""
        with self.lock:
            self.contract_services[contract_service_id].update(copy.deepcopy(changes))
            return self.contract_services[contract_service_id]

    def log_write(self, method: str, path: str, body: Any) -> None:
        self.write_log.append(WriteRecord(method, path, body))

    def writes(self, method: str | None = None, entity: str | None = None) -> list[WriteRecord]:
        return [w for w in self.write_log if (method is None or w.method == method.upper())
                and (entity is None or endpoint_of(w.path) == entity.lower())]

    # ------------------------------------------------------------------ transport

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request = self._canonical(request)
        endpoint = endpoint_of(request.url.path)
        limited = endpoint != UNLIMITED
        if limited:
            with self.lock:
                count = self.inflight.get(endpoint, 0) + 1
                if count > self.thread_limit:
                    self.refused_for_threads += 1
                    return reads.errors(429, f"Thread limit exceeded: at most "
                                        f"{self.thread_limit} concurrent requests per endpoint "
                                        "for this integration.")
                self.inflight[endpoint] = count
                self.max_inflight[endpoint] = max(self.max_inflight.get(endpoint, 0), count)
        try:
            if endpoint not in UNCOUNTED:
                with self.lock:
                    if self.threshold_used >= self.threshold_limit:
                        return reads.errors(429, "The API request threshold of "
                                            f"{self.threshold_limit} requests per 60 minutes "
                                            "has been exceeded for this database.")
                    self.threshold_used += 1
            return super().__call__(request)
        finally:
            if limited:
                with self.lock:
                    self.inflight[endpoint] -= 1

    def _canonical(self, request: httpx.Request) -> httpx.Request:
        """URLs are case-insensitive on the real host: give the base path our spelling."""
        path = request.url.path
        if path.lower().startswith(self.base_path.lower()) and not path.startswith(
                self.base_path):
            url = request.url.copy_with(path=self.base_path + path[len(self.base_path):])
            return httpx.Request(request.method, url, headers=request.headers,
                                 content=request.content)
        return request

    # ------------------------------------------------------------------ routing

    def _add(self, method: str, template: str, handler: Callable[[SandboxRequest],
                                                                 httpx.Response],
             *, auth: bool = True) -> None:
        self.route_templates.append((method, template))

        def guarded(req: SandboxRequest) -> httpx.Response:
            denied = self._check_auth(req) if auth else None
            return denied if denied is not None else handler(req)

        self.route(method, template)(guarded)
        route = self.routes[-1]
        route.regex = re.compile(route.regex.pattern, re.IGNORECASE)

    def _register_routes(self) -> None:
        add = self._add
        add("GET", "/V1.0/ZoneInformation", lambda r: reads.zone_information(self, r),
            auth=False)
        add("GET", "/V1.0/ThresholdInformation", lambda r: reads.threshold_information(self, r))
        for entity in ("Companies", "Contracts"):
            add("GET", f"/V1.0/{entity}/entityInformation/fields",
                lambda r, e=entity: reads.entity_fields(self, r, e))
        for entity in ENTITIES:
            add("POST", f"/V1.0/{entity}/query", lambda r, e=entity: reads.run_query(self, r, e))
            add("GET", f"/V1.0/{entity}/query", lambda r, e=entity: reads.run_query(self, r, e))
            add("GET", f"/V1.0/{entity}/{{id}}", lambda r, e=entity: reads.get_by_id(self, r, e))
        add("POST", "/V1.0/ContractServiceAdjustments",
            lambda r: writes.post_adjustment(self, r))
        add("POST", "/V1.0/Contracts/{parentId}/ServiceAdjustments",
            lambda r: writes.post_adjustment(self, r))
        add("POST", "/V1.0/Contracts/{parentId}/Services",
            lambda r: writes.post_contract_service(self, r))
        add("PATCH", "/V1.0/Contracts/{parentId}/Services",
            lambda r: writes.patch_contract_service(self, r))
        add("POST", "/V1.0/Contracts/{parentId}/Charges", lambda r: writes.post_charge(self, r))

    def _check_auth(self, req: SandboxRequest) -> httpx.Response | None:
        c = self.credentials
        given = (req.headers.get("UserName", ""), req.headers.get("Secret", ""),
                 req.headers.get("ApiIntegrationCode", ""))
        if given[0].lower() != c.username.lower() or given[1:] != (c.secret,
                                                                    c.integration_code):
            return httpx.Response(401, content=b"")
        return None
