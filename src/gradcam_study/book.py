"""The studies the book's chapters read, defined once: the CLI computes them before the book is built
(with progress bars in the terminal), and the chapters read them back from the cache.

Each study is named by an identifier: ``"main"`` (the profile's model over all the images of its data set, at
its last map and inner layer with every method and the deletion/insertion curves, and, from the same pass per
batch, at every layer of the depth sweep with the paper's three methods) and ``"architecture:<model>"`` (another
model at its last map and its inner layer, all images, the paper's three methods, no curves). ``"depth"`` names
the main study too: the depth chapter reads its sweep layers.

>>> from gradcam_study import book
>>> [study.name for study in book.book_studies("quick")][:1]
['main']
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import settings
from .methods import PAPER_METHODS
from .models import MODELS, ModelSpec, model_spec, weights_missing
from .presentation.labels import layer_label
from .study import LayerResults, StudyConfig, StudyResults, profile, run_profile

log = logging.getLogger(__name__)

#: What the sweeps leave to the main study: they compare the paper's three methods, without deletion/insertion.
SWEEP_SETTINGS: dict[str, object] = {"methods": PAPER_METHODS, "curve_limit": 0}

#: The models the architecture comparison covers, when their weights are present.
ARCHITECTURES = ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2", "vgg16", "resnet50")


def missing_weights(name: str) -> str | None:
    """Why model ``name`` is left out of the book (its weights are missing), or None; a rehearsal leaves out no
    model, since every model runs with random weights."""
    return None if settings.rehearsal_images() is not None else weights_missing(MODELS[name])


@dataclass(frozen=True)
class BookStudy:
    """One study of the book: its identifier and the overrides of the profile's configuration."""

    name: str
    overrides: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def run(self, progress: bool = False, **options: Any) -> StudyResults:
        return run_profile(progress=progress, **self.overrides, **options)


def depth_layers(spec: ModelSpec) -> tuple[str, ...]:
    """The depth sweep's layers, from the input side: per stage its non-negative map (where the stage outputs are
    signed; :attr:`~gradcam_study.models.ModelSpec.nonnegative_stages`) and its output, then the model's last map.

    >>> depth_layers(model_spec("efficientnet_lite0"))[:3]
    ('_blocks.0._project_conv:input', '_blocks.0', '_blocks.2._project_conv:input')
    """
    nonnegative = dict(zip(spec.stages, spec.nonnegative_stages))
    ordered = [layer for stage in spec.stages for layer in (nonnegative.get(stage), stage) if layer is not None]
    return tuple(dict.fromkeys((*ordered, spec.layer)))


#: The image count a preview's curve subset is scaled against when the profile sets no image limit (the 1000-image
#: sample's size).
PREVIEW_BASE = 1000

#: Other names of book studies: the depth chapter reads the main study, which holds its layers.
ALIASES = {"depth": "main"}


def preview_overrides(config: StudyConfig, limit: int | None) -> dict[str, object]:
    """The overrides of a preview limited to ``limit`` images (``GRADCAM_STUDY_LIMIT``; none when None): that many
    images, evenly spread, and the deletion/insertion subset cut in the same proportion (at least one image).

    >>> preview_overrides(StudyConfig(curve_limit=200), 250)
    {'limit': 250, 'curve_limit': 50}
    """
    if limit is None:
        return {}
    total = config.limit or PREVIEW_BASE
    limit = min(limit, total)
    overrides: dict[str, object] = {"limit": limit}
    if config.curve_limit:
        overrides["curve_limit"] = max(1, round(config.curve_limit * limit / total))
    elif config.curve_limit is None:
        overrides["curve_limit"] = limit
    return overrides


def book_studies(profile_name: str | None = None, limit: int | None = None) -> list[BookStudy]:
    """The studies the book reads in the given profile, in the order the CLI computes them; ``limit`` (else
    ``GRADCAM_STUDY_LIMIT``) makes a preview of at most that many images per study."""
    chosen = profile(settings.profile_name(profile_name))
    spec = model_spec(chosen.config.model)
    preview = preview_overrides(chosen.config, settings.book_limit(limit))
    sweep = depth_layers(spec)
    main = chosen.config.main_layers()
    studies = [
        BookStudy("main", {"sweep_layers": sweep, **preview},
                  f"{spec.name} at {', '.join(main)} (every method), and at "
                  f"{len([layer for layer in sweep if layer not in main])} more depths (the paper's three)"),
    ]
    for name in ARCHITECTURES:
        if name == spec.name or missing_weights(name) is not None:
            continue
        studies.append(BookStudy(
            f"architecture:{name}", {"model": name, **SWEEP_SETTINGS, **preview, "curve_limit": 0},
            f"{name} at its last map and inner layer",
        ))
    return studies


def study(name: str, profile_name: str | None = None, progress: bool = False) -> StudyResults:
    """The book study ``name`` (``"main"``, ``"depth"``, ``"architecture:<model>"``), computed or read back."""
    name = ALIASES.get(name, name)
    for candidate in book_studies(profile_name):
        if candidate.name == name:
            return candidate.run(progress=progress, name=profile_name)
    raise ValueError(f"No book study {name!r} in this profile; known: "
                     f"{', '.join(s.name for s in book_studies(profile_name))}.")


def architecture_studies(
    profile_name: str | None = None, depth: StudyResults | None = None
) -> dict[str, StudyResults | str]:
    """Per model of :data:`ARCHITECTURES`: its study (the depth study for the profile's own model, which holds
    its last map and inner layer; pass ``depth`` when it is already read), or the reason it was left out."""
    own = profile(settings.profile_name(profile_name)).config.model
    found: dict[str, StudyResults | str] = {}
    for name in ARCHITECTURES:
        missing = missing_weights(name)
        if name == own:
            found[name] = depth if depth is not None else study("depth", profile_name)
        elif missing is not None:
            found[name] = f"{name} is left out: {missing}."
        else:
            found[name] = study(f"architecture:{name}", profile_name)
    return found


def depth_settings(depth: StudyResults) -> dict[str, LayerResults]:
    """The depth sweep's layers of ``study("depth")`` (:func:`depth_layers`), from the input side, keyed by the
    layer's label."""
    return {layer_label(layer): depth.at(layer) for layer in depth_layers(model_spec(depth.config.model))
            if layer in depth.layers}


def architecture_settings(
    studies: Mapping[str, StudyResults | str],
) -> tuple[dict[str, LayerResults], list[str]]:
    """From :func:`architecture_studies`: every model whose weights are present, at its last map and at its inner
    layer (keyed ``"<model> at <layer label>"``), and a sentence per model left out."""
    settings_found: dict[str, LayerResults] = {}
    left_out: list[str] = []
    for name, found in studies.items():
        if isinstance(found, str):
            left_out.append(found)
            continue
        spec = model_spec(name)
        for layer in dict.fromkeys((spec.layer, spec.inner_layer or spec.layer)):
            settings_found[f"{name} at {layer_label(layer)}"] = found.at(layer)
    return settings_found, left_out


def study_times(profile_name: str | None = None) -> pd.DataFrame:
    """Per book study (index: its identifier): images analysed, layers, the seconds its computation took (summed
    over resumed runs), images per second, how its forward passes ran and what compiling them cost. Read back from
    the cache: each study must have been computed (``python -m gradcam_study book``)."""
    rows = {}
    for planned in book_studies(profile_name):
        found = planned.run(name=profile_name)
        rows[planned.name] = {
            "images": len(found.images),
            "layers": len(found.layers),
            "seconds": found.seconds,
            "images_per_second": len(found.images) / found.seconds if found.seconds > 0 else float("nan"),
            "forward_mode": found.forward_mode,
            "warmup_seconds": found.warmup_seconds,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("study")


def this_build(profile_name: str | None = None) -> str:
    """What this build of the book reads, as lines of text: the profile and its description, the data set, the
    device, the package version, and per book study its key, model, image count and layers. Read back from the
    cache, like :func:`study_times`.

    >>> print(this_build())   # doctest: +SKIP
    profile:     quick
    ...
    """
    from . import __version__

    active = profile(settings.profile_name(profile_name))
    lines = [
        f"profile:     {active.name}",
        f"description: {active.description}",
        f"data set:    {settings.configured_data_dir() or active.dataset_label + ' (fetched into the cache)'}",
        f"device:      {settings.device(default=active.device)}",
        f"package:     gradcam_study {__version__}",
    ]
    for planned in book_studies(profile_name):
        found = planned.run(name=profile_name)
        layers = ", ".join(layer_label(layer) for layer in found.layers)
        lines.append(f"study {planned.name}: key {found.key}, {found.config.model}, {len(found.images)} images, "
                     f"layers {layers}")
    return "\n".join(lines)


def prepare(
    profile_name: str | None = None,
    *,
    progress: bool = True,
    stamp: Path | None = None,
    execution_cache: Path | None = None,
    report: Callable[[str], None] = print,
) -> dict[str, str]:
    """Compute (or read back) every study of the book, and return their keys by study name.

    When ``stamp`` holds the keys of the previous build and they differ, ``execution_cache`` (the book's
    jupyter-cache) is removed, so that every chapter re-executes against the new results even though its
    own cells did not change; the new keys are then written to ``stamp``.
    """
    keys: dict[str, str] = {}
    planned = book_studies(profile_name)
    for number, book_study in enumerate(planned, start=1):
        report(f"[{number}/{len(planned)}] study '{book_study.name}': {book_study.description}")
        keys[book_study.name] = book_study.run(progress=progress, name=profile_name).key
    # The sanity checks and the score comparison of book/sanity_checks.md and book/score_choice.md.
    from .findings.sanity import prepare_book as prepare_sanity

    keys.update(prepare_sanity(profile_name, progress=progress, report=report))
    keys["profile"] = profile(settings.profile_name(profile_name)).name
    if stamp is not None:
        previous = json.loads(stamp.read_text()) if stamp.is_file() else None
        if previous != keys and execution_cache is not None and execution_cache.exists():
            report(f"The studies changed since the last build: removing {execution_cache} so that every chapter reruns.")
            shutil.rmtree(execution_cache)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps(keys, indent=2, sort_keys=True) + "\n")
    return keys


__all__ = ["ALIASES", "ARCHITECTURES", "BookStudy", "architecture_settings", "architecture_studies", "book_studies", "depth_layers",
           "depth_settings", "prepare", "preview_overrides", "study", "study_times", "this_build"]
