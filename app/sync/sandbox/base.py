"""A tiny routing core shared by the sandbox servers, with fault injection.

A sandbox is a callable `httpx.Request -> httpx.Response`, so tests drive the real connector
code through `httpx.MockTransport(sandbox)` with no sockets, and the demo serves the same
object on loopback with `serve_on_loopback`. Faults are queued per route and consumed in
order; "after commit" faults let the handler change state first and then fail the reply,
which is exactly the case the push protocol must survive.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

Handler = Callable[["SandboxRequest"], httpx.Response]

# Fault kinds understood by every sandbox.
RATE_LIMIT = "429"  # answer 429 with Retry-After (value: seconds or an HTTP date string)
SERVER_ERROR = "500"  # answer 500 with an error body, nothing done
TIMEOUT_AFTER_COMMIT = "timeout_after_commit"  # do the work, then raise a read timeout
DROP_AFTER_COMMIT = "drop_after_commit"  # do the work, then drop the connection
DROP = "drop"  # drop the connection before doing anything
SLOW = "slow"  # sleep `value` seconds, then answer normally
MALFORMED = "malformed"  # answer 200 with a body that is not JSON


@dataclass
class Fault:
    kind: str
    value: Any = None
    method: str | None = None  # None matches any method
    path_pattern: str | None = None  # regex on the path; None matches any path
    times: int = 1

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not (self.path_pattern and not re.search(self.path_pattern, path))


@dataclass
class SandboxRequest:
    request: httpx.Request
    method: str
    path: str
    params: dict[str, str]
    path_args: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.request.content or b"null")

    @property
    def headers(self) -> httpx.Headers:
        return self.request.headers


@dataclass
class _Route:
    method: str
    regex: re.Pattern[str]
    handler: Handler


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body, default=str).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


@dataclass
class SandboxCore:
    """Routes requests to handlers, records them, and applies queued faults."""

    base_path: str = ""
    routes: list[_Route] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    log: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def route(self, method: str, template: str) -> Callable[[Handler], Handler]:
        """Register a handler for e.g. ('GET', '/company/companies/{id}')."""
        pattern = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")) + "/?$"

        def register(fn: Handler) -> Handler:
            self.routes.append(_Route(method.upper(), re.compile(pattern), fn))
            return fn

        return register

    def inject(self, kind: str, value: Any = None, *, method: str | None = None,
               path: str | None = None, times: int = 1) -> None:
        with self.lock:
            self.faults.append(Fault(kind, value, method, path, times))

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if self.base_path and path.startswith(self.base_path):
            path = path[len(self.base_path):] or "/"
        method = request.method.upper()
        with self.lock:
            self.log.append((method, path))
        fault = self._take_fault(method, path)
        if fault is not None:
            if fault.kind == RATE_LIMIT:
                return json_response(429, {"message": "Too many requests"},
                                     {"Retry-After": str(fault.value if fault.value is not None else 0)})
            if fault.kind == SERVER_ERROR:
                return json_response(500, fault.value or {"code": "InternalError", "message": "Injected server error"})
            if fault.kind == DROP:
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
            if fault.kind == SLOW:
                time.sleep(float(fault.value or 0.2))
            if fault.kind == MALFORMED:
                return httpx.Response(200, content=b'{"content": [ {"id": ', headers={"Content-Type": "application/json"})
        response = self._dispatch(request, method, path)
        if fault is not None and fault.kind == TIMEOUT_AFTER_COMMIT:
            raise httpx.ReadTimeout("Injected timeout after the write was committed", request=request)
        if fault is not None and fault.kind == DROP_AFTER_COMMIT:
            raise httpx.RemoteProtocolError("Server disconnected after committing.", request=request)
        return response

    def _dispatch(self, request: httpx.Request, method: str, path: str) -> httpx.Response:
        allowed = False
        for route in self.routes:
            match = route.regex.match(path)
            if not match:
                continue
            if route.method != method:
                allowed = True
                continue
            params = {k: v for k, v in request.url.params.multi_items()}
            with self.lock:
                return route.handler(SandboxRequest(request, method, path, params, match.groupdict()))
        if allowed:
            return json_response(405, {"message": f"{method} not allowed on {path}"})
        return json_response(404, {"message": f"No such path: {path}"})


class LoopbackServer:
    """Serve a sandbox callable on 127.0.0.1 for the demo and for loopback tests."""

    def __init__(self, app: Callable[[httpx.Request], httpx.Response], port: int = 0) -> None:
        self.app = app
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # ~45 ms per small response otherwise

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                host = f"http://127.0.0.1:{outer.port}"
                req = httpx.Request(self.command, host + self.path, headers=dict(self.headers), content=body)
                try:
                    resp = outer.app(req)
                except (httpx.TimeoutException, httpx.RemoteProtocolError):
                    self.close_connection = True
                    return
                payload = resp.content
                self.send_response(resp.status_code)
                for key, value in resp.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="sandbox", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
