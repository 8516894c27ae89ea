"""The chapters read as arguments: little code each, no functions of their own (gradcam_study.publishing.chapters)."""

from __future__ import annotations

from pathlib import Path

from gradcam_study.publishing.chapters import (
    MAX_BOOK_DEFS,
    MAX_BOOK_LINES,
    MAX_CHAPTER_LINES,
    book_statistics,
    code_statistics,
    table,
)

BOOK = Path(__file__).resolve().parents[1] / "book"


def test_counts_skip_blank_comment_and_option_lines() -> None:
    text = "prose\n```{code-cell} ipython3\n:tags: [hide-input]\n\n# a comment\ndef f():\n    return f'{1}'\n```\nx = 1\n"
    assert code_statistics(text) == code_statistics(text.replace("prose", "other prose"))
    found = code_statistics(text)
    assert (found.code_lines, found.defs, found.f_string_lines) == (2, 1, 1)
    assert "| all chapters | 2 | 1 | 1 |" in table({"a": found})


def test_every_chapter_holds_little_code_and_no_function_of_its_own() -> None:
    statistics = book_statistics(BOOK)
    assert len(statistics) >= 15
    too_long = {name: s.code_lines for name, s in statistics.items() if s.code_lines > MAX_CHAPTER_LINES}
    assert not too_long, f"chapters over {MAX_CHAPTER_LINES} code-cell lines: {too_long}"
    assert sum(s.code_lines for s in statistics.values()) <= MAX_BOOK_LINES
    assert sum(s.defs for s in statistics.values()) <= MAX_BOOK_DEFS
