"""Which mapping use case a click means: one function per gesture, no widgets, so the page
stays about layout and the choice of service call can be read (and tested) on its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.services import mapping as svc
from app.services.mapping_targets import MappingTarget
from app.ui.pages.mapping_models import motion_label


def map_call(ws: Any, user: str, item: svc.UnmappedItem, target: MappingTarget,
             force: bool = False) -> Callable[[], svc.MappingChange]:
    """Map a queue item to the PSA target a person picked."""
    if item.kind == "customer":
        return lambda: svc.map_customer(ws, user, item.id, target.id,
                                        connection=item.connection,
                                        psa_connection=target.connection)
    if item.kind == "product":
        return lambda: svc.map_product(ws, user, item.id, target.id,
                                       connection=item.connection,
                                       psa_connection=target.connection)
    if item.kind == "subscription":
        return lambda: svc.map_subscription(ws, user, item.id, target.id,
                                            connection=item.connection,
                                            psa_connection=target.connection)
    return lambda: svc.map_agreement(ws, user, item.id, item.detail["motion"], target.id,
                                     psa_connection=target.connection, force=force)


def unmap_call(ws: Any, user: str, kind: str, row: Any) -> tuple[str, Callable[[], Any]]:
    """(what is being unmapped, in words; the call that unmaps it)."""
    if kind == "customer":
        return row.vendor_customer_name, lambda: svc.unmap_customer(
            ws, user, row.vendor_customer_id, connection=row.vendor_connection)
    if kind == "subscription":
        return f"{row.product_name} ({row.vendor_subscription_id})", \
            lambda: svc.unmap_subscription(ws, user, row.vendor_subscription_id,
                                           row.psa_line_id, connection=row.vendor_connection,
                                           psa_connection=row.psa_connection)
    if kind == "product":
        return row.vendor_product_name, lambda: svc.unmap_product(
            ws, user, row.vendor_sku, connection=row.vendor_connection)
    return f"{row.psa_company_name} {motion_label(row.motion)}", lambda: svc.unmap_agreement(
        ws, user, row.psa_company_id, row.motion, psa_connection=row.psa_connection)
