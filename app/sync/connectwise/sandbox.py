"""A stateful ConnectWise PSA sandbox for tests and the demo workspace.

It serves only real CW paths (checked against the endpoint index), demands the Basic auth and
clientId header a real tenant demands, pages and filters like CW (page/pageSize with Link
headers, forward-only pageId, `conditions`), and applies JSON-patch writes so later reads see
them. `write_log` records every committed write, so exactly-once tests can count them.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx

from app.sync.connectwise import sandbox_data as data
from app.sync.connectwise.connector import ConnectWiseConnector
from app.sync.connectwise.sandbox_listing import (
    count_response,
    cw_response,
    error,
    list_response,
    select,
)
from app.sync.connectwise.sandbox_writes import (
    WRITABLE_FIELDS,
    InvalidField,
    apply_field,
    missing_required,
)
from app.sync.connectwise.wire import loads
from app.sync.sandbox.base import SandboxCore, SandboxRequest
from app.sync.sandbox.seed import TickingClock, utc_now

LINE_FIELDS = data.field_names("additions")


@dataclass(frozen=True)
class WriteRecord:
    """One committed write as the server received it (body parsed, Decimals exact)."""

    method: str
    path: str
    body: Any


class ConnectWiseSandbox(SandboxCore):
    """Fake CW tenant; call it with an httpx.Request (MockTransport) or serve it on loopback."""

    def __init__(self, *, credentials: data.SandboxCredentials | None = None,
                 base_path: str = data.BASE_PATH,
                 clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(base_path=base_path)
        self.credentials = credentials or data.SandboxCredentials()
        self.clock = clock or utc_now
        self.companies: dict[int, dict[str, Any]] = {}
        self.agreements: dict[int, dict[str, Any]] = {}
        self.additions: dict[int, dict[str, Any]] = {}
        self.catalog: dict[int, dict[str, Any]] = {}
        self.write_log: list[WriteRecord] = []
        self.route_templates: list[tuple[str, str]] = []
        self._next_id = {"company": 19297, "agreement": 701, "addition": 30001, "catalog": 501}
        self._register_routes()

    def __repr__(self) -> str:
        return (f"ConnectWiseSandbox(companies={len(self.companies)}, "
                f"agreements={len(self.agreements)}, additions={len(self.additions)})")

    @classmethod
    def seeded(cls, companies: int = 8, seed: int = 1, today: date | None = None,
               **kwargs: Any) -> ConnectWiseSandbox:
        """A deterministic tenant; its clock ticks one second per write from `today` 09:00."""
        today = today or date.today()
        kwargs.setdefault("clock", TickingClock(
            datetime.fromisoformat(f"{today.isoformat()}T09:00:00+00:00")))
        sandbox = cls(**kwargs)
        data.seed(sandbox, companies=companies, seed=seed, today=today)
        return sandbox

    def state(self) -> dict[str, Any]:
        """The tenant's data as plain values, for `app.sync.sandbox.persist` to save."""
        with self.lock:
            clock = self.clock.current if isinstance(self.clock, TickingClock) else None
            return {"base_path": self.base_path, "credentials": vars(self.credentials),
                    "clock": clock, "next_id": dict(self._next_id),
                    "companies": list(self.companies.values()),
                    "agreements": list(self.agreements.values()),
                    "additions": list(self.additions.values()),
                    "catalog": list(self.catalog.values()),
                    "write_log": [[w.method, w.path, w.body] for w in self.write_log]}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ConnectWiseSandbox:
        clock = TickingClock(state["clock"]) if state["clock"] is not None else None
        sandbox = cls(credentials=data.SandboxCredentials(**state["credentials"]),
                      base_path=state["base_path"], clock=clock)
        for table in ("companies", "agreements", "additions", "catalog"):
            # in place: the routes hold these very dicts
            getattr(sandbox, table).update({rec["id"]: rec for rec in state[table]})
        sandbox._next_id = dict(state["next_id"])
        sandbox.write_log = [WriteRecord(*entry) for entry in state["write_log"]]
        return sandbox

    @property
    def base_url(self) -> str:
        return data.ORIGIN + self.base_path

    def connector_kwargs(self) -> dict[str, str]:
        """Arguments for ConnectWiseConnector that authenticate against this sandbox."""
        c = self.credentials
        return {"base_url": self.base_url, "company_id": c.company_id,
                "public_key": c.public_key, "private_key": c.private_key,
                "client_id": c.client_id}

    def connector(self, **kwargs: Any) -> ConnectWiseConnector:
        """A real connector wired to this sandbox through httpx.MockTransport (no sockets)."""
        kwargs.setdefault("transport", httpx.MockTransport(self))
        return ConnectWiseConnector(**self.connector_kwargs(), **kwargs)

    # ------------------------------------------------------------ seeding / inspection

    def _take_id(self, kind: str) -> int:
        value = self._next_id[kind]
        self._next_id[kind] += 1
        return value

    def add_company(self, name: str, identifier: str | None = None, *, status: str = "Active",
                    website: str | None = None,
                    last_updated: datetime | None = None) -> dict[str, Any]:
        ident = identifier or "".join(ch for ch in name.title() if ch.isalnum())[:30]
        rec = data.company(self._take_id("company"), name, ident, last_updated or self.clock(),
                           status=status, website=website)
        self.companies[rec["id"]] = rec
        return rec

    def add_agreement(self, company_id: int, name: str | None = None, *,
                      kind: str = "recurring", billing_cycle: str = "Monthly",
                      start_date: date | None = None, end_date: date | None = None,
                      prorate: bool = True, cancelled: bool = False, status: str = "Active",
                      last_updated: datetime | None = None) -> dict[str, Any]:
        """kind 'recurring' (monthly by default) or 'one_time' (billOneTimeFlag, type One-Time)."""
        comp = self.companies[company_id]
        when = last_updated or self.clock()
        rec = data.agreement(
            self._take_id("agreement"), comp, name or f"{comp['name']} - {kind}", when,
            one_time=kind == "one_time", billing_cycle=billing_cycle,
            start=start_date or when.date().replace(day=1), end=end_date, prorate=prorate,
            cancelled=cancelled, status=status)
        self.agreements[rec["id"]] = rec
        return rec

    def add_catalog_item(self, identifier: str, description: str, *, price: Decimal,
                         cost: Decimal, recurring: bool = True,
                         last_updated: datetime | None = None) -> dict[str, Any]:
        rec = data.catalog_item(self._take_id("catalog"), identifier, description, price, cost,
                                last_updated or self.clock(), recurring=recurring)
        self.catalog[rec["id"]] = rec
        return rec

    def add_addition(self, agreement_id: int, product_id: int, *, quantity: Decimal,
                     effective_date: date, unit_price: Decimal | None = None,
                     unit_cost: Decimal | None = None, cancelled_date: date | None = None,
                     description: str | None = None, invoice_description: str | None = None,
                     bill_customer: str = "Billable",
                     last_updated: datetime | None = None) -> dict[str, Any]:
        item = self.catalog[product_id]
        rec = data.addition(
            self._take_id("addition"), self.agreements[agreement_id], item,
            last_updated or self.clock(), quantity=quantity,
            unit_price=item["price"] if unit_price is None else unit_price,
            unit_cost=item["cost"] if unit_cost is None else unit_cost,
            effective=effective_date, cancelled=cancelled_date,
            description=description or item["description"],
            invoice_description=invoice_description, bill_customer=bill_customer)
        self.additions[rec["id"]] = rec
        return rec

    def edit_addition_externally(self, addition_id: int, *, by: str = "someone_else",
                                 **changes: Any) -> dict[str, Any]:
        """Someone edits a line in CW (e.g. between approval and push); not in write_log.

        `changes` use CW field names: quantity=Decimal(9), cancelledDate=date(...), ...
        """
        with self.lock:
            line = self.additions[addition_id]
            updated = copy.deepcopy(line)
            for name, value in changes.items():
                self._apply(updated, name.split("/"), value)
            self._touch(updated, by)
            self.additions[addition_id] = updated
            return updated

    def touch_agreement(self, agreement_id: int, when: datetime | None = None, **changes: Any
                        ) -> dict[str, Any]:
        """Change an agreement outside the API (and move its lastUpdated)."""
        rec = self.agreements[agreement_id]
        rec.update(changes)
        rec["_info"] = data.info(when or self.clock(), "someone_else")
        return rec

    def additions_of(self, agreement_id: int) -> list[dict[str, Any]]:
        return [a for a in self.additions.values() if a["agreementId"] == agreement_id]

    def writes(self, method: str | None = None) -> list[WriteRecord]:
        return [w for w in self.write_log if method is None or w.method == method.upper()]

    # ------------------------------------------------------------------ routing

    def _add(self, method: str, template: str, handler: Callable[..., httpx.Response]) -> None:
        self.route_templates.append((method, template))

        def guarded(req: SandboxRequest) -> httpx.Response:
            denied = self._check_auth(req)
            return denied if denied is not None else handler(req)

        self.route(method, template)(guarded)

    def _register_routes(self) -> None:
        add = self._add
        add("GET", "/system/info", lambda r: cw_response(200, {
            "version": "v2025.1.102345", "isCloud": True, "serverTimeZone": "Eastern Standard Time",
            "licenseBits": [{"name": "Agreements", "activeFlag": True}], "cloudRegion": "NA"}))
        for base, store, kind in (("/company/companies", self.companies, "companies"),
                                  ("/finance/agreements", self.agreements, "agreements"),
                                  ("/procurement/catalog", self.catalog, "catalog")):
            fields = data.field_names(kind)
            add("GET", f"{base}/count",
                lambda r, s=store, f=fields: count_response(r, list(s.values()), f))
            add("GET", base, lambda r, s=store, f=fields: list_response(r, list(s.values()), f))
            if base == "/finance/agreements":
                self._register_additions()
            add("GET", f"{base}/{{id}}", lambda r, s=store: self._one(r, s, r.path_args["id"]))

    def _register_additions(self) -> None:
        base = "/finance/agreements/{parentId}/additions"
        self._add("GET", f"{base}/count",
                  lambda r: count_response(r, self._lines(r), LINE_FIELDS)
                  if self._parent(r) else self._nf(r))
        self._add("GET", base,
                  lambda r: list_response(r, self._lines(r), LINE_FIELDS)
                  if self._parent(r) else self._nf(r))
        self._add("POST", base, self._post_addition)
        self._add("GET", f"{base}/{{id}}", self._get_addition)
        self._add("PATCH", f"{base}/{{id}}", self._patch_addition)

    def _check_auth(self, req: SandboxRequest) -> httpx.Response | None:
        c = self.credentials
        expected = f"{c.company_id}+{c.public_key}:{c.private_key}"
        scheme, _, token = req.headers.get("Authorization", "").partition(" ")
        try:
            given = base64.b64decode(token, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            given = ""
        if scheme.lower() != "basic" or given != expected:
            return error(401, "Unauthorized", "Authentication failed: check the company id, "
                         "public key and private key of the API member.")
        if not req.headers.get("clientId"):
            return error(401, "Unauthorized", "A clientId header is required; register an "
                         "integration at developer.connectwise.com.")
        return None

    def _parent(self, req: SandboxRequest) -> dict[str, Any] | None:
        try:
            return self.agreements.get(_int(req.path_args["parentId"]))
        except ValueError:
            return None

    def _lines(self, req: SandboxRequest) -> list[dict[str, Any]]:
        return self.additions_of(_int(req.path_args["parentId"]))

    def _nf(self, req: SandboxRequest) -> httpx.Response:
        return error(404, "NotFound", f"Agreement with id {req.path_args['parentId']} not found")

    # ------------------------------------------------------------------ reads

    def _one(self, req: SandboxRequest, store: dict[int, dict[str, Any]], raw_id: str
             ) -> httpx.Response:
        try:
            rec = store.get(_int(raw_id))
        except ValueError:
            rec = None
        if rec is None:
            return error(404, "NotFound", f"Record with id {raw_id} not found")
        return cw_response(200, select(rec, req.params.get("fields")))

    # ------------------------------------------------------------------ writes

    def _post_addition(self, req: SandboxRequest) -> httpx.Response:
        parent = self._parent(req)
        if parent is None:
            return self._nf(req)
        body = _json_body(req)
        if not isinstance(body, dict):
            return error(400, "InvalidObject", "The request body must be an Addition object")
        refused = missing_required(body)
        if refused is not None:
            return refused
        try:
            probe: dict[str, Any] = {}
            self._apply(probe, ["product"], body["product"])
            item = self.catalog[probe["product"]["id"]]
            new = data.addition(0, parent, item, self.clock(), quantity=Decimal(1),
                                unit_price=item["price"], unit_cost=item["cost"],
                                effective=self.clock().date(), cancelled=None,
                                description=item["description"], invoice_description=None,
                                bill_customer="Billable")
            for name, value in body.items():
                if name in WRITABLE_FIELDS:  # read-only fields (id, extPrice, _info) are ignored
                    self._apply(new, [name], value)
        except InvalidField as exc:
            return exc.response()
        new["id"] = self._take_id("addition")
        self.additions[new["id"]] = new
        self.write_log.append(WriteRecord("POST", req.path, body))
        return cw_response(201, new)

    def _line(self, req: SandboxRequest) -> dict[str, Any] | None:
        parent = self._parent(req)
        raw_id = req.path_args["id"]
        line = self.additions.get(int(raw_id)) if parent and raw_id.isdigit() else None
        return line if line is not None and line["agreementId"] == parent["id"] else None

    def _get_addition(self, req: SandboxRequest) -> httpx.Response:
        line = self._line(req)
        if line is None:
            return error(404, "NotFound", f"Addition with id {req.path_args['id']} not found")
        return cw_response(200, select(line, req.params.get("fields")))

    def _patch_addition(self, req: SandboxRequest) -> httpx.Response:
        line = self._line(req)
        if line is None:
            return error(404, "NotFound", f"Addition with id {req.path_args['id']} not found")
        ops = _json_body(req)
        if not isinstance(ops, list) or not ops:
            return error(400, "InvalidObject", "A PATCH body is a non-empty array of operations")
        updated = copy.deepcopy(line)
        try:
            for op in ops:
                if not isinstance(op, dict) or op.get("op") not in ("replace", "add", "remove"):
                    raise InvalidField("op", f"Unsupported patch operation: {op!r}")
                parts = str(op.get("path", "")).strip("/").split("/")
                value = None if op["op"] == "remove" else op.get("value")
                self._apply(updated, parts, value, patch=True)
        except InvalidField as exc:
            return exc.response()
        self._touch(updated, self.credentials.public_key)
        self.additions[updated["id"]] = updated  # atomic: all operations or none
        self.write_log.append(WriteRecord("PATCH", req.path, ops))
        return cw_response(200, updated)

    def _apply(self, line: dict[str, Any], parts: list[str], value: Any, *,
               patch: bool = False) -> None:
        apply_field(line, parts, value, self._catalog_lookup, patch=patch)

    def _catalog_lookup(self, product: dict[str, Any]) -> dict[str, Any]:
        if isinstance(product.get("id"), int) and product["id"] in self.catalog:
            return self.catalog[product["id"]]
        for item in self.catalog.values():
            if product.get("identifier") and item["identifier"] == product.get("identifier"):
                return item
        raise InvalidField("product", f"Product {product.get('id') or product.get('identifier')} "
                       "was not found in the catalog")

    def _touch(self, line: dict[str, Any], by: str) -> None:
        line["_info"] = data.info(self.clock(), by)


def _int(value: Any) -> int:
    return int(str(value))


def _json_body(req: SandboxRequest) -> Any:
    try:
        return loads(req.request.content or b"null")
    except ValueError:
        return None
