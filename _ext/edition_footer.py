"""Sphinx extension of this book: the footer of every page names the edition it belongs to.

The edition (package version, commit, build date, profile; see :mod:`gradcam_study.edition`) is computed when
the configuration is read, so that no page carries a value typed by hand, and a reader citing a page or a
figure can name the copy they read.
"""

from __future__ import annotations

import html
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config

from gradcam_study.edition import edition


def add_edition_to_footer(app: Sphinx, config: Config) -> None:
    line = edition(Path(app.confdir)).line()
    # sphinx-book-theme prints extra_footer as HTML below every page.
    config.html_theme_options = {
        **config.html_theme_options,
        "extra_footer": f'<p class="gradcam-edition">{html.escape(line)}</p>',
    }


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("config-inited", add_edition_to_footer)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
