"""Presentation: how the package's results are shown to people, and nothing else.

- :mod:`.labels`: identifiers to labels (methods, pairs, score kinds, columns, layers).
- :mod:`.formats`: numbers to text (decimals, ratios, intervals, p-values, lists).
- :mod:`.tables`: result frames to displayed tables.
- :mod:`.plots`, :mod:`.sanity_figures` and :mod:`.alpha_figures`: the book's figures.

Study code (:mod:`gradcam_study.study`) never imports this package; :mod:`gradcam_study.findings` and the chapters do.
"""
