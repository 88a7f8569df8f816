"""Datto Autotask PSA REST connector: customers, contracts, contract services with their units,
services and contract charges; writes as adjustments, price updates and charges.

Built from the swagger subset and real samples in reference/autotask. Seat counts live in
ContractServiceUnits (one row per billing period, split where an adjustment took effect), so
every quantity read here comes from the unit row of a given day. Writes return the id
Autotask answers with (`{"itemId": ...}`); the push protocol verifies by re-reading.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx

from app.sync.autotask import query, wire
from app.sync.autotask.client import DEFAULT_LOOKUP_URL, MAX_PAGE_SIZE, VERSION, AutotaskClient
from app.sync.autotask.errors import AutotaskError, OutcomeUnknownError
from app.sync.autotask.picklists import read_picklists
from app.sync.autotask.throttle import LEVELS, STOP_AT, EndpointLimiter, ThresholdStatus
from app.sync.credentials import load_secret
from app.sync.http import DEFAULT_TIMEOUT, CancelledError
from app.sync.psa_store import PsaSnapshot
from app.sync.records import (
    PsaAgreementRecord,
    PsaBillingLineRecord,
    PsaCompanyRecord,
    PsaProductRecord,
)

Progress = Callable[[int, int | None, str], None]
RECURRING, FIXED_PRICE = "recurring", "fixed_price"


def _no_progress(done: int, total: int | None, message: str) -> None:
    pass


class AutotaskConnector:
    """One Autotask tenant seen by one API user; reads return frozen records."""

    def __init__(self, username: str, secret: str, integration_code: str, *,
                 zone_url: str | None = None, lookup_url: str = DEFAULT_LOOKUP_URL,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 cancel: threading.Event | None = None, progress: Progress | None = None,
                 page_size: int = MAX_PAGE_SIZE, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 limiter: EndpointLimiter | None = None,
                 levels: tuple[tuple[int, float], ...] = LEVELS, stop_at: int = STOP_AT,
                 picklists: wire.Picklists | None = None) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE} (Autotask's page limit)")
        self.page_size = page_size
        self._progress = progress or _no_progress
        self._done = 0
        self._picklists = picklists
        self.client = AutotaskClient(username, secret, integration_code, zone_url=zone_url,
                                     lookup_url=lookup_url, transport=transport, sleep=sleep,
                                     cancel=cancel, report=self._status, timeout=timeout,
                                     limiter=limiter, levels=levels, stop_at=stop_at)

    @classmethod
    def from_keyring(cls, connection_name: str, username: str, integration_code: str, *,
                     secret_field: str = "secret", **kwargs: Any) -> AutotaskConnector:
        """A connector whose secret comes from the OS keyring, never from settings."""
        return cls(username, load_secret(connection_name, secret_field), integration_code,
                   **kwargs)

    def __repr__(self) -> str:
        return f"AutotaskConnector(username={self.client.username!r})"

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> AutotaskConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _status(self, message: str) -> None:
        self._progress(self._done, None, message)

    @property
    def zone_url(self) -> str:
        return self.client.zone_url

    @property
    def cancel(self) -> threading.Event:
        return self.client.cancel

    # ------------------------------------------------------------------ basics

    def test_connection(self) -> dict[str, Any]:
        """Zone (looked up if needed), credentials and the tenant's threshold usage."""
        status = self.threshold()
        return {"zone_url": self.zone_url, "threshold": status, "summary": status.describe()}

    def threshold(self) -> ThresholdStatus:
        return self.client.threshold()

    def picklists(self) -> wire.Picklists:
        """Picklist values from the tenant (entityInformation/fields), read once."""
        if self._picklists is None:
            self._picklists = read_picklists(self.client)
        return self._picklists

    def iter_raw(self, entity: str, filters: Sequence[query.Filter] = (), *,
                 include_fields: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
        """Every record a query matches, page by page (500 each), reporting progress."""
        read = 0
        for page in self.client.query_pages(entity, filters, page_size=self.page_size,
                                            include_fields=include_fields):
            read += len(page)
            self._done += len(page)
            self._progress(read, None, f"{entity}: {read} read")
            yield from page

    def _chunked(self, entity: str, field: str, ids: Sequence[int] | None,
                 extra: Sequence[query.Filter] = ()) -> Iterator[dict[str, Any]]:
        """A query per chunk of ids (Autotask allows 500 OR conditions); all when None."""
        if ids is None:
            yield from self.iter_raw(entity, list(extra) or [query.EVERYTHING])
            return
        for chunk in query.chunks(sorted(set(ids))):
            yield from self.iter_raw(entity, [query.in_(field, chunk), *extra])

    # ------------------------------------------------------------------ reads

    def list_companies(self, *, customers_only: bool = True) -> list[PsaCompanyRecord]:
        """Companies; by default only customers (companyType), not leads, vendors, partners."""
        filters = ([query.in_("companyType", sorted(self.picklists().customer_types))]
                   if customers_only else [])
        return [wire.company_record(r) for r in self.iter_raw("Companies", filters)]

    def list_contracts(self, *, active_only: bool = True,
                       kinds: Iterable[str] = (RECURRING, FIXED_PRICE),
                       company_ids: Sequence[int] | None = None) -> list[PsaAgreementRecord]:
        """Recurring-service and fixed-price contracts, by default only active ones."""
        lists = self.picklists()
        kinds = set(kinds)
        types = sorted((lists.recurring_types if RECURRING in kinds else frozenset())
                       | (lists.fixed_price_types if FIXED_PRICE in kinds else frozenset()))
        extra = [query.in_("contractType", types)]
        if active_only:
            extra.append(query.in_("status", sorted(lists.active_statuses)))
        return [wire.contract_record(r, lists)
                for r in self._chunked("Contracts", "companyID", company_ids, extra)]

    def list_services(self) -> list[PsaProductRecord]:
        """The Services catalogue (what contract services bill), with price and cost."""
        return [wire.service_record(r) for r in self.iter_raw("Services")]

    def list_units(self, *, on: date | None = None, contract_ids: Sequence[int] | None = None,
                   contract_service_id: int | None = None
                   ) -> list[wire.ContractServiceUnitRecord]:
        """ContractServiceUnits, optionally only the rows covering day `on`."""
        extra: list[query.Filter] = []
        if on is not None:
            extra += [query.lte("startDate", on), query.gte("endDate", on)]
        if contract_service_id is not None:
            extra.append(query.eq("contractServiceID", int(contract_service_id)))
        return [wire.unit_record(r)
                for r in self._chunked("ContractServiceUnits", "contractID", contract_ids, extra)]

    def units_on(self, contract_service_id: int, day: date) -> wire.ContractServiceUnitRecord | None:
        """The unit row of one contract service on one day: the seat count Autotask bills."""
        rows = self.list_units(on=day, contract_service_id=contract_service_id)
        return max(rows, key=lambda r: r.start_date or date.min) if rows else None

    def list_contract_services(self, *, as_of: date, contract_ids: Sequence[int] | None = None,
                               service_names: Mapping[str, str] | None = None
                               ) -> list[PsaBillingLineRecord]:
        """Contract services as billing lines, each with the units of its row on `as_of`."""
        raw = list(self._chunked("ContractServices", "contractID", contract_ids))
        units: dict[str, wire.ContractServiceUnitRecord] = {}
        for row in self.list_units(on=as_of, contract_ids=contract_ids):
            known = units.get(row.contract_service_id)
            if known is None or (row.start_date or date.min) > (known.start_date or date.min):
                units[row.contract_service_id] = row
        names = service_names or {}
        return [wire.contract_service_record(r, units.get(str(wire.get(r, "id"))),
                                             names.get(str(wire.get(r, "serviceID"))))
                for r in raw]

    def list_contract_charges(self, *, contract_ids: Sequence[int] | None = None,
                              since: date | None = None) -> list[PsaBillingLineRecord]:
        """One-time charges and credits, optionally purchased on or after `since`."""
        extra = [query.gte("datePurchased", since)] if since is not None else []
        return [wire.charge_record(r)
                for r in self._chunked("ContractCharges", "contractID", contract_ids, extra)]

    def find_charges(self, contract_id: int, marker: str) -> list[PsaBillingLineRecord]:
        """The charges of one contract whose name or description carries `marker`."""
        filters = [query.eq("contractID", int(contract_id)),
                   query.or_(query.contains("name", marker),
                             query.contains("description", marker))]
        return [wire.charge_record(r) for r in self.iter_raw("ContractCharges", filters)]

    def find_contract_services(self, contract_id: int, service_id: int) -> list[dict[str, Any]]:
        filters = [query.eq("contractID", int(contract_id)),
                   query.eq("serviceID", int(service_id))]
        return list(self.iter_raw("ContractServices", filters))

    def get_company(self, company_id: int) -> PsaCompanyRecord:
        return wire.company_record(self.client.get_item("Companies", company_id))

    def get_contract(self, contract_id: int) -> PsaAgreementRecord:
        return wire.contract_record(self.client.get_item("Contracts", contract_id),
                                    self.picklists())

    def get_contract_service(self, contract_service_id: int, *, on: date | None = None
                             ) -> PsaBillingLineRecord:
        """One contract service; with `on`, its quantity is the units of that day."""
        raw = self.client.get_item("ContractServices", contract_service_id)
        unit = self.units_on(contract_service_id, on) if on is not None else None
        return wire.contract_service_record(raw, unit)

    def get_service(self, service_id: int) -> PsaProductRecord:
        return wire.service_record(self.client.get_item("Services", service_id))

    def get_contract_charge(self, charge_id: int) -> PsaBillingLineRecord:
        return wire.charge_record(self.client.get_item("ContractCharges", charge_id))

    def fixed_price_contract(self, company_id: int) -> PsaAgreementRecord | None:
        """The customer's active fixed-price contract, where A/A charges are billed."""
        found = self.list_contracts(kinds=(FIXED_PRICE,), company_ids=[int(company_id)])
        return min(found, key=lambda c: int(c.external_id)) if found else None

    def snapshot(self, *, as_of: date, charges_since: date | None = None) -> PsaSnapshot:
        """Everything a PSA sync stores, with seat counts as of `as_of` (a complete snapshot).

        Charges default to those purchased from the start of the month a year before.
        """
        first = as_of.replace(day=1)
        since = charges_since or (first - timedelta(days=365)).replace(day=1)
        companies = self.list_companies()
        customers = {int(c.external_id) for c in companies}
        contracts = self.list_contracts(company_ids=sorted(customers))
        products = self.list_services()
        ids = sorted(int(c.external_id) for c in contracts)
        if self.cancel.is_set():
            raise CancelledError("cancelled")
        names = {p.external_id: p.identifier for p in products}
        lines = self.list_contract_services(as_of=as_of, contract_ids=ids, service_names=names)
        lines += self.list_contract_charges(contract_ids=ids, since=since)
        return PsaSnapshot(companies, contracts, lines, products, complete=True)

    # ------------------------------------------------------------------ writes

    def create_service_adjustment(self, contract_id: int, *, unit_change: int,
                                  effective_date: date, contract_service_id: int | None = None,
                                  service_id: int | None = None,
                                  adjusted_unit_price: Decimal | None = None,
                                  adjusted_unit_cost: Decimal | None = None) -> int:
        """POST a ContractServiceAdjustment: a unit delta from `effective_date` on.

        Create-only and never readable afterwards: confirm it through the units of the
        period. Without contract_service_id, Autotask adds the service to the contract.
        """
        if isinstance(unit_change, bool) or int(unit_change) != unit_change:
            raise ValueError("unit_change must be a whole number of units")
        if contract_service_id is None and service_id is None:
            raise ValueError("an adjustment needs contract_service_id or service_id")
        body: dict[str, Any] = {"contractID": int(contract_id), "unitChange": int(unit_change),
                                "effectiveDate": effective_date}
        if contract_service_id is not None:
            body["contractServiceID"] = int(contract_service_id)
        if service_id is not None:
            body["serviceID"] = int(service_id)
        if adjusted_unit_price is not None:
            body["adjustedUnitPrice"] = adjusted_unit_price
        if adjusted_unit_cost is not None:
            body["adjustedUnitCost"] = adjusted_unit_cost
        return self._create(f"{VERSION}/ContractServiceAdjustments", body)

    def create_contract_service(self, contract_id: int, service_id: int, *,
                                unit_price: Decimal, unit_cost: Decimal | None = None,
                                invoice_description: str | None = None,
                                internal_description: str | None = None) -> int:
        """POST /Contracts/{id}/Services: the service on the contract (units via adjustments)."""
        body: dict[str, Any] = {"contractID": int(contract_id), "serviceID": int(service_id),
                                "unitPrice": unit_price}
        for name, value in (("unitCost", unit_cost), ("invoiceDescription", invoice_description),
                            ("internalDescription", internal_description)):
            if value is not None:
                body[name] = value
        return self._create(f"{VERSION}/Contracts/{int(contract_id)}/Services", body)

    def update_contract_service(self, contract_id: int, contract_service_id: int, *,
                                unit_price: Decimal | None = None,
                                unit_cost: Decimal | None = None) -> int:
        """PATCH absolute unit price and/or cost of a contract service."""
        body: dict[str, Any] = {"id": int(contract_service_id)}
        if unit_price is not None:
            body["unitPrice"] = unit_price
        if unit_cost is not None:
            body["unitCost"] = unit_cost
        if len(body) == 1:
            raise ValueError("nothing to update: give unit_price and/or unit_cost")
        path = f"{VERSION}/Contracts/{int(contract_id)}/Services"
        return self._item_id("PATCH", path, self.client.call("PATCH", path, body=body))

    def create_contract_charge(self, contract_id: int, *, name: str, quantity: Decimal,
                               unit_price: Decimal, date_purchased: date,
                               unit_cost: Decimal | None = None, description: str | None = None,
                               product_id: int | None = None, billable: bool = True,
                               extra: Mapping[str, Any] | None = None) -> int:
        """POST /Contracts/{id}/Charges: a one-time charge, or a credit (negative amount).

        `extra` carries tenant picklist fields (status, chargeType, billingCodeID) as needed.
        """
        body: dict[str, Any] = {"contractID": int(contract_id), "name": name,
                                "unitQuantity": quantity, "unitPrice": unit_price,
                                "datePurchased": date_purchased, "isBillableToCompany": billable}
        for key, value in (("unitCost", unit_cost), ("description", description),
                           ("productID", None if product_id is None else int(product_id))):
            if value is not None:
                body[key] = value
        body.update(extra or {})
        return self._create(f"{VERSION}/Contracts/{int(contract_id)}/Charges", body)

    def _create(self, path: str, body: dict[str, Any]) -> int:
        return self._item_id("POST", path, self.client.call("POST", path, body=body))

    @staticmethod
    def _item_id(method: str, path: str, answer: Any) -> int:
        """The `{"itemId": n}` of a write; without one, the write may still have landed."""
        item_id = wire.get(answer, "itemId") if isinstance(answer, dict) else None
        if isinstance(item_id, int) and not isinstance(item_id, bool):
            return item_id
        raise OutcomeUnknownError(f"{method} {path}: the answer carries no itemId; the outcome "
                                  "is unknown", method=method, path=path)


__all__ = ["FIXED_PRICE", "RECURRING", "AutotaskConnector", "AutotaskError"]
