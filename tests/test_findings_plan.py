"""The analysis plan's table lists every declared criterion of gradcam_study.study.verdicts, with its value."""

from __future__ import annotations

import pytest

from gradcam_study.findings.plan import criteria, criteria_table, plan_values
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


def test_the_plan_quotes_every_criterion_it_names_from_verdicts(monkeypatch: pytest.MonkeyPatch) -> None:
    values = plan_values()
    assert values["plan-margin"] == f"{verdicts.EQUIVALENCE_MARGIN:.0%}"
    assert set(f"plan-bound-{name}" for name in verdicts.PRACTICAL_BOUNDS) <= set(values)
    monkeypatch.setattr("gradcam_study.findings.plan.MIN_IMAGES_FOR_VERDICT", 7)
    assert plan_values()["plan-min-images"] == "7"
    html = criteria_table().to_html()
    assert all(name in html for name in ("NEAR_HALF", "DEPENDENCE_CRITERION", "IDENTICAL_TOLERANCE"))
    assert criteria().loc["NEAR_HALF", "value"] == verdicts.NEAR_HALF
