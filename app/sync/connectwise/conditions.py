"""A parser and evaluator for the subset of CW `conditions` the sandbox honours.

The sandbox must filter the way ConnectWise does, or connector bugs in filter strings would
pass tests: comparisons (= != < <= > >= like contains, `in (...)`, and `not` forms), `and` /
`or` with parentheses, "strings", [date-times], numbers, true/false/null, and nested fields
such as company/id. Strings compare case-insensitively like CW's SQL Server collation.
Unknown fields are an error, as they are in CW.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


class ConditionError(ValueError):
    """The conditions string is not valid; the sandbox answers 400 with this message."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<date>\[[^\]]*\])
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<paren>[(),])
      | (?P<num>-?\d+(?:\.\d+)?(?![\w/]))
      | (?P<word>[A-Za-z_][\w/.]*)
    )""",
    re.VERBOSE,
)
_WORD_OPS = {"like", "contains", "in"}


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ConditionError(f"cannot read the conditions near: {text[pos:pos + 20]!r}")
        kind = match.lastgroup or ""
        out.append(_Tok(kind, match.group(kind)))
        pos = match.end()
    return out


def parse_literal(tok: _Tok) -> Any:
    if tok.kind == "str":
        return re.sub(r"\\(.)", r"\1", tok.text[1:-1])
    if tok.kind == "date":
        return parse_datetime(tok.text[1:-1].strip())
    if tok.kind == "num":
        return Decimal(tok.text)
    word = tok.text.lower()
    if word in ("true", "false"):
        return word == "true"
    if word == "null":
        return None
    raise ConditionError(f"expected a value, found {tok.text!r}")


def parse_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConditionError(f"not a date: [{text}]") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


Predicate = Callable[[dict[str, Any]], bool]


class _Parser:
    def __init__(self, text: str, fields: Collection[str] | None) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.fields = fields

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise ConditionError("the conditions end too early")
        self.i += 1
        return tok

    def word_is(self, *words: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "word" and tok.text.lower() in words

    def parse(self) -> Predicate:
        pred = self.expr()
        if self.peek() is not None:
            raise ConditionError(f"unexpected {self.peek().text!r}")  # type: ignore[union-attr]
        return pred

    def expr(self) -> Predicate:
        preds = [self.term()]
        while self.word_is("or"):
            self.take()
            preds.append(self.term())
        return preds[0] if len(preds) == 1 else (lambda r, ps=preds: any(p(r) for p in ps))

    def term(self) -> Predicate:
        preds = [self.factor()]
        while self.word_is("and"):
            self.take()
            preds.append(self.factor())
        return preds[0] if len(preds) == 1 else (lambda r, ps=preds: all(p(r) for p in ps))

    def factor(self) -> Predicate:
        tok = self.take()
        if tok.text == "(":
            pred = self.expr()
            if self.take().text != ")":
                raise ConditionError("missing ')'")
            return pred
        if tok.kind != "word":
            raise ConditionError(f"expected a field name, found {tok.text!r}")
        field = tok.text
        root = field.split("/")[0]
        if self.fields is not None and root not in self.fields:
            raise ConditionError(f"Unknown field '{field}'")
        negate = False
        if self.word_is("not"):
            self.take()
            negate = True
        op_tok = self.take()
        op = op_tok.text.lower()
        if op_tok.kind == "word" and op not in _WORD_OPS or op_tok.kind not in ("op", "word"):
            raise ConditionError(f"unknown operator {op_tok.text!r}")
        if op == "in":
            values = self.value_list()
            test = _in_test(values)
        else:
            test = _comparison(op, parse_literal(self.take()))
        if negate:
            return lambda r: not test(field_value(r, field))
        return lambda r: test(field_value(r, field))

    def value_list(self) -> list[Any]:
        if self.take().text != "(":
            raise ConditionError("'in' needs a list in parentheses")
        values = [parse_literal(self.take())]
        while (tok := self.take()).text == ",":
            values.append(parse_literal(self.take()))
        if tok.text != ")":
            raise ConditionError("missing ')' after the 'in' list")
        return values


def compile_conditions(text: str | None, fields: Collection[str] | None = None) -> Predicate:
    """A predicate over one record (a CW JSON dict); `fields` are the allowed root fields."""
    if not text or not text.strip():
        return lambda record: True
    return _Parser(text, fields).parse()


def field_value(record: dict[str, Any], field: str) -> Any:
    """Resolve company/id style paths; lastUpdated lives in _info like in CW."""
    if field == "lastUpdated":
        return (record.get("_info") or {}).get("lastUpdated")
    value: Any = record
    for part in field.split("/"):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _coerce(value: Any, like: Any) -> Any:
    """Bring the record's value to the literal's type (CW compares typed columns)."""
    if value is None or like is None:
        return value
    if isinstance(like, datetime) and isinstance(value, str):
        return parse_datetime(value)
    if isinstance(like, bool):
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if isinstance(like, Decimal) and not isinstance(value, bool):
        try:
            return Decimal(str(value)) if not isinstance(value, Decimal) else value
        except InvalidOperation:
            return value
    if isinstance(like, str):
        return str(value).casefold()
    return value


def _norm(literal: Any) -> Any:
    return literal.casefold() if isinstance(literal, str) else literal


def _comparison(op: str, literal: Any) -> Callable[[Any], bool]:
    lit = _norm(literal)
    if op in ("like", "contains"):
        if not isinstance(literal, str):
            raise ConditionError(f"'{op}' needs a string")
        if op == "contains":
            return lambda v: v is not None and lit in str(v).casefold()
        pattern = re.compile(
            "^" + ".*".join(re.escape(p) for p in re.split(r"[%*]", lit)) + "$", re.DOTALL)
        return lambda v: v is not None and bool(pattern.match(str(v).casefold()))

    def test(value: Any) -> bool:
        v = _coerce(value, literal)
        if op == "=":
            return v == lit
        if op in ("!=", "<>"):
            return v != lit
        if v is None or lit is None or type(v) is not type(lit):
            return False
        if op == "<":
            return v < lit
        if op == "<=":
            return v <= lit
        if op == ">":
            return v > lit
        return v >= lit

    return test


def _in_test(values: list[Any]) -> Callable[[Any], bool]:
    tests = [_comparison("=", v) for v in values]
    return lambda value: any(t(value) for t in tests)
