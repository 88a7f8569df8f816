"""The reconciliation review: the findings grid, its filters and decisions, the detail pane."""
