"""The review grid on a real reconciled workspace: filters, real-value sorting, per-currency
totals, bulk approval, stale approvals, keyboard review, the detail pane and layout memory."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication

from app.services.findings import list_findings
from app.services.review import decide
from app.ui.review import jobs
from app.ui.review.filter_bar import FilterState
from app.ui.review.grid_model import AMOUNT, CustomerGroup, FindingsModel
from app.ui.review.grid_page import ReviewPage
from app.ui.tasks import TaskRunner
from tests.ui.conftest import PERIOD, TODAY


def statuses(ws) -> dict[int, str]:
    return {r.id: r.status for r in list_findings(ws, PERIOD, with_explanation=False)}


def test_models_pass_qtmodeltester(qapp, qtmodeltester, review_ws):
    rows = list_findings(review_ws, PERIOD, with_explanation=False)
    model = FindingsModel(rows)
    qtmodeltester.check(model)
    model.set_grouped(True)
    model.sort(AMOUNT, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model)
    qtmodeltester.check(FindingsModel())


def test_opens_on_the_previous_month_with_its_findings(review_page, review_ws):
    assert review_page.period_bar.period() == PERIOD
    assert review_page.model.rowCount() == len(list_findings(review_ws, PERIOD)) > 10
    assert review_page.grid_stack.currentWidget() is review_page.view
    assert "Reconciled" in review_page.period_bar.status.text()


def test_filters_by_kind_status_customer_vendor_and_text(review_page):
    page, bar = review_page, review_page.filters
    total = page.model.rowCount()
    bar.kind.setCurrentIndex(bar.kind.findData("unbilled_subscription"))
    assert {r.kind for r in page.model.findings()} == {"unbilled_subscription"}
    assert f"of {total} findings" in page.totals.text()
    bar.clear()
    bar.customer.setCurrentText("Fabrikam Ltd")
    bar.customer.lineEdit().editingFinished.emit()
    assert {r.customer_name for r in page.model.findings()} == {"Fabrikam Ltd"}
    bar.clear()
    bar.find.setText("power bi")
    bar.find.returnPressed.emit()
    assert page.model.rowCount() > 0
    assert all(r.product_name == "Power BI Pro" for r in page.model.findings())
    bar.set_state(FilterState(statuses=("approved",)))
    assert page.model.rowCount() == 0
    assert page.grid_stack.currentWidget() is page.empty
    assert "No finding matches" in page.empty.headline.text()
    bar.set_state(FilterState(vendor="pax8"))
    assert page.model.rowCount() == total


def test_sorting_uses_real_values(review_page):
    page = review_page
    page.view.sortByColumn(AMOUNT, Qt.SortOrder.DescendingOrder)
    amounts = [r.amount for r in page.model.findings()]
    assert amounts == sorted(amounts, reverse=True)
    assert amounts[0] == Decimal("299.49")  # as text "USD +9.87" would sort above it


def test_totals_never_add_different_currencies(review_page, review_ws):
    rows = list_findings(review_ws, PERIOD, with_explanation=False)
    totals = review_page.model.totals
    for currency in ("EUR", "USD"):
        under = sum((r.amount for r in rows if r.currency == currency and r.amount > 0),
                    Decimal(0))
        assert dict(totals.under)[currency] == under
    text = review_page.totals.text()
    assert "EUR" in text and "USD" in text
    eur_under = dict(totals.under)["EUR"]
    assert f"EUR {eur_under:,}" in text


def test_bulk_approve_a_filtered_selection(review_page, review_ws):
    page = review_page
    page.filters.kind.setCurrentIndex(page.filters.kind.findData("quantity_drift"))
    page.view.selectAll()
    drift = {r.id for r in page.model.findings()}
    assert len(page.selected_findings()) == len(drift) > 5
    assert "findings selected" in page.decisions.selection.text()
    page.decisions.note.setText("checked against the March invoice")
    page.decisions.buttons["approve"].click()
    after = statuses(review_ws)
    assert {after[i] for i in drift} == {"approved"}
    assert {s for i, s in after.items() if i not in drift} == {"open"}
    assert {r.status for r in page.model.findings()} == {"approved"}
    assert len(page.selected_findings()) == len(drift)  # the selection survives the update
    notes = {r.note for r in list_findings(review_ws, PERIOD) if r.id in drift}
    assert notes == {"checked against the March invoice"}
    assert page.decisions.note.text() == ""


def test_effective_date_goes_with_the_decision(review_page, review_ws):
    page = review_page
    target = page.model.findings()[0]
    page.select_finding(target.id)
    page.decisions.use_date.setChecked(True)
    page.decisions.date.setDate(QDate(2026, 3, 15))
    page.decide("approve")
    [row] = list_findings(review_ws, ids=[target.id])
    assert row.status == "approved" and row.effective_date == date(2026, 3, 15)
    assert page.model.findings()[0].effective_date == date(2026, 3, 15)


def test_a_stale_approval_is_refused_with_a_clear_message(review_page, review_ws):
    page = review_page
    target = page.model.findings()[0]
    decide(review_ws, [target.id], "defer", user="bob", note="waiting for the customer")
    page.select_finding(target.id)
    page.decide("approve")
    assert page.banner.isVisible()
    message = page.banner.message()
    assert "Nothing was changed" in message and "changed since you" in message
    assert statuses(review_ws)[target.id] == "deferred"  # all or nothing: nothing moved
    fresh = next(r for r in page.model.findings() if r.id == target.id)
    assert fresh.status == "deferred" and fresh.version == target.version + 1
    page.decide("approve")  # now with the numbers on screen: accepted
    assert statuses(review_ws)[target.id] == "approved"
    assert not page.banner.isVisible()


def test_an_unmapped_finding_in_a_batch_refuses_the_whole_batch(review_page, review_ws):
    page = review_page
    page.view.selectAll()
    page.decide("approve")
    assert page.banner.isVisible() and "unmapped" in page.banner.message()
    assert set(statuses(review_ws).values()) == {"open"}


def test_keyboard_review(review_page, review_ws, qtbot):
    page = review_page
    page.activateWindow()
    page.view.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.view)
    rows = page.model.findings()
    qtbot.keyClick(page.view, Qt.Key.Key_J)
    assert page.current_finding().id == rows[0].id
    qtbot.keyClick(page.view, Qt.Key.Key_J)
    qtbot.keyClick(page.view, Qt.Key.Key_K)
    assert page.current_finding().id == rows[0].id
    qtbot.keyClick(page.view, Qt.Key.Key_A)  # approve, then on to the next one
    assert statuses(review_ws)[rows[0].id] == "approved"
    assert page.current_finding().id == rows[1].id
    qtbot.keyClick(page.view, Qt.Key.Key_R)
    assert statuses(review_ws)[rows[1].id] == "rejected"
    qtbot.keyClick(page.view, Qt.Key.Key_D)
    assert statuses(review_ws)[rows[2].id] == "deferred"
    qtbot.keyClick(page.view, Qt.Key.Key_Down)
    assert page.current_finding().id == rows[4].id
    qtbot.keyClick(page.view, Qt.Key.Key_Up)
    assert page.current_finding().id == rows[3].id
    qtbot.keyClick(page, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is page.filters.find
    qtbot.keyClicks(page.filters.find, "a")  # typing is typing, not approving
    assert statuses(review_ws)[rows[3].id] == "open"
    page.decisions.note.setFocus()
    qtbot.keyClicks(page.decisions.note, "ada")
    assert statuses(review_ws)[rows[3].id] == "open"


def test_subtotals_by_customer(review_page):
    page = review_page
    page.filters.grouped.setChecked(True)
    groups = [r for r in page.model.rows if isinstance(r, CustomerGroup)]
    assert [g.customer for g in groups] == sorted((g.customer for g in groups), key=str.casefold)
    contoso = next(g for g in groups if g.customer == "Contoso Ltd")
    members = [r for r in page.model.findings() if r.customer_name == "Contoso Ltd"]
    assert contoso.count == len(members)
    assert contoso.totals == (("USD", sum((r.amount for r in members), Decimal(0))),)
    assert not page.model.flags(page.model.index(0, 0)) & Qt.ItemFlag.ItemIsSelectable
    page.move(1)  # J from nowhere lands on the first finding, not on a subtotal
    assert page.current_finding() is not None
    assert page.view.rowSpan(0, 0) == 1 and page.view.columnSpan(0, 0) > 1


def test_detail_pane_explains_the_number(review_page, review_ws, qtbot):
    page = review_page
    target = next(r for r in page.model.findings() if r.kind == "quantity_drift"
                  and r.amount > 0)
    page.select_finding(target.id)
    qtbot.waitUntil(lambda: page.detail.history.text() != "")
    pane = page.detail
    assert pane.finding_id == target.id
    assert pane.chart.vendor is not None and pane.chart.psa is not None
    assert len(pane.chart.vendor.per_day) == 31
    assert "Share" in pane.formula.text() and "/31" in pane.formula.text()
    assert "Total" in pane.formula.text()
    assert "effective" in pane.policy.text()
    assert "set the quantity" in pane.actions.text()
    assert "No decisions yet" in pane.history.text()
    page.decisions.note.setText("ok per invoice")
    page.decide("approve")
    page.select_finding(target.id)
    qtbot.waitUntil(lambda: "Approved" in pane.history.text())
    assert "ok per invoice" in pane.history.text() and "queued" in pane.history.text()
    page.view.selectAll()
    assert "findings selected" in pane.empty.headline.text()


def test_layout_and_period_are_remembered(qtbot, review_ws, inline_runner, settings):
    first = ReviewPage(review_ws, inline_runner, settings, today=TODAY)
    qtbot.addWidget(first)
    first.view.horizontalHeader().resizeSection(2, 333)
    first.view.sortByColumn(AMOUNT, Qt.SortOrder.DescendingOrder)
    first.splitter.setSizes([500, 200])
    first.filters.grouped.setChecked(True)
    first.period_bar.set_period("2026-02")
    first.save_state()
    second = ReviewPage(review_ws, inline_runner, settings, today=TODAY)
    qtbot.addWidget(second)
    assert second.view.horizontalHeader().sectionSize(2) == 333
    assert second.view.horizontalHeader().sortIndicatorSection() == AMOUNT
    assert second.filters.grouped.isChecked() and second.model.grouped
    assert second.period_bar.period() == "2026-02"
    assert second.splitter.saveState() == first.splitter.saveState()


def test_an_unreconciled_period_explains_what_to_do(review_page):
    page = review_page
    page.period_bar.set_period("2026-02")
    assert page.model.rowCount() == 0
    assert page.grid_stack.currentWidget() is page.empty
    assert "has not been reconciled yet" in page.empty.headline.text()
    assert "Reconcile February 2026" in page.period_bar.reconcile.text()


def test_reconcile_runs_in_the_background_and_reloads(qtbot, review_ws, settings):
    runner = TaskRunner()
    page = ReviewPage(review_ws, runner, settings, today=TODAY)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0)
    page.period_bar.set_period("2026-04")
    qtbot.waitUntil(lambda: page.grid_stack.currentWidget() is page.empty)
    progress = []
    page.period_bar.progress.valueChanged.connect(progress.append)
    page.reconcile()
    assert page.period_bar.cancel.isVisibleTo(page) and not page.period_bar.reconcile.isEnabled()
    qtbot.waitUntil(lambda: page.reconcile_task is None, timeout=20_000)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=10_000)
    assert "April 2026 reconciled" in page.banner.message()
    assert page.period_bar.reconcile.isEnabled()
    assert runner.cancel_all_and_wait(5000)


def test_reconcile_can_be_cancelled(qtbot, review_ws, settings, monkeypatch):
    started = threading.Event()
    real = jobs.reconcile

    def slow(ws, period, user, report, cancel):
        started.set()
        cancel.wait(10)  # stands for a long load: the cancel reaches the service below
        return real(ws, period, user, report, cancel)

    monkeypatch.setattr(jobs, "reconcile", slow)
    runner = TaskRunner()
    page = ReviewPage(review_ws, runner, settings, today=TODAY)
    qtbot.addWidget(page)
    page.period_bar.set_period("2026-04")
    page.reconcile()
    assert started.wait(5)
    page.cancel_reconcile()
    qtbot.waitUntil(lambda: page.reconcile_task is None, timeout=10_000)
    assert "Reconcile cancelled" in page.banner.message()
    assert list_findings(review_ws, "2026-04") == []
    assert runner.cancel_all_and_wait(5000)


def test_a_reload_read_before_a_decision_never_undoes_it_on_screen(review_page, review_ws):
    page = review_page
    stale = jobs.load_findings(review_ws, PERIOD, lambda *a: None, threading.Event())
    seq, writes = page._load_seq, page._writes
    target = page.model.findings()[0]
    page.select_finding(target.id)
    page.decide("approve")
    page._loaded(seq, writes, stale)  # the read that started before the decision lands late
    shown = next(r for r in page.model.findings() if r.id == target.id)
    assert shown.status == "approved"


def test_history_keeps_withdrawn_pushes(review_ws):
    from app.services.history import finding_history

    target = next(r for r in list_findings(review_ws, PERIOD) if r.actions)
    decide(review_ws, [target.id], "approve", user="ann", note="first look")
    decide(review_ws, [target.id], "defer", user="bob")
    actions = [(h.entity, h.action, h.user) for h in finding_history(review_ws, target.id)]
    assert ("finding", "approve", "ann") in actions and ("finding", "defer", "bob") in actions
    queued = [a for a in actions if a[1] == "queue_push"]
    withdrawn = [a for a in actions if a[1] == "withdraw_push"]
    assert len(queued) == len(target.actions) == len(withdrawn)
