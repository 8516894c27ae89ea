"""Presentation: how the package's results are shown to people, and nothing else.

- :mod:`.labels`: identifiers to labels (methods, pairs, score kinds, columns, layers).
- :mod:`.formats`: numbers to text (decimals, ratios, intervals, p-values, lists).
- :mod:`.tables`: result frames to displayed tables.
- :mod:`.comparisons`: the figures and tables comparing the paper's methods (Figures 5 and 6, eq. (15)'s maps, the
  margins, the threshold).
- :mod:`.plots`, :mod:`.sanity_figures`, :mod:`.alpha_figures` and :mod:`.family_figures`: the book's figures.

Study code (:mod:`gradcam_study.study`) never imports this package; :mod:`gradcam_study.findings` and the chapters do.
"""
