"""The package's rooms: study code never imports presentation, and no module grows past a readable size."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "gradcam_study"
#: The rooms that show results to people; the study computes them and must not depend on how they are shown.
PRESENTATION_ROOMS = ("presentation", "publishing", "findings")
MAX_MODULE_LINES = 600


def imported_modules(path: Path) -> set[str]:
    """Absolute names of the package's modules imported by ``path`` (relative imports resolved)."""
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("gradcam_study")}


def test_study_code_never_imports_presentation() -> None:
    offending = {
        str(path.relative_to(PACKAGE)): sorted(name for name in imported_modules(path)
                                               if name.split(".")[1:2] and name.split(".")[1] in PRESENTATION_ROOMS)
        for path in (PACKAGE / "study").glob("*.py")
    }
    assert not {path: names for path, names in offending.items() if names}


def test_the_import_check_sees_relative_imports(tmp_path: Path) -> None:
    assert "gradcam_study.presentation.labels" in imported_modules(PACKAGE / "findings" / "headline.py")


def test_no_module_is_over_600_lines() -> None:
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.rglob("*.py")}
    assert not {path: lines for path, lines in sizes.items() if lines > MAX_MODULE_LINES}
