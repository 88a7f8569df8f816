"""Datto Autotask PSA: the REST connector, its limits, and a stateful sandbox of the same API."""

from app.sync.autotask.client import DEFAULT_LOOKUP_URL, ZoneInfo
from app.sync.autotask.connector import FIXED_PRICE, RECURRING, AutotaskConnector
from app.sync.autotask.errors import (
    AutotaskError,
    NotVisibleError,
    OutcomeUnknownError,
    ThresholdExhaustedError,
    ValidationError,
)
from app.sync.autotask.sandbox import AutotaskSandbox, WriteRecord
from app.sync.autotask.throttle import EndpointLimiter, ThresholdStatus
from app.sync.autotask.wire import ContractServiceUnitRecord, Picklists

__all__ = [
    "DEFAULT_LOOKUP_URL",
    "FIXED_PRICE",
    "RECURRING",
    "AutotaskConnector",
    "AutotaskError",
    "AutotaskSandbox",
    "ContractServiceUnitRecord",
    "EndpointLimiter",
    "NotVisibleError",
    "OutcomeUnknownError",
    "Picklists",
    "ThresholdExhaustedError",
    "ThresholdStatus",
    "ValidationError",
    "WriteRecord",
    "ZoneInfo",
]
