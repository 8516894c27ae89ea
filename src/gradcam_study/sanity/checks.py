"""The sanity checks of the book, computed once and cached: model randomisation (cascading and independent) and the
logit-shift vulnerability, on an evenly spread subset of the images.

Per batch, the trained model is captured once (activations and gradients of every score kind at the model's last map
and inner layer); each randomisation step then costs one capture of the randomised model, which starts from the
trained activations entering the first re-initialised block (:class:`~gradcam_study.sanity.randomisation.FromBlock`),
and the logit shift one capture of the wrapped model. No explanation map is formed: the checks compare heatmaps.

Each method's heatmap is compared with the trained model's, image by image, after bilinear upsampling of both to
``similarity_size`` pixels a side: Spearman's rank correlation of the *signed* maps (before the final ReLU:
:math:`\\sum_k w_k A^k`, or the pixel-wise sum) and of their absolute values (Adebayo et al. report both), and the
SSIM of the heatmaps as shown (ReLU, min-max normalised).

Results are stored under ``<cache>/sanity/<key>/``, the key a hash of the configuration, the images and the code, so
that a rebuild reads them back. ``GRADCAM_STUDY_SANITY_LIMIT`` overrides the number of images (quick runs).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch.utils.data import DataLoader
from tqdm import tqdm

from .. import __version__, settings
from ..capture import ALL_SCORE_KINDS, SCORE_KINDS, LayerCaptures, ScoreKind, capture_layers
from ..data import LabelledImageDataset, collate, list_images
from ..methods import CHANNEL_WEIGHTS, METHODS, min_max_normalise, upsample
from ..models import default_layers, load_classifier, model_spec
from ..study.config import profile, select_images, source_fingerprint
from .randomisation import (
    FromBlock, block_inputs, cascading_steps, first_block, independent_steps, randomised, run_blocks,
)
from .similarity import ssim_per_image, unit_ranks
from .vulnerability import TOP_FRACTION, ShiftedLogits, heatmap_change

log = logging.getLogger(__name__)

#: Environment variable: the number of images of the sanity checks and of the score comparison (quick runs).
LIMIT_ENV = "GRADCAM_STUDY_SANITY_LIMIT"
#: The sanity checks' images by default: an evenly spread subset of the data set (what two CPU cores afford).
DEFAULT_LIMIT = 200
#: The measures of :func:`compare_maps`, per image.
MEASURES = ("spearman", "spearman_absolute", "ssim")
#: The experiments: cascading randomisation (from the head down) and one stage at a time.
EXPERIMENTS = ("cascading", "independent")
#: The pairs of score kinds whose heatmaps :attr:`SanityResults.kinds` compares.
KIND_PAIRS: tuple[tuple[ScoreKind, ScoreKind], ...] = (
    ("pre_softmax", "post_softmax"), ("post_softmax", "log_softmax"), ("pre_softmax", "log_softmax"))
#: The shift's layer and map: the model's last map (the input of its pooling layer), its first map.
SHIFT_LAYER = "_avg_pooling:input"


#: The fewest images of a preview's sanity checks (``GRADCAM_STUDY_LIMIT``), the minimum for any verdict.
PREVIEW_MINIMUM = 10


def sanity_limit(default: int | None = DEFAULT_LIMIT) -> int | None:
    """The number of images: ``GRADCAM_STUDY_SANITY_LIMIT`` when set (a positive integer); else, in a preview of the
    book (``GRADCAM_STUDY_LIMIT``), ``default`` cut in the preview's proportion of the 1000-image sample (at least
    :data:`PREVIEW_MINIMUM`); else ``default``."""
    from .. import settings

    text = os.environ.get(LIMIT_ENV)
    if not text:
        preview = settings.book_limit()
        if preview is None or default is None:
            return default
        return min(default, max(PREVIEW_MINIMUM, round(default * preview / 1000)))
    if not text.isdigit() or int(text) <= 0:
        raise ValueError(f"{LIMIT_ENV} must be a positive integer, got {text!r}.")
    return int(text)


@dataclass(frozen=True)
class SanityConfig:
    """Everything that decides the sanity checks' results."""

    model: str = "efficientnet_lite0"
    limit: int | None = DEFAULT_LIMIT
    #: The seed every stage's re-initialisation is derived from.
    seed: int = 0
    score_kinds: tuple[ScoreKind, ...] = SCORE_KINDS
    #: The side, in pixels, both maps are upsampled to before they are compared.
    similarity_size: int = 56
    #: The logit shift: ``shift_scale`` times the sum of map ``shift_channel`` of ``shift_layer``.
    shift_layer: str = SHIFT_LAYER
    shift_channel: int = 0
    shift_scale: float = 1.0
    top_fraction: float = TOP_FRACTION
    batch_size: int = 16
    #: Images whose feature-map heatmaps are kept for the figure of examples (the first ones of the subset).
    example_images: int = 8

    def layers(self) -> tuple[str, ...]:
        return default_layers(model_spec(self.model))


def signed_maps(activations: Tensor, gradients: Tensor, method: str) -> Tensor:
    r"""``method``'s map before its final ReLU, ``B x H x W``: :math:`\sum_k w_k A^k` for the channel weightings,
    :math:`\sum_k g^k \odot A^k` (HiResCAM) or :math:`\sum_k \mathrm{ReLU}(g^k) \odot A^k` (LayerCAM). Its ReLU,
    min-max normalised, is the heatmap of :func:`~gradcam_study.methods.normalised_heatmaps`.

    >>> import torch
    >>> A = torch.tensor([[[[1.0, 2.0]], [[3.0, 0.0]]]]); g = torch.tensor([[[[1.0, -1.0]], [[0.5, 2.0]]]])
    >>> signed_maps(A, g, "hires_cam").tolist()
    [[[2.5, -2.0]]]
    """
    if method in CHANNEL_WEIGHTS:
        return torch.einsum("bk,bkhw->bhw", CHANNEL_WEIGHTS[method](activations, gradients), activations)
    if method == "hires_cam":
        return (gradients * activations).sum(dim=1)
    if method == "layer_cam":
        return (gradients.clamp(min=0) * activations).sum(dim=1)
    raise ValueError(f"Unknown method {method!r}; known: {', '.join(METHODS)}.")


@dataclass(frozen=True)
class Reference:
    """The trained model's side of every comparison, computed once per batch (see :func:`reference_maps`)."""

    ranks: Tensor
    absolute_ranks: Tensor
    heatmaps: Tensor


def _upsampled(maps: Tensor, size: int) -> Tensor:
    return upsample(maps.float(), (size, size)).squeeze(1)


def reference_maps(trained: Tensor, size: int) -> Reference:
    """The trained signed maps (``B x h x w``) upsampled to ``size``: their unit ranks, those of their absolute
    values, and their heatmaps (ReLU, min-max normalised)."""
    up = _upsampled(trained, size)
    return Reference(unit_ranks(up), unit_ranks(up, absolute=True),
                     _upsampled(min_max_normalise(trained.clamp(min=0)), size))


def compare_maps(trained: Tensor | Reference, changed: Tensor, size: int) -> dict[str, Tensor]:
    """The :data:`MEASURES` of two batches of signed maps (``B x h x w``; the first may be a :class:`Reference`), per
    image, after upsampling to ``size``: Spearman of the signed maps and of their absolute values, SSIM of the
    heatmaps (ReLU, min-max normalised)."""
    reference = trained if isinstance(trained, Reference) else reference_maps(trained, size)
    up = _upsampled(changed, size)
    return {
        "spearman": (reference.ranks * unit_ranks(up)).sum(dim=1),
        "spearman_absolute": (reference.absolute_ranks * unit_ranks(up, absolute=True)).sum(dim=1),
        "ssim": ssim_per_image(reference.heatmaps, _upsampled(min_max_normalise(changed.clamp(min=0)), size)),
    }


def stacked_maps(captured: LayerCaptures, layer: str, kinds: Sequence[ScoreKind]) -> Tensor:
    """The signed maps of every score kind of ``kinds`` and method at ``layer``, in one
    ``(kinds x methods x B) x h x w`` batch: kind first, then method (:data:`~gradcam_study.methods.METHODS`), then image."""
    activations = captured.activations[layer]
    return torch.cat([signed_maps(activations, captured.gradients[layer][kind], method)
                      for kind in kinds for method in METHODS])


def _select(stacked: Tensor, kinds: Sequence[ScoreKind], wanted: Sequence[ScoreKind]) -> Tensor:
    parts = stacked.chunk(len(kinds))
    return torch.cat([parts[kinds.index(kind)] for kind in wanted])


def _frame(ids: list[int], kinds: Sequence[ScoreKind], values: dict[str, Tensor], **constant: str) -> pd.DataFrame:
    """Rows of per-image values of a stacked batch (kind, then method, then image)."""
    count = len(ids)
    return pd.DataFrame({
        "image": np.tile(ids, len(kinds) * len(METHODS)),
        **constant,
        "kind": np.repeat(list(kinds), len(METHODS) * count),
        "method": np.tile(np.repeat(list(METHODS), count), len(kinds)),
        **{name: value.detach().cpu().numpy() for name, value in values.items()},
    })


def _keep_examples(examples: dict[str, list[np.ndarray]], prefix: str, layer: str, kinds: Sequence[ScoreKind],
                   stacked: Tensor, keep: list[int]) -> None:
    heatmaps = min_max_normalise(stacked.clamp(min=0)).cpu()
    count = stacked.shape[0] // (len(kinds) * len(METHODS))
    for position, (kind, method) in enumerate((k, m) for k in kinds for m in METHODS):
        chosen = heatmaps[position * count: (position + 1) * count][keep]
        examples.setdefault(f"{prefix}/{layer}/{kind}/{method}", []).append(chosen.numpy())


@dataclass(frozen=True)
class SanityResults:
    """The sanity checks' per-image results.

    ``images``: one row per analysed image (``image`` its position in the data set's listing, ``path``, ``label``,
    the trained model's ``probability`` of it and ``predicted`` class); ``similarity``: one row per image,
    experiment, step, layer, score kind and method with the :data:`MEASURES`; ``vulnerability``: one row per
    image, layer, score kind and method with the change of the heatmap under the logit shift (``correlation``,
    ``top_overlap``, ``max_difference``) and the largest change of any class probability
    (``probability_difference``); ``examples``: feature-map heatmaps of the first images, by
    ``"<experiment>/<step>/<layer>/<kind>/<method>"`` (``"trained/..."`` for the trained model).
    """

    key: str
    config: SanityConfig
    images: pd.DataFrame
    similarity: pd.DataFrame
    vulnerability: pd.DataFrame
    #: One row per image, layer, method and pair of score kinds (``kind``, ``other``) of the trained model: how far
    #: the heatmaps of the two kinds are apart (``correlation``, ``top_overlap``, ``max_difference``).
    kinds: pd.DataFrame
    examples: dict[str, np.ndarray]
    #: Seconds per image of one randomisation step (the capture and the comparisons), mean over the steps.
    step_seconds_per_image: float
    seconds: float
    device: str
    data_root: Path
    total_images: int
    skipped: int = 0
    steps: dict[str, list[str]] = field(default_factory=dict)
    #: The images (``image`` of :attr:`images`) whose heatmaps :attr:`examples` holds, in its order.
    example_images: list[int] = field(default_factory=list)


def _fingerprint() -> str:
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256(source_fingerprint().encode())
    for file in sorted(root.glob("*.py")):
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def sanity_key(config: SanityConfig, listing: list[tuple[str, int, int]], device_type: str) -> str:
    """A hash of the configuration, the images (relative paths, sizes, labels), the device type, the version and
    the code (the study's result sources and this sub-package)."""
    payload = {"config": asdict(config), "images": listing, "device_type": device_type, "version": __version__,
               "code": _fingerprint()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _data_root(profile_name: str | None) -> Path:
    if settings.configured_data_dir() is not None:
        return settings.data_dir()
    from ..data import fetch

    chosen = profile(settings.profile_name(profile_name))
    if chosen.dataset != "imagenet-sample":
        return fetch.fetch_imagenetv2(settings.cache_dir())
    return fetch.fetch_imagenet_sample(settings.cache_dir())


def run_sanity_checks(
    config: SanityConfig | None = None,
    *,
    profile_name: str | None = None,
    data: str | Path | None = None,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> SanityResults:
    """Compute (or read back from the cache) the sanity checks of ``config`` (default: :class:`SanityConfig` with the
    limit of :func:`sanity_limit`) on the profile's images."""
    config = config or replace(SanityConfig(), limit=sanity_limit())
    if config.limit is not None and config.limit <= 0:
        raise ValueError(f"The image limit must be positive, got {config.limit}.")
    root = Path(data) if data is not None else _data_root(profile_name)
    chosen_device = settings.device(device, default=profile(settings.profile_name(profile_name)).device)
    folder = list_images(root)
    images = select_images(folder, config.limit)
    listing = [(str(i.path.relative_to(root)), i.path.stat().st_size, i.label) for i in images]
    key = sanity_key(config, listing, chosen_device.type)
    where = settings.cache_dir() / "sanity" / key
    if not (where / "meta.json").is_file():
        _compute(config, root, images, chosen_device, where, progress)
    meta = json.loads((where / "meta.json").read_text())
    with np.load(where / "examples.npz") as stored:
        examples = {name: stored[name] for name in stored.files}
    return SanityResults(
        key=key, config=config,
        images=pd.read_csv(where / "images.csv"),
        similarity=pd.read_csv(where / "similarity.csv.gz"),
        vulnerability=pd.read_csv(where / "vulnerability.csv.gz"),
        kinds=pd.read_csv(where / "kinds.csv.gz"),
        examples=examples,
        step_seconds_per_image=meta["step_seconds_per_image"], seconds=meta["seconds"], device=meta["device"],
        data_root=root, total_images=len(folder), skipped=meta["skipped"], steps=meta["steps"],
        example_images=meta["example_images"],
    )


def _steps(config: SanityConfig) -> list[tuple[str, tuple[str, ...]]]:
    spec = model_spec(config.model)
    return ([("cascading", s) for s in cascading_steps(spec)]
            + [("independent", s) for s in independent_steps(spec)])


def _compute(config: SanityConfig, root: Path, images: list, device: torch.device, where: Path, progress: bool) -> None:
    started = time.perf_counter()
    classifier = load_classifier(config.model, device=device)
    network, spec = classifier.network, classifier.spec
    layers = config.layers()
    steps = _steps(config)
    loader = DataLoader(LabelledImageDataset(images, classifier.to_pixels), batch_size=config.batch_size,
                        collate_fn=collate, num_workers=min(2, os.cpu_count() or 1))
    example_ids = set(range(min(config.example_images, len(images))))
    similarity: list[pd.DataFrame] = []
    vulnerability: list[pd.DataFrame] = []
    kinds: list[pd.DataFrame] = []
    image_rows: list[dict[str, object]] = []
    examples: dict[str, list[np.ndarray]] = {}
    step_seconds, step_images, skipped = 0.0, 0, 0
    tapped_blocks = [int(layer.split(".")[1]) for layer in layers if layer.startswith("_blocks.")]
    bar = tqdm(total=len(images), unit="img", disable=not progress, desc="sanity checks")
    with bar:
        for batch in loader:
            for item in batch.skipped:
                log.warning("Skipped %s: %s", item.path, item.reason)
            skipped += len(batch.skipped)
            if not len(batch.indices):
                bar.update(len(batch.skipped))
                continue
            ids = batch.indices.tolist()
            labels = batch.labels.to(device)
            inputs = classifier.normalise(batch.pixels.to(device)).contiguous(memory_format=torch.channels_last)
            # Every capture starts at the shallowest tapped block; below it, the activations entering the first
            # re-initialised block are the trained ones, and the blocks between run without building a graph.
            tapped = min(tapped_blocks)
            starts = {first_block(spec, stages) for _, stages in steps}
            entering = block_inputs(network, inputs, sorted({min(s, tapped) for s in starts if s is not None}))
            tail = FromBlock(network, tapped)
            trained = capture_layers(tail, layers, entering[tapped], labels, ALL_SCORE_KINDS)
            probabilities = trained.logits.softmax(dim=1)
            for position, image_id in enumerate(ids):
                image_rows.append({"image": image_id, "path": str(images[image_id].path.relative_to(root)),
                                   "label": int(batch.labels[position]),
                                   "probability": float(probabilities[position, labels[position]]),
                                   "predicted": int(probabilities[position].argmax())})
            keep = [p for p, i in enumerate(ids) if i in example_ids]
            # Per layer, the maps of every score kind and method in one batch (kind, then method, then image), so
            # that each measure is one call per layer and step.
            reference = {layer: stacked_maps(trained, layer, ALL_SCORE_KINDS) for layer in layers}
            compared = {layer: _select(reference[layer], ALL_SCORE_KINDS, config.score_kinds) for layer in layers}
            prepared = {layer: reference_maps(maps, config.similarity_size) for layer, maps in compared.items()}
            if keep:
                for layer in layers:
                    _keep_examples(examples, "trained/trained", layer, config.score_kinds, compared[layer], keep)
            done: dict[tuple[str, ...], dict[str, Tensor]] = {}
            for experiment, stages in steps:
                clock = time.perf_counter()
                if stages not in done:
                    start = first_block(spec, stages)
                    with randomised(network, spec, stages, config.seed):
                        below = inputs if start is None else entering[min(start, tapped)]
                        if start is None or start < tapped:
                            below = run_blocks(network, below, start, tapped)
                        found = capture_layers(tail, layers, below, labels, config.score_kinds)
                    done[stages] = {layer: stacked_maps(found, layer, config.score_kinds) for layer in layers}
                step = stages[-1] if experiment == "cascading" else stages[0]
                for layer in layers:
                    measures = compare_maps(prepared[layer], done[stages][layer], config.similarity_size)
                    similarity.append(_frame(ids, config.score_kinds, measures, experiment=experiment, step=step,
                                             layer=layer))
                    if keep:
                        _keep_examples(examples, f"{experiment}/{step}", layer, config.score_kinds,
                                       done[stages][layer], keep)
                step_seconds += time.perf_counter() - clock
            step_images += len(ids) * len(steps)
            for layer in layers:
                heatmaps = _upsampled(min_max_normalise(reference[layer].clamp(min=0)), config.similarity_size)
                by_kind = dict(zip(ALL_SCORE_KINDS, heatmaps.chunk(len(ALL_SCORE_KINDS))))
                for first, second in KIND_PAIRS:
                    change = heatmap_change(by_kind[first], by_kind[second], config.top_fraction)
                    kinds.append(_frame(ids, (first,), {
                        "correlation": change.correlation, "top_overlap": change.top_overlap,
                        "max_difference": change.max_difference}, layer=layer).assign(other=second))
            shifted = ShiftedLogits(tail, config.shift_layer, config.shift_channel, config.shift_scale)
            wrapped = capture_layers(shifted, [ShiftedLogits.key(layer) for layer in layers], entering[tapped], labels,
                                     ALL_SCORE_KINDS)
            probability_difference = (wrapped.logits.softmax(dim=1) - probabilities).abs().amax(dim=1)
            size = (config.similarity_size, config.similarity_size)
            for layer in layers:
                moved = stacked_maps(wrapped, ShiftedLogits.key(layer), ALL_SCORE_KINDS)
                change = heatmap_change(
                    upsample(min_max_normalise(reference[layer].clamp(min=0)), size).squeeze(1),
                    upsample(min_max_normalise(moved.clamp(min=0)), size).squeeze(1), config.top_fraction)
                vulnerability.append(_frame(ids, ALL_SCORE_KINDS, {
                    "correlation": change.correlation, "top_overlap": change.top_overlap,
                    "max_difference": change.max_difference,
                    "probability_difference": probability_difference.repeat(len(ALL_SCORE_KINDS) * len(METHODS)),
                }, layer=layer))
            bar.update(len(ids) + len(batch.skipped))
    if not image_rows:
        raise ValueError(f"None of the {len(images)} images could be read; see the warnings above.")
    partial = where.with_name(where.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    pd.DataFrame(image_rows).to_csv(partial / "images.csv", index=False)
    pd.concat(similarity, ignore_index=True).to_csv(partial / "similarity.csv.gz", index=False)
    pd.concat(vulnerability, ignore_index=True).to_csv(partial / "vulnerability.csv.gz", index=False)
    pd.concat(kinds, ignore_index=True).to_csv(partial / "kinds.csv.gz", index=False)
    arrays = {k: np.concatenate(v) for k, v in examples.items()}
    np.savez_compressed(partial / "examples.npz", allow_pickle=False, **arrays)
    example_ids_found = [row["image"] for row in image_rows if row["image"] in example_ids]
    (partial / "meta.json").write_text(json.dumps({
        "seconds": time.perf_counter() - started, "device": str(device), "skipped": skipped,
        "step_seconds_per_image": step_seconds / max(step_images, 1), "example_images": example_ids_found,
        "steps": {experiment: [s[-1] if experiment == "cascading" else s[0] for e, s in steps if e == experiment]
                  for experiment in EXPERIMENTS},
    }, indent=2))
    shutil.rmtree(where, ignore_errors=True)
    partial.rename(where)


@lru_cache(maxsize=4)
def _cached(profile_name: str | None, limit: int | None) -> SanityResults:
    return run_sanity_checks(replace(SanityConfig(), limit=limit), profile_name=profile_name)


def sanity_checks(profile_name: str | None = None, progress: bool = False) -> SanityResults:
    """The book's sanity checks (:class:`SanityConfig` defaults, :func:`sanity_limit` images), computed or read back."""
    if progress:
        return run_sanity_checks(replace(SanityConfig(), limit=sanity_limit()), profile_name=profile_name,
                                 progress=True)
    return _cached(profile_name, sanity_limit())


__all__ = ["DEFAULT_LIMIT", "EXPERIMENTS", "LIMIT_ENV", "MEASURES", "SanityConfig", "SanityResults",
           "KIND_PAIRS", "Reference", "compare_maps", "reference_maps", "run_sanity_checks", "sanity_checks",
           "sanity_key", "sanity_limit", "signed_maps"]
