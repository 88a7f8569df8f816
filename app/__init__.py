"""TrueUp: reconcile MSP cloud subscriptions with what the PSA bills."""

from __future__ import annotations

from functools import cache


def __getattr__(name: str) -> str:
    """`__version__`, looked up when first asked for: reading the package metadata costs a
    reconcile worker, which never shows it, a twentieth of its start-up."""
    if name == "__version__":
        return _version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("trueup")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+source"
