"""Smart templates, workbook exports and decision re-import."""
