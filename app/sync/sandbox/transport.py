"""The transport a sandbox connection is served through, kept apart from the sandboxes
themselves so that production code can recognise one without loading any sandbox server."""

from __future__ import annotations

from collections.abc import Callable

import httpx


class SandboxTransport(httpx.MockTransport):
    """A MockTransport that knows the sandbox it serves, its base URL and its fixed, public
    demo credential (the sandbox accepts only that value, so it is not a secret)."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response], *, base_url: str,
                 credential: str) -> None:
        super().__init__(handler)
        self.sandbox = handler
        self.base_url = base_url
        self.credential = credential

    def __repr__(self) -> str:  # the credential stays out of logs even though it is public
        return f"SandboxTransport({self.sandbox!r}, base_url={self.base_url!r})"
