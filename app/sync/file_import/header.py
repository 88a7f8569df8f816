"""Finding columns by header name, so extra and reordered columns never matter.

Names match case-insensitively, ignoring spaces, underscores and hyphens ("Charge Start
Date" finds ChargeStartDate), because spreadsheet round trips and newer exports respell them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.sync.file_import.problems import FileProblem, Reject


def normalize(name: str) -> str:
    return "".join(ch for ch in name.lstrip("\ufeff").lower() if ch.isalnum())


def locate(header: Sequence[str], wanted: Mapping[str, Sequence[str]], required: Sequence[str],
           file_name: str, header_row: int = 1) -> dict[str, int]:
    """Column index per wanted field (first name that matches, aliases in order).

    Every missing required column is named in one error; a wanted column that appears
    twice is an error too, because we cannot know which one the user meant.
    """
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        positions.setdefault(normalize(name), []).append(index)
    found: dict[str, int] = {}
    problems: list[Reject] = []
    for field, names in wanted.items():
        for name in names:
            hits = positions.get(normalize(name))
            if not hits:
                continue
            if len(hits) > 1:
                columns = " and ".join(str(i + 1) for i in hits)
                problems.append(Reject(header_row, name,
                                       f"column appears more than once (columns {columns})"))
            found[field] = hits[0]
            break
    missing = [field for field in required if field not in found]
    for field in missing:
        problems.append(Reject(header_row, wanted[field][0],
                               "required column is missing from the header"))
    if problems:
        names = ", ".join(wanted[field][0] for field in missing)
        summary = (f"missing required column{'s' if len(missing) > 1 else ''} {names}"
                   if missing else problems[0].reason + f": {problems[0].column}")
        raise FileProblem(file_name, summary, problems)
    return found
