"""The PDF edition: the book's single-page HTML, with a title page naming the edition, printed by headless Chromium.

``make pdf`` builds the single-page HTML (``jupyter-book build . --builder singlehtml``, which reads the chapters'
outputs from the execution cache), then runs ``python -m gradcam_study.publishing.printing``. The figures and tables keep
the numbers Sphinx gave them, those of the HTML edition. Chromium waits until MathJax has typeset every equation
before it prints, and the printed text is checked for TeX that was left untypeset.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .edition import Edition, edition

#: Written beside the single page, so that its links to ``_static/`` and ``_images/`` resolve as Sphinx wrote them.
PRINT_PAGE = "print.html"

#: For print only. The theme's print header repeats the first page's title above the table of contents, and the
#: theme hides each page's first heading in print, which would hide every chapter's title here. Chapters start on
#: a new page, and a figure, a table or a cell's output is kept whole; a code block may be split (the theme keeps it
#: whole, which leaves a page blank before any code block taller than what is left of a page).
PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
@media print {
  #jb-print-docs-body > h1 { display: none; }
  #jb-print-docs-body { break-after: page; }
  .bd-main .bd-content .bd-article h1:first-of-type { display: block !important; }
  .bd-header-article, .bd-sidebar-primary, .bd-sidebar-secondary, .prev-next-footer, #pst-back-to-top,
  .headerlink, .copybtn, .toggle-button { display: none !important; }
  .bd-main .bd-content { margin-left: 0 !important; }
  .bd-article-container, .bd-article { max-width: 100% !important; padding: 0 !important; }
  span[id^="document-"] + section { break-before: page; }
  figure, img, table, .math, mjx-container[display="true"], div.cell_output, .admonition {
    break-inside: avoid;
  }
  div.highlight, div[class*="highlight-"], div.cell_input { break-inside: auto !important; }
  h1, h2, h3, h4, p.caption, figcaption { break-after: avoid; }
  pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
  .gradcam-title-page { break-after: page; padding-top: 60mm; text-align: center; }
  .gradcam-title-page h1 { font-size: 2.1em; margin-bottom: 1em; color: #000; }
  .gradcam-title-page table { margin: 2em auto; text-align: left; border: none; }
  .gradcam-title-page td { padding: 0.2em 1em; border: none; }
}
"""

#: The delimiters Sphinx puts around TeX for MathJax, \( \) inline and \[ \] displayed, which MathJax removes when it
#: typesets: found in the printed text, an equation was left as TeX. (No chapter's code prints them.)
UNTYPESET_TEX = re.compile(r"\\[()\[\]]")


class PrintError(RuntimeError):
    """The PDF could not be made; the message says why and what to do."""


def title_page(title: str, author: str, found: Edition) -> str:
    """The title page's HTML: title, author and the edition, field by field."""
    rows = (("Package version", f"gradcam_study {found.version}"), ("Commit", found.commit),
            ("Build date", found.date), ("Profile", found.profile))
    cells = "".join(f"<tr><td>{html.escape(name)}</td><td><strong>{html.escape(value)}</strong></td></tr>"
                    for name, value in rows)
    return (
        '<section class="gradcam-title-page onlyprint">'
        f"<h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(author)}</p>"
        "<p>PDF edition of the Jupyter Book</p>"
        f"<table>{cells}</table>"
        "<p>Figures and tables carry the numbers of the HTML edition of the same build. "
        "To cite one, give its number with the version, the commit and the profile above.</p>"
        "</section>"
    )


def print_page(single_page: Path, title: str, author: str, found: Edition) -> Path:
    """Write :data:`PRINT_PAGE`, the single page with the title page first and the print CSS; return its path.

    ``single_page`` is the singlehtml build's root page, which Sphinx writes as ``<root>/book/intro.html`` with
    links relative to ``<root>``: the print page goes into ``<root>``, the folder above it.
    """
    text = single_page.read_text(encoding="utf-8")
    # The theme's print-only header, which holds the table of contents: the title page goes before it.
    contents = text.find('<div id="jb-print-docs-body"')
    if contents < 0 or "</head>" not in text:
        raise PrintError(f"{single_page} is not a page of sphinx-book-theme's single-page HTML (no jb-print-docs-body).")
    text = text[:contents] + title_page(title, author, found) + text[contents:]
    text = text.replace("</head>", f"<style>{PRINT_CSS}</style></head>", 1)
    target = single_page.parent.parent / PRINT_PAGE
    target.write_text(text, encoding="utf-8")
    return target


def chromium() -> str:
    """The system's Chromium (or Chrome); the error says how to install it."""
    found = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    if found is None:
        raise PrintError("No Chromium on PATH: install it (Debian: apt-get install chromium) to print the PDF.")
    return found


def print_to_pdf(page: Path, pdf: Path, wait_ms: int = 120_000) -> None:
    """Print ``page`` to ``pdf`` with headless Chromium, after at most ``wait_ms`` of (virtual) time for its scripts.

    Virtual time runs as fast as the page lets it, so the wait is over once MathJax has nothing left to do.
    """
    pdf.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gradcam-pdf-") as profile_dir:
        command = [
            chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile_dir}", "--run-all-compositor-stages-before-draw",
            f"--virtual-time-budget={wait_ms}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
            page.resolve().as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0 or not pdf.is_file():
        raise PrintError(f"Chromium did not print {page} (status {done.returncode}): {done.stderr.strip()[-500:]}")


def untypeset_math(pdf: Path) -> list[str]:
    """Lines of the PDF's text that hold raw TeX (MathJax had not typeset them when Chromium printed)."""
    from pypdf import PdfReader

    return [line for page in PdfReader(pdf).pages for line in page.extract_text().splitlines()
            if UNTYPESET_TEX.search(line)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gradcam_study.publishing.printing", description=__doc__.splitlines()[0])
    parser.add_argument("single_page", type=Path, help="the singlehtml build's root page, e.g. _build/singlehtml/book/intro.html")
    parser.add_argument("pdf", type=Path, help="the PDF to write")
    parser.add_argument("--config", type=Path, default=Path("_config.yml"), help="the book's _config.yml (title, author)")
    arguments = parser.parse_args(argv)
    import yaml

    try:
        config = yaml.safe_load(arguments.config.read_text(encoding="utf-8"))
        found = edition(arguments.config.resolve().parent)
        page = print_page(arguments.single_page, config["title"], config["author"], found)
        print_to_pdf(page, arguments.pdf)
        untypeset = untypeset_math(arguments.pdf)
        if untypeset:
            raise PrintError(f"{len(untypeset)} lines of {arguments.pdf} hold untypeset TeX, e.g. {untypeset[0]!r}")
    except (OSError, PrintError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{arguments.pdf}: {found.line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
