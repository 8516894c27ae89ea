"""The analysis plan's table lists every declared criterion of gradcam_study.study.verdicts, with its value."""

from __future__ import annotations

from gradcam_study.findings.plan import criteria
from gradcam_study.study import verdicts
from gradcam_study.study.verdicts import MIN_IMAGES_FOR_VERDICT, PRACTICAL_BOUNDS

#: Constants of the module that are not criteria: the set of margins swept and the pair of margins shown.
NOT_CRITERIA = {"EQUIVALENCE_MARGINS", "SHOWN_MARGINS", "PRACTICAL_BOUNDS"}


def test_criteria_list_every_declared_value() -> None:
    table = criteria()
    assert table.loc["MIN_IMAGES_FOR_VERDICT", "value"] == MIN_IMAGES_FOR_VERDICT
    assert table.loc["WILCOXON_ZERO_METHOD", "value"] == "zsplit"
    for name, bound in PRACTICAL_BOUNDS.items():
        assert table.loc[f"PRACTICAL_BOUNDS[{name!r}]", "value"] == bound
    declared = [name for name, value in vars(verdicts).items()
                if name.isupper() and isinstance(value, (int, float, str)) and name not in NOT_CRITERIA]
    assert "NEAR_HALF" in declared and "DEPENDENCE_CRITERION" in declared
    for name in declared:
        assert table.loc[name, "value"] == getattr(verdicts, name), name
        assert table.loc[name, "source"] == f"gradcam_study.study.verdicts.{name}"
