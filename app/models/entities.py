"""Every mapped class in one import, so metadata is complete wherever it is needed."""

from app.models.activity import Alert, AuditEntry, PushIntent
from app.models.connections import Connection, ImportFile, ImportProfile, Setting, SyncRun
from app.models.mapping import (
    AgreementMapping,
    CustomerMapping,
    MappingSuggestion,
    PriceOverride,
    ProductMapping,
    SubscriptionMapping,
)
from app.models.psa import PsaAgreement, PsaBillingLine, PsaCompany, PsaProduct
from app.models.review import Approval, BillingPeriodRow, Finding, PolicyRule
from app.models.vendor import (
    ChargeLine,
    SeatLot,
    SubscriptionSnapshot,
    VendorCustomer,
    VendorInvoice,
    VendorProduct,
    VendorSubscription,
)

__all__ = [
    "AgreementMapping", "Alert", "Approval", "AuditEntry", "BillingPeriodRow", "ChargeLine",
    "Connection", "CustomerMapping", "Finding", "ImportFile", "ImportProfile",
    "MappingSuggestion", "PolicyRule", "PriceOverride", "ProductMapping", "PsaAgreement",
    "PsaBillingLine", "PsaCompany", "PsaProduct", "PushIntent", "SeatLot", "Setting",
    "SubscriptionMapping", "SubscriptionSnapshot", "SyncRun", "VendorCustomer", "VendorInvoice",
    "VendorProduct", "VendorSubscription",
]
