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
- :mod:`.claims`: the paper's claims checked, for the conclusions: what held and what did not.
"""
