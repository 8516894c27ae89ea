"""How much code the chapters hold: the yardstick of a chapter that reads as an argument.

A chapter's code cells compute and glue; its prose is Markdown. :func:`code_statistics` counts, per chapter (a
MyST notebook), the non-blank, non-comment lines of its code cells (cell options such as ``:tags:`` do not count),
its ``def`` statements and its lines holding an f-string. ``python -m gradcam_study.publishing.chapters book`` prints
the table.

>>> code_statistics("```{code-cell} ipython3\\n:tags: [hide-input]\\n# why\\nx = f'{1}'\\n\\ny = 2\\n```\\n")
CodeStatistics(code_lines=2, defs=0, f_string_lines=1)
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

#: The book's limits on its chapters' code (issue 17): per chapter, over all chapters, and ``def``s over all.
MAX_CHAPTER_LINES = 120
MAX_BOOK_LINES = 900
MAX_BOOK_DEFS = 5

_F_STRING = re.compile(r"""(?<![\w])[fF][rR]?["']""")


@dataclass(frozen=True)
class CodeStatistics:
    """A chapter's code cells in three counts."""

    code_lines: int
    defs: int
    f_string_lines: int


def code_statistics(text: str) -> CodeStatistics:
    """The :class:`CodeStatistics` of a MyST notebook's text."""
    inside = False
    lines = defs = f_strings = 0
    for line in text.splitlines():
        if line.startswith("```{code-cell}"):
            inside = True
            continue
        if inside and line.startswith("```"):
            inside = False
            continue
        stripped = line.strip()
        if not inside or not stripped or stripped.startswith(("#", ":")):
            continue
        lines += 1
        defs += stripped.startswith(("def ", "async def "))
        f_strings += bool(_F_STRING.search(line))
    return CodeStatistics(lines, defs, f_strings)


def book_statistics(folder: str | Path) -> dict[str, CodeStatistics]:
    """:func:`code_statistics` of every chapter (``*.md``) in ``folder``, by chapter name."""
    return {path.stem: code_statistics(path.read_text(encoding="utf-8")) for path in sorted(Path(folder).glob("*.md"))}


def table(statistics: dict[str, CodeStatistics]) -> str:
    """A Markdown table of the chapters with code, most code first, and the total."""
    rows = ["| chapter | code-cell lines | `def`s | f-string lines |", "|---|---|---|---|"]
    shown = sorted(((s.code_lines, name, s) for name, s in statistics.items() if s.code_lines), reverse=True)
    rows += [f"| {name} | {s.code_lines} | {s.defs} | {s.f_string_lines} |" for _, name, s in shown]
    totals = [sum(getattr(s, field) for s in statistics.values()) for field in ("code_lines", "defs", "f_string_lines")]
    rows.append(f"| all chapters | {totals[0]} | {totals[1]} | {totals[2]} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table(book_statistics(sys.argv[1] if len(sys.argv) > 1 else "book")))
