"""Values the small chapters print: the analysis plan's quoted criteria, the study times table, this build's
summary (gradcam_study.findings.plan, gradcam_study.presentation.tables, gradcam_study.book)."""

from __future__ import annotations

import pandas as pd
import pytest

from gradcam_study import book
from gradcam_study.findings.plan import criteria, criteria_table, plan_values
from gradcam_study.presentation.tables import study_times_table
from gradcam_study.study import verdicts


def test_the_plan_quotes_every_criterion_it_names_from_verdicts(monkeypatch: pytest.MonkeyPatch) -> None:
    values = plan_values()
    assert values["plan-margin"] == f"{verdicts.EQUIVALENCE_MARGIN:.0%}"
    assert set(f"plan-bound-{name}" for name in verdicts.PRACTICAL_BOUNDS) <= set(values)
    monkeypatch.setattr("gradcam_study.findings.plan.MIN_IMAGES_FOR_VERDICT", 7)
    assert plan_values()["plan-min-images"] == "7"
    html = criteria_table().to_html()
    assert all(name in html for name in ("NEAR_HALF", "DEPENDENCE_CRITERION", "IDENTICAL_TOLERANCE"))
    assert criteria().loc["NEAR_HALF", "value"] == verdicts.NEAR_HALF


def test_study_times_are_labelled_and_rounded() -> None:
    times = pd.DataFrame({"images": [24], "layers": [2], "seconds": [12.6], "images_per_second": [1.9047],
                          "forward_mode": ["eager"], "warmup_seconds": [0.0]}, index=pd.Index(["main"], name="study"))
    html = study_times_table(times).to_html()
    assert "time (s)" in html and ">13<" in html and ">1.90<" in html


def test_this_build_names_the_profile_and_every_study(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    found = SimpleNamespace(key="abc", config=SimpleNamespace(model="m"), images=range(3), layers=("x:input",))
    studies = [SimpleNamespace(name="main", run=lambda **options: found)]
    monkeypatch.setattr(book, "book_studies", lambda profile_name=None: studies)
    lines = book.this_build("quick").splitlines()
    assert lines[0] == "profile:     quick" and lines[4].startswith("package:     gradcam_study ")
    assert lines[-1] == "study main: key abc, m, 3 images, layers x (input)"
