"""Pax8 sandbox server: the spec's real paths under `/v1`, OAuth tokens, Pax8 paging, faults.

Serves the paths of `pax8-authentication-openapi.json` (POST /token) and
`pax8-partner-endpoints-openapi.json` that TrueUp reads, with the spec's paging envelope
`{"content": [...], "page": {size, totalElements, totalPages, number}}`. Use it through
`httpx.MockTransport(sandbox)` in tests, or `LoopbackServer(sandbox)` for the demo.

Beyond SandboxCore's faults (429, 500, timeout, drop, malformed JSON) it can change data
between two pages (`after_page`), revoke tokens, and refuse every token (an app without
Partner API access). A `size` outside 1..200 is answered 400 so a client that does not clamp
is caught; what the real API does there is not in the spec.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx

from app.sync.pax8 import wire
from app.sync.pax8.sandbox_data import CATALOG, Pax8Store
from app.sync.sandbox.base import SandboxCore, SandboxRequest

BASE_PATH = "/v1"  # servers[0].url of both specs is https://api.pax8.com/v1
DEFAULT_CLIENT_ID = "sandbox-client-id"
DEFAULT_CLIENT_SECRET = "sandbox-client-secret"
AUDIENCES = ("https://api.pax8.com", "api://p8p.client", "api://provisioning", "api://usage")
API_AUDIENCES = ("https://api.pax8.com", "api://p8p.client")  # accepted by partner endpoints
MAX_SIZE = 200


def pax8_response(status: int, body: Any, headers: dict[str, str] | None = None
                  ) -> httpx.Response:
    """JSON with exact Decimal numbers (SandboxCore's json_response would stringify them)."""
    return httpx.Response(status, content=wire.dumps(body),
                          headers={"Content-Type": "application/json", **(headers or {})})


def error(status: int, message: str, path: str) -> httpx.Response:
    """The spec's Error schema: type, message, instance, status."""
    return pax8_response(status, {"type": httpx.codes.get_reason_phrase(status),
                                  "message": message, "instance": BASE_PATH + path,
                                  "status": status})


@dataclass
class _PageHook:
    path: str
    page: int
    action: Callable[[Pax8Sandbox], None]
    times: int


class Pax8Sandbox(SandboxCore):
    """A stateful fake of the Pax8 Partner API for tests and the demo workspace."""

    def __init__(self, *, client_id: str = DEFAULT_CLIENT_ID,
                 client_secret: str = DEFAULT_CLIENT_SECRET, token_ttl: int = 86400,
                 clock: Callable[[], float] = time.monotonic, seed: int = 0,
                 today: date | None = None) -> None:
        super().__init__(base_path=BASE_PATH)
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl = token_ttl  # the spec's TokenResponse.expires_in enum is [86400]
        self.clock = clock
        self.store = Pax8Store(seed=seed, today=today)
        self.tokens: dict[str, float] = {}  # access token -> expiry on `clock`
        self.tokens_issued = 0
        self.deny_all_tokens = False
        self.hooks: list[_PageHook] = []
        self.served: list[tuple[str, str]] = []
        self._register()

    @classmethod
    def seeded(cls, customers: int = 20, subscriptions: int = 150, seed: int = 1,
               today: date | None = None, invoice_months: int = 6, **kwargs: Any
               ) -> Pax8Sandbox:
        """Deterministic data for a seed: M365 catalogue, M/M, A/M and A/A subscriptions,
        some cancelled, some with seat-change history, monthly invoices, Azure usage."""
        sandbox = cls(seed=seed, today=today, **kwargs)
        sandbox.store.seed(customers, subscriptions, invoice_months)
        return sandbox

    TABLES = ("companies", "products", "subscriptions", "history", "invoices", "invoice_items",
              "usage_summaries", "usage_lines")

    def state(self) -> dict[str, Any]:
        """The tenant as plain values, for `app.sync.sandbox.persist` to save: everything a
        restored sandbox needs to answer and change as this one would, random generator
        included. Issued tokens are left out (they live on this process's monotonic clock)
        and catalogue entries are named, not copied."""
        with self.lock:
            store = self.store
            version, internal, gauss = store.rng.getstate()
            return {"client_id": self.client_id, "client_secret": self.client_secret,
                    "token_ttl": self.token_ttl, "seed_state": [version, list(internal), gauss],
                    "today": store.today, "currency": store.currency,
                    "catalog": {pid: item.name for pid, item in store.catalog.items()},
                    **{table: getattr(store, table) for table in self.TABLES}}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Pax8Sandbox:
        sandbox = cls(client_id=state["client_id"], client_secret=state["client_secret"],
                      token_ttl=state["token_ttl"])
        store = sandbox.store
        version, internal, gauss = state["seed_state"]
        store.rng.setstate((version, tuple(internal), gauss))
        store.today, store.currency = state["today"], state["currency"]
        by_name = {item.name: item for item in CATALOG}
        store.catalog = {pid: by_name[name] for pid, name in state["catalog"].items()}
        for table in cls.TABLES:
            setattr(store, table, state[table])
        return sandbox

    def __repr__(self) -> str:
        return (f"Pax8Sandbox(companies={len(self.store.companies)}, "
                f"subscriptions={len(self.store.subscriptions)})")

    # ------------------------------------------------------------ data helpers (locked)

    def add_company(self, name: str, **kwargs: Any) -> dict[str, Any]:
        with self.lock:
            return self.store.add_company(name, **kwargs)

    def add_subscription(self, company_id: str, product: str, quantity: int | Decimal,
                         **kwargs: Any) -> dict[str, Any]:
        """`product` is a product id or a catalogue name such as "Microsoft 365 E3"."""
        with self.lock:
            return self.store.add_subscription(company_id, self.product_id(product), quantity,
                                               **kwargs)

    def set_quantity(self, subscription_id: str, quantity: int | Decimal,
                     at: datetime | None = None) -> dict[str, Any]:
        with self.lock:
            return self.store.set_quantity(subscription_id, quantity, at)

    def cancel_subscription(self, subscription_id: str, at: datetime | None = None
                            ) -> dict[str, Any]:
        with self.lock:
            return self.store.cancel(subscription_id, at)

    def issue_invoices(self, months: int = 6) -> None:
        """Invoice the subscriptions added so far as `seeded` does: the last `months` monthly
        invoices, and usage lines for live usage subscriptions this month."""
        with self.lock:
            self.store._seed_invoices(months)
            self.store._seed_usage()

    def product_id(self, product: str) -> str:
        with self.lock:
            if product in self.store.products:
                return product
            if not self.store.products:
                for item in CATALOG:
                    self.store.add_product(item)
            for pid, item in self.store.products.items():
                if item["name"] == product:
                    return pid
        raise KeyError(f"no product {product!r}")

    def after_page(self, path: str, page: int, action: Callable[[Pax8Sandbox], None],
                   times: int = 1) -> None:
        """Run `action(self)` right after page `page` of GET `path` (e.g. "/companies") has
        been served `times` times: the way to change data between two pages."""
        with self.lock:
            self.hooks.append(_PageHook(path, page, action, times))

    def revoke_tokens(self) -> None:
        """Every issued token stops working (the connector must fetch a new one once)."""
        with self.lock:
            self.tokens.clear()

    # ------------------------------------------------------------ plumbing

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.startswith(BASE_PATH + "/"):
            return pax8_response(404, {"type": "Not Found", "status": 404,
                                       "message": f"No such path: {request.url.path}",
                                       "instance": request.url.path})
        response = super().__call__(request)
        if response.status_code == 200 and request.method == "GET" and self.hooks:
            path = request.url.path.removeprefix(BASE_PATH)
            page = request.url.params.get("page", "0")
            with self.lock:
                for hook in list(self.hooks):
                    if hook.path == path and str(hook.page) == page:
                        hook.times -= 1
                        if hook.times <= 0:
                            self.hooks.remove(hook)
                        hook.action(self)
        return response

    def _register(self) -> None:
        """Every (method, path) served, each a path of the reference specs (contract-tested)."""
        self.route("POST", "/token")(self._token)
        self.served.append(("POST", "/token"))
        routes = {
            "/companies": self._companies, "/companies/{companyId}": self._company,
            "/products": self._products, "/products/{productId}": self._product,
            "/subscriptions": self._subscriptions,
            "/subscriptions/{subscriptionId}": self._subscription,
            "/subscriptions/{subscriptionId}/history": self._history,
            "/subscriptions/{subscriptionId}/usage-summaries": self._usage_summaries,
            "/invoices": self._invoices, "/invoices/{invoiceId}": self._invoice,
            "/invoices/{invoiceId}/items": self._invoice_items,
            "/usage-summaries/{usageSummaryId}": self._usage_summary,
            "/usage-summaries/{usageSummaryId}/usage-lines": self._usage_lines,
        }
        for template, handler in routes.items():
            self.route("GET", template)(self._authorized(handler))
            self.served.append(("GET", template))

    def _authorized(self, handler: Callable[[SandboxRequest], httpx.Response]
                    ) -> Callable[[SandboxRequest], httpx.Response]:
        def guarded(req: SandboxRequest) -> httpx.Response:
            scheme, _, token = req.headers.get("Authorization", "").partition(" ")
            expires = self.tokens.get(token) if scheme.lower() == "bearer" else None
            if self.deny_all_tokens or expires is None or self.clock() >= expires:
                return pax8_response(401, {"type": "Unauthorized", "status": 401,
                                           "message": "Missing, invalid or expired token",
                                           "instance": BASE_PATH + req.path},
                                     {"WWW-Authenticate": 'Bearer error="invalid_token"'})
            return handler(req)
        return guarded

    def _token(self, req: SandboxRequest) -> httpx.Response:
        """TokenRequest as JSON (client_id, client_secret, audience, grant_type)."""
        try:
            body = req.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return pax8_response(400, {"error": "invalid_request",
                                       "error_description": "Expected a JSON TokenRequest"})
        if body.get("grant_type") != "client_credentials":
            return pax8_response(400, {"error": "unsupported_grant_type", "error_description":
                                       "grant_type must be client_credentials"})
        if body.get("audience") not in AUDIENCES:
            return pax8_response(400, {"error": "invalid_request",
                                       "error_description": "Unknown or missing audience"})
        if (body.get("client_id") != self.client_id
                or not secrets.compare_digest(str(body.get("client_secret", "")),
                                              self.client_secret)):
            # The spec's token-error-auth-example, word for word.
            return pax8_response(401, {"error": "access_denied",
                                       "error_description": "Unauthorized"})
        token = secrets.token_urlsafe(32)
        if body["audience"] in API_AUDIENCES:
            self.tokens[token] = self.clock() + self.token_ttl
        self.tokens_issued += 1
        return pax8_response(200, {"access_token": token, "expires_in": self.token_ttl,
                                   "token_type": "Bearer"})

    def _paged(self, req: SandboxRequest, items: list[dict[str, Any]]) -> httpx.Response:
        try:
            page = int(req.params.get("page", "0"))
            size = int(req.params.get("size", "10"))
        except ValueError:
            return error(400, "page and size must be whole numbers", req.path)
        if page < 0 or not 1 <= size <= MAX_SIZE:
            return error(400, f"size must be between 1 and {MAX_SIZE}, page >= 0", req.path)
        total = len(items)
        content = items[page * size:(page + 1) * size]
        return pax8_response(200, {"content": content, "page": {
            "size": size, "totalElements": total, "totalPages": math.ceil(total / size),
            "number": page}})

    @staticmethod
    def _filtered(items: Any, req: SandboxRequest, *fields: str) -> list[dict[str, Any]]:
        wanted = {f: req.params[f] for f in fields if req.params.get(f)}
        return [i for i in items if all(str(i.get(f)) == v for f, v in wanted.items())]

    def _one(self, table: dict[str, dict[str, Any]], key: str, req: SandboxRequest,
             kind: str) -> httpx.Response:
        item = table.get(req.path_args[key])
        if item is None:
            return error(404, f"{kind} not found", req.path)
        return pax8_response(200, item)

    # ------------------------------------------------------------ handlers

    def _companies(self, req: SandboxRequest) -> httpx.Response:
        items = sorted(self.store.companies.values(), key=lambda c: (c["name"].lower(), c["id"]))
        return self._paged(req, self._filtered(items, req, "status", "city"))

    def _company(self, req: SandboxRequest) -> httpx.Response:
        return self._one(self.store.companies, "companyId", req, "Company")

    def _products(self, req: SandboxRequest) -> httpx.Response:
        items = sorted(self.store.products.values(), key=lambda p: (p["name"], p["id"]))
        items = self._filtered(items, req, "vendorName")
        search = (req.params.get("search") or "").lower()
        return self._paged(req, [p for p in items if search in p["name"].lower()])

    def _product(self, req: SandboxRequest) -> httpx.Response:
        return self._one(self.store.products, "productId", req, "Product")

    def _subscriptions(self, req: SandboxRequest) -> httpx.Response:
        items = sorted(self.store.subscriptions.values(),
                       key=lambda s: (s["createdDate"], s["id"]))
        return self._paged(req, self._filtered(items, req, "companyId", "productId", "status",
                                               "billingTerm"))

    def _subscription(self, req: SandboxRequest) -> httpx.Response:
        return self._one(self.store.subscriptions, "subscriptionId", req, "Subscription")

    def _history(self, req: SandboxRequest) -> httpx.Response:
        """Newest first, as in the spec's `subscription-history` example; not paged."""
        snaps = self.store.history.get(req.path_args["subscriptionId"])
        if snaps is None:
            return error(404, "Subscription not found", req.path)
        return pax8_response(200, {"content": list(reversed(snaps))})

    def _usage_summaries(self, req: SandboxRequest) -> httpx.Response:
        sub_id = req.path_args["subscriptionId"]
        if sub_id not in self.store.subscriptions:
            return error(404, "Invalid subscriptionId", req.path)
        items = [s for s in self.store.usage_summaries.values() if s["subscriptionId"] == sub_id]
        return self._paged(req, self._filtered(items, req, "resourceGroup", "companyId"))

    def _usage_summary(self, req: SandboxRequest) -> httpx.Response:
        return self._one(self.store.usage_summaries, "usageSummaryId", req, "Usage summary")

    def _usage_lines(self, req: SandboxRequest) -> httpx.Response:
        lines = self.store.usage_lines.get(req.path_args["usageSummaryId"])
        if lines is None:
            return error(404, "Invalid usage summary id", req.path)
        return self._paged(req, self._filtered(lines, req, "usageDate", "productId"))

    def _invoices(self, req: SandboxRequest) -> httpx.Response:
        items = sorted(self.store.invoices.values(), key=lambda i: (i["invoiceDate"], i["id"]),
                       reverse=True)
        start = req.params.get("invoiceDateRangeStart") or "0000"
        end = req.params.get("invoiceDateRangeEnd") or "9999"
        items = [i for i in items if start <= i["invoiceDate"] <= end]
        return self._paged(req, self._filtered(items, req, "status", "invoiceDate"))

    def _invoice(self, req: SandboxRequest) -> httpx.Response:
        return self._one(self.store.invoices, "invoiceId", req, "Invoice")

    def _invoice_items(self, req: SandboxRequest) -> httpx.Response:
        items = self.store.invoice_items.get(req.path_args["invoiceId"])
        if items is None:
            return error(404, "Invalid invoice id", req.path)
        return self._paged(req, items)
