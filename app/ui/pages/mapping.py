"""The Mapping screen: the unmapped queue and the suggestions to confirm first, then every
mapping by kind, and price overrides.

Loading runs on the task runner (the whole mapping state is read at once); a decision is one
short transaction on the GUI thread followed by a reload, so what the screen shows is always
what the workspace holds. Guessing wrong costs money, so nothing fuzzy maps without a click.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.services import mapping as svc
from app.services import mapping_targets as targets
from app.services.identity import current_user
from app.services.settings import get_setting
from app.ui.pages import mapping_models as mm
from app.ui.pages.mapping_actions import map_call, unmap_call
from app.ui.pages.mapping_dialogs import OverrideDialog, TargetPicker
from app.ui.pages.widgets import (
    TableTab,
    call_safely,
    fit_columns,
    muted_label,
    page_layout,
    primary_button,
    row_layout,
    section_label,
    title_label,
    tone_color,
)
from app.ui.table import RowTableModel
from app.ui.tasks import TaskRunner


@dataclass(frozen=True)
class _Loaded:
    overview: svc.MappingOverview
    suggestions: list[svc.SuggestionView]
    currency: str


class MappingPage(QWidget):
    """Signals: `open_customer(name)` asks the window to show a customer's findings."""

    open_customer = Signal(str)

    def __init__(self, workspace, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.runner = workspace, runner
        self.currency = "USD"
        self._loading = False
        layout = page_layout(self)
        layout.addWidget(title_label(
            "Mapping", "Connect vendor customers, subscriptions and products to what the PSA "
            "bills. Exact matches map automatically; close matches wait for you to confirm."))
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search customers, products, SKUs, ids…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._apply_search)
        self.auto_button = QPushButton("Run auto map")
        self.auto_button.setToolTip("Map exact matches and suggest close ones")
        self.auto_button.clicked.connect(self.run_auto_map)
        layout.addLayout(row_layout(self.search, self.auto_button, stretch_at=0))
        self.status = muted_label()
        self.status.hide()
        layout.addWidget(self.status)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        layout.addWidget(self.tabs, 1)
        self._build_todo()
        self._build_mapped()
        self.refresh()

    # ------------------------------------------------------------ layout
    def _build_todo(self) -> None:
        self.queue_model = RowTableModel(mm.QUEUE_COLUMNS)
        self.suggestion_model = RowTableModel(mm.SUGGESTION_COLUMNS)
        self.map_button = primary_button("Map by hand…")
        self.map_button.clicked.connect(self.map_selected)
        self.accept_button = primary_button("Accept")
        self.accept_button.clicked.connect(self.accept_selected)
        self.reject_button = QPushButton("Reject")
        self.reject_button.setToolTip("Never suggest this pair again")
        self.reject_button.clicked.connect(self.reject_selected)
        self.queue_tab = TableTab(self.queue_model, "Nothing is unmapped. Every vendor customer, "
                              "product and active subscription has its PSA counterpart.",
                              [self.map_button], stretch=4)
        self.suggestion_tab = TableTab(self.suggestion_model, "No suggestions wait for you. Run "
                                   "auto map after a sync to find close matches.",
                                   [self.accept_button, self.reject_button], stretch=4)
        self.queue_tab.view.selectionModel().selectionChanged.connect(self._queue_selected)
        self.queue_tab.view.doubleClicked.connect(lambda _i: self.map_selected())
        self.suggestion_tab.view.doubleClicked.connect(lambda _i: self.accept_selected())
        for tab in (self.queue_tab, self.suggestion_tab):
            tab.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.queue_title = section_label("Unmapped")
        self.suggestion_title = section_label("Suggestions to confirm")
        split = QSplitter(Qt.Orientation.Vertical)
        for title, tab in ((self.queue_title, self.queue_tab),
                           (self.suggestion_title, self.suggestion_tab)):
            box = QWidget()
            box_layout = QVBoxLayout(box)
            box_layout.setContentsMargins(0, 12, 0, 0)
            box_layout.setSpacing(0)
            box_layout.addWidget(title)
            box_layout.addWidget(tab, 1)
            split.addWidget(box)
        split.setChildrenCollapsible(False)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.tabs.addTab(split, "To do")

    def _build_mapped(self) -> None:
        def unmap_button(kind: str) -> QPushButton:
            button = QPushButton("Unmap")
            button.clicked.connect(lambda: self.unmap_selected(kind))
            return button

        self.customer_open = QPushButton("Show findings for customer")
        self.customer_open.clicked.connect(self._open_customer)
        self.customers_tab = TableTab(RowTableModel(mm.CUSTOMER_COLUMNS), "No customer is mapped "
                                  "yet. Sync a vendor and a PSA, then run auto map.",
                                  [unmap_button("customer"), self.customer_open], stretch=3)
        self.subscriptions_tab = TableTab(
            RowTableModel(mm.subscription_columns()), "No subscription is mapped yet. Map its "
            "customer and product first.", [unmap_button("subscription")], stretch=4)
        self.products_tab = TableTab(RowTableModel(mm.PRODUCT_COLUMNS),
                                     "No product is mapped yet.", [unmap_button("product")],
                                     stretch=3)
        self.agreements_tab = TableTab(
            RowTableModel(mm.AGREEMENT_COLUMNS), "No agreement is chosen yet. Each mapped "
            "company needs one per billing motion.", [unmap_button("agreement")], stretch=2)
        add, edit, remove = (QPushButton("Add override…"), QPushButton("Edit…"),
                             QPushButton("Remove"))
        add.clicked.connect(lambda: self.edit_override(None))
        edit.clicked.connect(lambda: self.edit_override(self.overrides_tab.selected()))
        remove.clicked.connect(self.remove_override)
        self.overrides_tab = TableTab(RowTableModel(mm.override_columns(self.currency)),
                                  "No price overrides. Add one to bill a SKU at your own "
                                  "price or with your own invoice description.",
                                  [add, edit, remove], stretch=3)
        self.overrides_tab.view.doubleClicked.connect(
            lambda _i: self.edit_override(self.overrides_tab.selected()))
        for title, tab in (("Customers", self.customers_tab),
                           ("Subscriptions", self.subscriptions_tab),
                           ("Products", self.products_tab),
                           ("Agreements", self.agreements_tab),
                           ("Price overrides", self.overrides_tab)):
            self.tabs.addTab(tab, title)

    @property
    def _all_tabs(self) -> list[TableTab]:
        return [self.queue_tab, self.suggestion_tab, self.customers_tab,
                self.subscriptions_tab, self.products_tab, self.agreements_tab,
                self.overrides_tab]

    # ------------------------------------------------------------ loading
    def refresh(self) -> None:
        if self._loading:
            return
        self._loading = True
        ws = self.workspace

        def job(report, cancel) -> _Loaded:  # noqa: ANN001
            return _Loaded(svc.list_mappings(ws), svc.list_suggestions(ws),
                           str(get_setting(ws, "billing_currency")))

        self.runner.submit("mapping: load", job, on_done=self._loaded,
                           on_error=self._load_failed)

    def _load_failed(self, message: str, _details: str) -> None:
        self._loading = False
        self._say(f"Could not load the mappings: {message}", "error")

    def _loaded(self, data: _Loaded) -> None:
        self._loading = False
        o = data.overview
        self.subscriptions_tab.model.columns = mm.subscription_columns(
            {(c.vendor_connection, c.vendor_customer_id): c.vendor_customer_name
             for c in o.customers})
        if data.currency != self.currency:
            self.currency = data.currency
            self.overrides_tab.model.columns = mm.override_columns(self.currency)
        pairs = ((self.queue_tab, o.unmapped), (self.suggestion_tab, data.suggestions),
                 (self.customers_tab, o.customers), (self.subscriptions_tab, o.subscriptions),
                 (self.products_tab, o.products), (self.agreements_tab, o.agreements),
                 (self.overrides_tab, o.overrides))
        for tab, rows in pairs:
            tab.model.set_rows(rows)
        self._apply_search(self.search.text())
        if not (o.customers or o.products or o.unmapped or data.suggestions):
            self.queue_tab.empty.set_empty(True, "Nothing to map yet. Sync a vendor and a PSA "
                                           "connection (or import a Partner Center file), then "
                                           "run auto map.")
        for tab, _rows in pairs:
            fit_columns(tab.view)
        todo = len(o.unmapped) + len(data.suggestions)
        self.tabs.setTabText(0, f"To do ({todo:,})" if todo else "To do")
        for index, (_tab, rows) in enumerate(pairs[2:], start=1):
            base = self.tabs.tabText(index).split(" (")[0]
            self.tabs.setTabText(index, f"{base} ({len(rows):,})")
        self._update_buttons()

    def _apply_search(self, text: str) -> None:
        needle = text.strip().lower()
        for tab in self._all_tabs:
            tab.model.set_filter((lambda r, n=needle: n in mm.search_text(r)) if needle else None)
            shown, total = tab.model.rowCount(), len(tab.model.all_rows)
            tab.empty.set_empty(shown == 0, None if total == 0 or not needle
                                else f"Nothing matches “{text.strip()}”.")
        self.queue_title.setText(f"Unmapped ({len(self.queue_tab.model.all_rows):,})")
        self.suggestion_title.setText(
            f"Suggestions to confirm ({len(self.suggestion_tab.model.all_rows):,}) — "
            "accept the ones that are right, reject the rest")
        self._update_buttons()

    def _update_buttons(self, *_args) -> None:  # noqa: ANN002
        has_suggestion = self.suggestion_tab.selected() is not None
        self.accept_button.setEnabled(has_suggestion)
        self.reject_button.setEnabled(has_suggestion)
        self.map_button.setEnabled(self.queue_tab.selected() is not None)

    def _queue_selected(self, *_args) -> None:  # noqa: ANN002
        """Selecting an item awaiting confirmation selects its best suggestion below."""
        item = self.queue_tab.selected()
        if not isinstance(item, svc.UnmappedItem):
            return
        for row, s in enumerate(self.suggestion_tab.model.rows):
            if s.kind == item.kind and s.vendor_id == item.id:
                self.suggestion_tab.view.selectRow(row)
                self.suggestion_tab.view.scrollTo(self.suggestion_tab.model.index(row, 0))
                break

    # ------------------------------------------------------------ decisions
    def _say(self, text: str, tone: str = "ok") -> None:
        self.status.setVisible(bool(text))
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {tone_color(tone).name()};")

    def _user(self) -> str:
        return current_user(self.workspace)

    def accept_selected(self) -> None:
        s = self.suggestion_tab.selected()
        if not isinstance(s, svc.SuggestionView):
            return
        change = call_safely(self, "Accept suggestion", lambda: svc.accept_suggestion(
            self.workspace, self._user(), s.id))
        if change is not None:
            self._report(change, f"Mapped {s.vendor_name} → {s.psa_name}.")
            self.refresh()

    def reject_selected(self) -> None:
        s = self.suggestion_tab.selected()
        if not isinstance(s, svc.SuggestionView):
            return
        done = call_safely(self, "Reject suggestion", lambda: svc.reject_suggestion(
            self.workspace, self._user(), s.id) or True)
        if done:
            self._say(f"Rejected {s.vendor_name} → {s.psa_name}; it will not be suggested again.",
                      "muted")
            self.refresh()

    def _report(self, change: svc.MappingChange, text: str) -> None:
        if change.warnings:
            self._say(f"{text}  Check: {'; '.join(change.warnings)}", "warning")
        else:
            self._say(text, "ok")

    def map_selected(self) -> None:
        item = self.queue_tab.selected()
        if not isinstance(item, svc.UnmappedItem):
            return
        ws, kind = self.workspace, item.kind
        choices = {"customer": lambda: targets.psa_companies(ws),
                   "product": lambda: targets.psa_products(ws),
                   "subscription": lambda: targets.psa_lines(ws),
                   "agreement": lambda: targets.psa_agreements(ws, item.id)}[kind]()
        prompt = {"customer": "the PSA company that bills", "product": "the PSA product for",
                  "subscription": "the PSA billing line for",
                  "agreement": "the agreement that bills"}[kind]
        hint = item.name.split(":")[0] if kind in ("customer", "subscription") else ""
        picker = TargetPicker(f"Map {mm.kind_label(kind).lower()}",
                              f"Choose {prompt} “{item.name}”.", choices, self,
                              initial_filter=hint if any(hint.lower() in c.name.lower()
                                                         for c in choices) else "")
        if picker.exec() != QDialog.DialogCode.Accepted or picker.chosen is None:
            return
        self.map_item(item, picker.chosen)

    def map_item(self, item: svc.UnmappedItem, target: targets.MappingTarget,
                 force: bool = False) -> None:
        try:
            change = map_call(self.workspace, self._user(), item, target, force)()
        except svc.MappingError as exc:
            text = str(exc)
            if item.kind == "agreement" and not force and "anyway" in text:
                answer = QMessageBox.question(self, "Map agreement",
                                              text.replace("Pass --force to map it anyway",
                                                           "Map it anyway?"))
                if answer == QMessageBox.StandardButton.Yes:
                    self.map_item(item, target, force=True)
                return
            QMessageBox.warning(self, "Map by hand", text)
            return
        self._report(change, f"Mapped {item.name} → {target.name}.")
        self.refresh()

    def unmap_selected(self, kind: str) -> None:
        tab = {"customer": self.customers_tab, "subscription": self.subscriptions_tab,
               "product": self.products_tab, "agreement": self.agreements_tab}[kind]
        row = tab.selected()
        if row is None:
            return
        what, call = unmap_call(self.workspace, self._user(), kind, row)
        extra = " Its subscription pairs are removed too." if kind == "customer" else ""
        if QMessageBox.question(self, "Unmap", f"Unmap {what}?{extra}") != \
                QMessageBox.StandardButton.Yes:
            return
        if call_safely(self, "Unmap", call) is not None:
            self._say(f"Unmapped {what}.", "muted")
            self.refresh()

    def _open_customer(self) -> None:
        row = self.customers_tab.selected()
        if row is not None:
            self.open_customer.emit(row.psa_company_name)

    # ------------------------------------------------------------ overrides
    def edit_override(self, row: svc.OverrideRow | None) -> None:
        ws = self.workspace
        skus = [p.vendor_sku for p in self.products_tab.model.all_rows] + [
            q.id for q in self.queue_tab.model.all_rows if q.kind == "product"]

        def save(sku: str, price: Decimal | None, description: str | None,
                 company: str | None, connection: str | None) -> None:
            svc.set_override(ws, self._user(), sku, price, description, company,
                             psa_connection=connection)

        dialog = OverrideDialog(skus, targets.psa_companies(ws), self.currency, save, self,
                                sku=row.sku if row else "",
                                company_id=row.psa_company_id if row else None,
                                price=row.unit_price if row else None,
                                description=row.description if row else None)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._say("Override saved.")
            self.refresh()

    def remove_override(self) -> None:
        row = self.overrides_tab.selected()
        if not isinstance(row, svc.OverrideRow):
            return
        who = row.psa_company_name or "all customers"
        if QMessageBox.question(self, "Remove override",
                                f"Remove the override of {row.sku} for {who}?") != \
                QMessageBox.StandardButton.Yes:
            return
        if call_safely(self, "Remove override", lambda: svc.remove_override(
                self.workspace, self._user(), row.sku, row.psa_company_id) or True):
            self._say(f"Removed the override of {row.sku} for {who}.", "muted")
            self.refresh()

    # ------------------------------------------------------------ auto map
    def run_auto_map(self) -> None:
        if self.runner.busy("mapping: auto"):
            return
        self.auto_button.setEnabled(False)
        self._say("Auto map is running…", "info")
        ws, user = self.workspace, self._user()
        self.runner.submit("mapping: auto", lambda report, cancel: svc.auto_map(ws, user),
                           on_done=self._auto_done, on_error=self._auto_failed)

    def _auto_done(self, r: svc.AutoMapReport) -> None:
        self.auto_button.setEnabled(True)
        mapped = (f"Auto map: {r.customers_mapped} customers, {r.products_mapped} products, "
                  f"{r.subscriptions_mapped} subscriptions and {r.agreements_mapped} "
                  "agreements mapped")
        self._say(f"{mapped}; {r.suggestions_pending} suggestions wait for you.",
                  "warning" if r.suggestions_pending else "ok")
        self.refresh()

    def _auto_failed(self, message: str, _details: str) -> None:
        self.auto_button.setEnabled(True)
        self._say(f"Auto map failed: {message}", "error")

