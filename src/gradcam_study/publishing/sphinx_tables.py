"""Sphinx extension of the book: ``{glue:table}``, a glued table numbered as "Table N.M".

MyST-NB's ``{glue:figure}`` wraps any glued output in a figure, so a glued pandas table would be numbered
"Figure N.M". This extension adds ``{glue:table}``: the same directive (a key, ``:name:``, a caption paragraph,
then a legend), whose node is a :class:`numbered_table`, an enumerable node of Sphinx's figure type
``"table"``. ``numfig`` then counts it with the tables and ``{numref}`` prints "Table N.M". Builders write it as
a figure (an HTML ``<figure class="numbered-table">``, caption and legend in its ``<figcaption>``);
``_static/numbered.css`` shows the caption above the table and the legend (the provenance line) below it.

Loaded by ``_config.yml`` (``sphinx.extra_extensions``). How a chapter uses it:
:func:`gradcam_study.publishing.glue.glue_numbered`, and the README's "How figures and tables are numbered".
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from myst_nb.ext.glue.directives import PasteFigureDirective


class numbered_table(nodes.figure):  # noqa: N801 (docutils names node classes in lower case)
    """A figure-like node (pasted output, caption, legend) that Sphinx numbers as a table."""


class PasteTableDirective(PasteFigureDirective):
    """``{glue:table} key``: MyST-NB's ``{glue:figure}``, numbered as a table."""

    def run(self) -> list[nodes.Node]:
        produced = super().run()
        figure = produced[0]
        if not isinstance(figure, nodes.figure):  # a missing key: MyST-NB's warning, passed on
            return produced
        table = numbered_table(figure.rawsource, *figure.children, **figure.attributes)
        table["classes"].append("numbered-table")
        table.source, table.line = figure.source, figure.line
        # add_name() registered the figure's ids: the label of the :name: must find this node instead.
        for node_id in table["ids"]:
            self.state.document.ids[node_id] = table
        return [table, *produced[1:]]


def _visit(translator: Any, node: numbered_table) -> None:
    translator.visit_figure(node)


def _depart(translator: Any, node: numbered_table) -> None:
    translator.depart_figure(node)


def setup(app: Any) -> dict[str, Any]:
    """Register the node as an enumerable "table" (written as a figure by every builder) and the directive."""
    handlers = {builder: (_visit, _depart) for builder in ("html", "latex", "text", "man", "texinfo")}
    app.add_enumerable_node(numbered_table, "table", **handlers)
    app.add_directive_to_domain("glue", "table", PasteTableDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
