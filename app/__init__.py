"""TrueUp: reconcile MSP cloud subscriptions with what the PSA bills."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("trueup")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
