"""Numbered figures and tables: what a chapter glues, and how the book's Sphinx extension numbers a glued table."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from gradcam_study.publishing import glue as display  # noqa: E402


@pytest.fixture
def glued(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """What myst_nb.glue would store, by key, instead of displaying it."""
    import myst_nb

    stored: dict[str, object] = {}

    def glue(name: str, variable: object, display: bool = True) -> None:
        assert display is False, "a numbered object is shown by its directive, not by the cell"
        stored[name] = variable

    monkeypatch.setattr(myst_nb, "glue", glue)
    return stored


def test_glue_numbered_glues_the_object_and_its_provenance_lines_and_closes_a_figure(glued: dict) -> None:
    figure = plt.figure()
    display.glue_numbered("fig-x", figure, "profile quick; one", "profile quick; two")
    assert glued["fig-x"] is figure
    assert glued["fig-x-provenance"].data == "*profile quick; one*\\\n*profile quick; two*"
    assert not plt.fignum_exists(figure.number)
    table = pd.DataFrame({"a": [1]})
    display.glue_numbered("tab-x", table, "profile quick")
    assert glued["tab-x"] is table


def test_glue_absent_fills_every_key_with_the_reason(glued: dict) -> None:
    display.glue_absent("The model has no inner layer.", "tab-a", "fig-b")
    assert glued["tab-a"].data == "*The model has no inner layer.*"
    assert set(glued) == {"tab-a", "tab-a-provenance", "fig-b", "fig-b-provenance"}


def _notebook_with_glued_outputs() -> dict:
    """A stored, already executed notebook: a glued HTML table and its provenance, as glue_numbered leaves them."""
    def glued_output(key: str, mime: str, content: str) -> dict:
        return {
            "output_type": "display_data",
            "data": {f"application/papermill.record/{mime}": content,
                     "application/papermill.record/text/plain": repr(content)},
            "metadata": {"scrapbook": {"name": key, "mime_prefix": "application/papermill.record/"}},
        }

    return {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": [
            {"cell_type": "markdown", "id": "m1", "metadata": {}, "source": "# Chapter\n"},
            {"cell_type": "code", "id": "c1", "metadata": {}, "execution_count": 1, "source": "glue_numbered(...)",
             "outputs": [glued_output("tab-x", "text/html", "<table><tr><td>1</td></tr></table>"),
                         glued_output("tab-x-provenance", "text/markdown", "*profile quick*")]},
            {"cell_type": "markdown", "id": "m2", "metadata": {}, "source": (
                ":::{glue:table} tab-x\n:name: tab-x\n\nA caption.\n\n{glue:md}`tab-x-provenance`\n:::\n\n"
                "See {numref}`tab-x`.\n")},
        ],
    }


def test_glue_table_is_numbered_as_a_table(tmp_path: Path) -> None:
    from sphinx.application import Sphinx

    source = tmp_path / "source"
    source.mkdir()
    (source / "conf.py").write_text(
        "extensions = ['myst_nb', 'gradcam_study.publishing.sphinx_tables']\n"
        "nb_execution_mode = 'off'\n"
        "myst_enable_extensions = ['colon_fence']\n"
        "numfig = True\n"
    )
    (source / "index.ipynb").write_text(json.dumps(_notebook_with_glued_outputs()))
    app = Sphinx(str(source), str(source), str(tmp_path / "html"), str(tmp_path / "doctrees"), "html",
                 status=None, warningiserror=True, freshenv=True)
    app.build()
    page = (tmp_path / "html" / "index.html").read_text()
    assert '<figure class="numbered-table' in page and 'id="tab-x"' in page
    assert '<span class="caption-number">Table 1 </span>' in page
    assert "<em>profile quick</em>" in page
    assert '<span class="std std-numref">Table 1</span>' in page


@pytest.mark.parametrize("in_book", [True, False])
def test_a_numbered_object_shows_in_the_cell_only_outside_the_book_build(
    glued: dict, monkeypatch: pytest.MonkeyPatch, in_book: bool
) -> None:
    import IPython.display

    shown: list[object] = []
    monkeypatch.setattr(IPython.display, "display", lambda *objects: shown.extend(objects))
    if in_book:
        monkeypatch.setenv(display.BOOK_BUILD_ENV, "1")
    else:
        monkeypatch.delenv(display.BOOK_BUILD_ENV, raising=False)
    table = pd.DataFrame({"a": [1]})
    display.glue_numbered("tab-y", table, "profile quick")
    # In JupyterLab a rerun chapter shows the table and its provenance; the book shows them at the directive only.
    assert shown == ([] if in_book else [table, glued["tab-y-provenance"]])
