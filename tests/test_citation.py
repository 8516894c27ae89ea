"""Citing the book: CITATION.cff is valid CFF 1.2.0, and every BibTeX the reader is given agrees with the package."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from gradcam_study import __version__

from conftest import REPO

SCHEMA = json.loads((Path(__file__).parent / "data" / "cff-1.2.0.schema.json").read_text())


class CffLoader(yaml.SafeLoader):
    """YAML as cffconvert reads CFF: dates stay strings, which is what the schema's ``format: date`` checks."""


CffLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


def cff_errors(citation: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    return [f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
            for error in validator.iter_errors(citation)]


@pytest.fixture(scope="module")
def citation() -> dict:
    return yaml.load((REPO / "CITATION.cff").read_text(encoding="utf-8"), Loader=CffLoader)


def test_citation_cff_is_valid_cff_1_2_0(citation: dict) -> None:
    assert citation["cff-version"] == "1.2.0"
    assert cff_errors(citation) == []


@pytest.mark.parametrize("broken", ["no_authors", "bad_date", "unknown_key"])
def test_a_broken_citation_is_caught(citation: dict, broken: str) -> None:
    changed = copy.deepcopy(citation)
    if broken == "no_authors":
        del changed["authors"]  # required
    elif broken == "bad_date":
        changed["date-released"] = "27 November 2026"
    else:
        changed["citation"] = "not a CFF key"
    assert cff_errors(changed)


def test_citation_cff_cites_this_version(citation: dict) -> None:
    assert citation["version"] == citation["preferred-citation"]["version"] == __version__


def bibtex_entries(text: str) -> dict[str, str]:
    """BibTeX entries by key, each with its whitespace normalised."""
    return {match[1]: " ".join(match[0].split())
            for match in re.findall(r"(@\w+\{([\w:-]+),.*?\n\})", text, flags=re.DOTALL)}


def bibtex_blocks(markdown: Path) -> str:
    return "\n".join(re.findall(r"```bibtex\n(.*?)```", markdown.read_text(encoding="utf-8"), flags=re.DOTALL))


@pytest.mark.parametrize("page", ["book/intro.md", "README.md"])
def test_how_to_cite_gives_the_bibliographys_entries_for_the_book_and_the_paper(page: str) -> None:
    bibliography = bibtex_entries((REPO / "book" / "references.bib").read_text(encoding="utf-8"))
    given = bibtex_entries(bibtex_blocks(REPO / page))
    assert set(given) == {"gradcamstudy2026book", "lerma2022gradcampp"}
    assert all(given[key] == bibliography[key] for key in given), f"{page}'s BibTeX differs from book/references.bib"
    assert f"version {__version__}" in given["gradcamstudy2026book"]
