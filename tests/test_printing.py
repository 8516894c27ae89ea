"""The PDF edition: the title page goes first and names the edition, and Chromium's print is checked for raw TeX."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradcam_study.publishing.edition import Edition
from gradcam_study.publishing.printing import PRINT_PAGE, PrintError, chromium, print_page, print_to_pdf, untypeset_math

EDITION = Edition("0.1.0", "0f8144e-dirty", "2026-11-27", "quick")

#: The parts of a sphinx-book-theme single page that print_page relies on.
SINGLE_PAGE = """<html><head><title>t</title></head><body>
<article class="bd-article"><div id="jb-print-docs-body" class="onlyprint"><h1>Introduction</h1></div>
<section id="introduction"><h1>Introduction</h1><p>Text with {math}.</p></section></article></body></html>"""


def chromium_missing() -> str | None:
    try:
        chromium()
    except PrintError as error:
        return str(error)
    return None


def single_page(tmp_path: Path, math: str = "math") -> Path:
    page = tmp_path / "book" / "intro.html"
    page.parent.mkdir()
    page.write_text(SINGLE_PAGE.format(math=math))
    return page


def test_the_title_page_comes_first_and_names_the_edition(tmp_path: Path) -> None:
    written = print_page(single_page(tmp_path), "A & B", "someone", EDITION)
    assert written == tmp_path / PRINT_PAGE  # beside _static/ and _images/, as the page's links expect
    text = written.read_text()
    assert text.index('class="gradcam-title-page') < text.index('id="jb-print-docs-body"')
    assert all(value in text for value in ("<h1>A &amp; B</h1>", "gradcam_study 0.1.0", "0f8144e-dirty",
                                           "2026-11-27", "quick"))
    assert text.index("@media print") < text.index("</head>")


def test_a_page_of_another_theme_is_refused(tmp_path: Path) -> None:
    page = tmp_path / "book" / "intro.html"
    page.parent.mkdir()
    page.write_text("<html><head></head><body><main>no theme</main></body></html>")
    with pytest.raises(PrintError, match="single-page HTML"):
        print_page(page, "title", "author", EDITION)


@pytest.mark.browser
@pytest.mark.skipif(chromium_missing() is not None, reason=chromium_missing() or "")
@pytest.mark.parametrize("math, untypeset", [(r"typeset math", 0), (r"\(x^2\) left as TeX", 1)])
def test_printed_text_is_checked_for_tex_left_untypeset(tmp_path: Path, math: str, untypeset: int) -> None:
    pytest.importorskip("pypdf", reason="pypdf is not installed (pip install -r requirements.txt)")
    page = print_page(single_page(tmp_path, math), "Title", "author", EDITION)
    print_to_pdf(page, tmp_path / "book.pdf", wait_ms=2_000)
    assert len(untypeset_math(tmp_path / "book.pdf")) == untypeset
