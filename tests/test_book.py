"""The book's studies and the summary of this build (gradcam_study.book)."""

from __future__ import annotations

import pytest

from gradcam_study import book


def test_this_build_names_the_profile_and_every_study(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    found = SimpleNamespace(key="abc", config=SimpleNamespace(model="m"), images=range(3), layers=("x:input",))
    studies = [SimpleNamespace(name="main", run=lambda **options: found)]
    monkeypatch.setattr(book, "book_studies", lambda profile_name=None: studies)
    lines = book.this_build("quick").splitlines()
    assert lines[0] == "profile:     quick" and lines[4].startswith("package:     gradcam_study ")
    assert lines[-1] == "study main: key abc, m, 3 images, layers x (input)"
