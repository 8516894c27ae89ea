"""Findings: typed readings of a study that the chapters glue into their Markdown.

A study (:mod:`gradcam_study.study`) computes numbers and decides verdicts by the declared criteria of
:mod:`gradcam_study.study.verdicts`; a finding reads them for a chapter: the sentence or clause whose words depend
on the result (better, worse, alike), the tables beside the paper's, the headline. Findings print through
:mod:`gradcam_study.presentation`; study code never imports this package.

- :mod:`.words`: verdicts and tests in words (the one place a verdict becomes a phrase).
- :mod:`.plan`: every declared criterion as a table, for the analysis plan.
- :mod:`.headline`: what holds, by kind of layer.
- :mod:`.sweeps`: the depth and architecture sweeps as tables and sentences.
- :mod:`.yardsticks`: the yardsticks as sentences.
- :mod:`.sanity`: the sanity checks and the choice of score as tables and sentences.
- :mod:`.family`: the Grad-CAM family chapter's live examples (the images, the composite, eq. (9) against eq. (13)).
- :mod:`.pairs`: one pair of methods read from a statistics frame; whether the alphas move the result less than the
  positive gradients.
- :mod:`.empirical`: the empirical tests (Table 1, Table 2, Figure 6, margins, threshold, inner layer) in words.
- :mod:`.heatmaps`: the heatmaps side by side and their similarity in words.
- :mod:`.alphas`: the alphas, nearly constant: one image's extremes, boxplot numbers, near-half shares, eq. (14).
- :mod:`.instability`: the alphas, numerically unstable: extremes, the pole table, the inner layer.
- :mod:`.claims`: the paper's claims checked, for the conclusions: what held and what did not.
"""
