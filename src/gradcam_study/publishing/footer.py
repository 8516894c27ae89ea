"""Sphinx extension of this book: the footer of every page names the edition it belongs to.

The edition (package version, commit, build date, profile; see :mod:`gradcam_study.publishing.edition`) is computed when
the configuration is read, so that no page carries a value typed by hand, and a reader citing a page or a
figure can name the copy they read. In a rehearsal (``GRADCAM_STUDY_REHEARSAL``, see
:mod:`gradcam_study.rehearsal`) the book's title, every page's title and the footer say so.
"""

from __future__ import annotations

import html
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config

from gradcam_study.publishing.edition import edition
from gradcam_study.rehearsal import retitle
from gradcam_study.settings import rehearsal_images, rehearsal_note


def add_edition_to_footer(app: Sphinx, config: Config) -> None:
    line = edition(Path(app.confdir)).line()
    images = rehearsal_images()
    if images is not None:
        line = f"{line} · {rehearsal_note(images)}"
        config.html_title = f"{config.html_title or config.project} ({rehearsal_note(images)})"
    # sphinx-book-theme prints extra_footer as HTML below every page.
    config.html_theme_options = {
        **config.html_theme_options,
        "extra_footer": f'<p class="gradcam-edition">{html.escape(line)}</p>',
    }


def mark_rehearsal_titles(app: Sphinx, docname: str, source: list[str]) -> None:
    images = rehearsal_images()
    if images is not None:
        source[0] = retitle(source[0], images)


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("config-inited", add_edition_to_footer)
    app.connect("source-read", mark_rehearsal_titles)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
