"""ConnectWise PSA (Manage): the REST connector and a stateful sandbox of the same API."""

from app.sync.connectwise.connector import (
    ONE_TIME_AGREEMENT,
    PAGING_FORWARD,
    PAGING_LINK,
    SAME_PERIOD,
    ConnectWiseConnector,
    ConnectWiseError,
    OutcomeUnknownError,
    replace_ops,
)
from app.sync.connectwise.sandbox import ConnectWiseSandbox, WriteRecord

__all__ = [
    "ONE_TIME_AGREEMENT",
    "PAGING_FORWARD",
    "PAGING_LINK",
    "SAME_PERIOD",
    "ConnectWiseConnector",
    "ConnectWiseError",
    "ConnectWiseSandbox",
    "OutcomeUnknownError",
    "WriteRecord",
    "replace_ops",
]
