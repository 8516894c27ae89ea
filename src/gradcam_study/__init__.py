"""Grad-CAM, Grad-CAM+ and Grad-CAM++ from one pass, and the study of Lerma & Lucas (2022).

Sub-packages: :mod:`~gradcam_study.capture` (hooks), :mod:`~gradcam_study.methods` (the
arithmetic), :mod:`~gradcam_study.metrics`, :mod:`~gradcam_study.models`,
:mod:`~gradcam_study.data`, :mod:`~gradcam_study.study` and :mod:`~gradcam_study.symbolic`.
"""

__version__ = "0.1.0"
