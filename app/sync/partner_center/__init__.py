"""Microsoft Partner Center files: the new-commerce invoice reconciliation CSV and the
new-commerce daily rated usage CSV (DESIGN.md §6, reference/partner-center/)."""
