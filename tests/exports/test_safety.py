"""The spreadsheet limits and the formula-injection rules, on their own."""

from __future__ import annotations

import pytest

from app.exports.safety import (
    MAX_CELL_CHARS,
    SpreadsheetLimitError,
    check_row_count,
    check_sheet_name,
    csv_text,
    is_dangerous,
    xlsx_text,
)


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(1)",
                                  "\tcmd", "\rcmd"])
def test_formula_starts_are_dangerous_and_defused_in_csv(text):
    assert is_dangerous(text)
    assert csv_text(text) == "'" + text


@pytest.mark.parametrize("text", ["Contoso", "1+1", "a=b", " =x", ""])
def test_ordinary_text_is_left_alone(text):
    assert not is_dangerous(text)
    assert csv_text(text) == text


def test_long_text_is_cut_to_the_excel_limit_with_a_reason():
    text, problem = xlsx_text("x" * (MAX_CELL_CHARS + 10))
    assert len(text) == MAX_CELL_CHARS and text.endswith("characters]")
    assert "32,767" in problem
    assert xlsx_text("fine") == ("fine", None)


def test_control_characters_an_xlsx_cannot_hold_are_removed():
    text, problem = xlsx_text("a\x00b\x07c\td\ne")
    assert text == "abc\td\ne" and problem == "control characters removed"


def test_sheet_names():
    assert check_sheet_name("Invoices") is None
    assert "31" in check_sheet_name("x" * 32)
    assert "forbids" in check_sheet_name("a/b")
    assert "blank" in check_sheet_name(" ")


def test_row_limit_is_refused_before_writing():
    check_row_count(1_048_575, 1, "Findings")
    with pytest.raises(SpreadsheetLimitError, match="1,048,576 rows do not fit.*CSV"):
        check_row_count(1_048_576, 1, "Findings")
