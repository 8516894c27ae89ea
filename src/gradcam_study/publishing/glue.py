"""Glue for the chapters: numbered figures and tables handed to their directives, and the provenance line.

How figures and tables are numbered (the convention of every chapter) is in :func:`glue_numbered`; ``{glue:table}``
comes from :mod:`gradcam_study.publishing.sphinx_tables`.
"""

from __future__ import annotations

import os

from .. import settings
from ..study.provenance import Provenance


def show_caption(provenance: Provenance, score_kind: str | None = None, kept: int | None = None,
                 note: str | None = None) -> None:
    """Display the provenance line every figure and table of the book carries, in italics."""
    from IPython.display import Markdown, display

    display(Markdown(f"*{provenance.caption(score_kind, kept, note)}*"))


#: Set by ``make book`` for the chapters' kernels: a numbered figure or table is then shown only where its directive
#: stands on the page. Where it is unset (a chapter rerun in JupyterLab or any kernel), :func:`glue_numbered` also shows
#: the figure or table in the cell, with its provenance, so that a rerun chapter shows everything it computes.
BOOK_BUILD_ENV = "GRADCAM_STUDY_BOOK_BUILD"


def glue_numbered(key: str, content: object, *captions: str) -> None:
    """Hand a figure or table to the page's numbered ``{glue:figure}`` / ``{glue:table}`` directive of the same key.

    ``content`` (a matplotlib figure, a DataFrame or Styler) is glued under ``key``; the provenance lines
    ``captions`` (:meth:`Provenance.caption`), in italics, one a line, under ``key + "-provenance"``, which the
    directive's legend pastes with ``{glue:md}``. A figure is closed, so that the cell does not show it a second
    time. In the book build (:data:`BOOK_BUILD_ENV` set) nothing is displayed in the cell itself: the page shows
    the numbered object where its directive stands; elsewhere the cell shows it too.

    How figures and tables are numbered (the convention of every chapter): numbers come from Sphinx's ``numfig``
    per chapter ("Figure 4.2", "Table 6.1"); the key is also the object's label, prefixed ``fig-`` or ``tab-``
    and unique in the book; the caption's first paragraph is typed in the chapter (values in it are glued, never
    typed), the provenance line is the legend. A figure::

        glue_numbered("fig-alphas-histogram", fig, results.provenance.caption(score_kind="pre_softmax"))

    pasted by::

        :::{glue:figure} fig-alphas-histogram
        :name: fig-alphas-histogram

        The alphas of all analysed images, pre-softmax.

        {glue:md}`fig-alphas-histogram-provenance`
        :::

    and a table (``{glue:table}`` comes from :mod:`gradcam_study.publishing.sphinx_tables`; its caption stands above)::

        glue_numbered("tab-alphas-summary", styled, results.provenance.caption())

        :::{glue:table} tab-alphas-summary
        :name: tab-alphas-summary

        Summary of the non-zero alphas.

        {glue:md}`tab-alphas-summary-provenance`
        :::

    Elsewhere, {numref}`fig-alphas-histogram` prints "Figure N.M" as a link (from another chapter too).
    """
    from IPython.display import Markdown
    from myst_nb import glue

    glue(key, content, display=False)
    # A backslash at the end of a line is a Markdown line break: one provenance line per study.
    provenance = Markdown("\\\n".join(f"*{caption}*" for caption in captions))
    glue(f"{key}-provenance", provenance, display=False)
    if BOOK_BUILD_ENV not in os.environ:
        from IPython.display import display

        display(content, provenance)
    from matplotlib.figure import Figure

    if isinstance(content, Figure):
        import matplotlib.pyplot as plt

        plt.close(content)


def glue_absent(reason: str, *keys: str) -> None:
    """Glue ``reason`` in place of each numbered figure or table ``keys`` that this build does not make (a model
    without an inner layer, say), so that the page's directives still find their keys and the numbers of the
    chapter's other figures and tables do not depend on the profile."""
    from IPython.display import Markdown
    from myst_nb import glue

    images = settings.rehearsal_images()
    # In a rehearsal an absent figure's caption says so too, as every other caption does.
    provenance = f"*{settings.rehearsal_note(images)}*" if images is not None else ""
    for key in keys:
        glue(key, Markdown(f"*{reason}*"), display=False)
        glue(f"{key}-provenance", Markdown(provenance), display=False)




__all__ = ["BOOK_BUILD_ENV", "glue_absent", "glue_numbered", "show_caption"]
