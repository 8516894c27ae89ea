"""Publishing the book: what the chapters glue and how the edition is built and printed.

- :mod:`.glue`: numbered figures and tables handed to their ``{glue:figure}`` / ``{glue:table}`` directives, and
  the provenance line under each.
- :mod:`.sphinx_tables`: the ``{glue:table}`` directive (a Sphinx extension).
- :mod:`.footer`: the footer naming the edition on every page (a Sphinx extension).
- :mod:`.edition`: the edition (version, commit, build date, profile) and the machine the studies ran on.
- :mod:`.printing`: the PDF edition, printed by headless Chromium (``python -m gradcam_study.publishing.printing``).
"""
