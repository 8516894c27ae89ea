"""Stream a data set through :func:`~gradcam_study.study.analysis.analyse_batch`, resumably."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from .. import settings
from ..data import LabelledImage, LabelledImageDataset, collate, list_images
from ..models import Classifier, load_classifier, model_spec, resolve_layer_and_tap
from .analysis import analyse_batch
from .config import Profile, StudyConfig, profile, select_images, study_key, with_overrides
from .results import Provenance, StudyResults
from .store import ResultStore

log = logging.getLogger(__name__)


def default_workers() -> int:
    """Decoding workers: enough to keep up with the model, never more than the cores."""
    return min(4, os.cpu_count() or 1)


def run_study(
    config: StudyConfig,
    data: str | Path,
    *,
    cache: str | Path | None = None,
    device: str | torch.device | None = None,
    batch_size: int = 16,
    num_workers: int | None = None,
    progress: bool = True,
    profile_name: str = "custom",
    dataset_label: str | None = None,
) -> StudyResults:
    """Run (or resume, or reuse) the study ``config`` over the images in ``data``.

    Results go to ``<cache>/results/<key>.sqlite``, one transaction per batch; batches are
    cut at fixed positions so a resumed run computes exactly the batches an uninterrupted
    one would. Unreadable images are skipped, logged and counted.
    """
    root = Path(data)
    chosen_device = settings.device(device)
    images = select_images(list_images(root), config.limit)
    key = study_key(config, images, root, chosen_device.type)
    store_path = settings.cache_dir(cache) / "results" / f"{key}.sqlite"
    layer, tap = resolve_layer_and_tap(model_spec(config.model), config.layer, config.tap)
    provenance = Provenance(
        profile=profile_name,
        model=config.model,
        layer=f"{layer} ({tap})",
        dataset=dataset_label or root.name,
        images=len(images),
        device=str(chosen_device),
    )
    with ResultStore(store_path) as store:
        done = store.done_images()
        batches = [list(range(start, min(start + batch_size, len(images)))) for start in range(0, len(images), batch_size)]
        pending = [batch for batch in batches if not set(batch) <= done]
        store.set_meta(config=asdict(config), provenance=asdict(provenance), total=len(images))
        if pending:
            # Loaded only when there is work: a finished study is read back without touching the weights.
            classifier = load_classifier(
                config.model, pretrained=config.pretrained, layer=config.layer, tap=config.tap, device=chosen_device
            )
            _stream(store, classifier, root, images, pending, config, chosen_device, num_workers, progress, len(done))
        meta = store.meta()
        frame, skipped = store.images(), store.skipped()
    if len(skipped):
        log.warning("%d of %d images could not be read and were skipped.", len(skipped), len(images))
    return StudyResults(
        key=key,
        config=config,
        provenance=Provenance(**{**asdict(provenance), "images": len(frame)}),
        images=frame,
        skipped=skipped,
        store_path=store_path,
        seconds=float(meta.get("seconds", 0.0)),
        data_root=root,
    )


def _stream(
    store: ResultStore,
    classifier: Classifier,
    root: Path,
    images: list[LabelledImage],
    pending: list[list[int]],
    config: StudyConfig,
    device: torch.device,
    num_workers: int | None,
    progress: bool,
    already_done: int,
) -> None:
    workers = default_workers() if num_workers is None else num_workers
    loader = DataLoader(
        LabelledImageDataset(images, classifier.to_pixels),
        batch_sampler=pending,
        collate_fn=collate,
        num_workers=workers,
        pin_memory=device.type == "cuda",
    )
    paths = {i: str(image.path.relative_to(root)) for i, image in enumerate(images)}
    started = time.perf_counter()
    previous = float(store.meta().get("seconds", 0.0))
    bar = tqdm(total=len(images), initial=already_done, unit="img", disable=not progress, desc=config.model)
    with bar, _tf32(config.allow_tf32):
        for batch in loader:
            for item in batch.skipped:
                log.warning("Skipped %s: %s", item.path, item.reason)
            rows, alphas = [], {}
            if len(batch.indices):
                result = analyse_batch(
                    classifier, batch.pixels, batch.labels, batch.indices, config.score_kinds, config.alpha_sample_size
                )
                rows, alphas = result.rows, result.alphas
            store.write_batch(rows, paths, alphas, batch.skipped)
            store.set_meta(seconds=previous + time.perf_counter() - started)
            bar.update(len(batch.indices) + len(batch.skipped))


@contextmanager
def _tf32(allowed: bool) -> Iterator[None]:
    """TF32 on CUDA only when asked for (it changes results slightly), restored afterwards."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = allowed
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def run_profile(
    name: str | None = None,
    *,
    data: str | Path | None = None,
    cache: str | Path | None = None,
    device: str | torch.device | None = None,
    batch_size: int | None = None,
    num_workers: int | None = None,
    progress: bool = True,
    **overrides: object,
) -> StudyResults:
    """Run the named profile (``GRADCAM_STUDY_PROFILE`` when ``name`` is None), fetching its data set
    into the cache when no image folder is configured. ``overrides`` replace fields of its
    :class:`StudyConfig` (``model``, ``layer``, ``limit``, ...)."""
    chosen: Profile = profile(settings.profile_name(name))
    configured = settings.configured_data_dir(data)
    root = configured or _fetch(chosen.dataset, settings.cache_dir(cache))
    return run_study(
        with_overrides(chosen.config, **overrides),
        root,
        cache=cache,
        device=settings.device(device, default=chosen.device),
        batch_size=batch_size or chosen.batch_size,
        num_workers=num_workers,
        progress=progress,
        profile_name=chosen.name,
        dataset_label=None if configured else chosen.dataset_label,
    )


def _fetch(dataset: str, cache: Path) -> Path:
    from ..data import fetch

    log.info("No image folder configured (%s); fetching %s into %s.", settings.DATA_ENV, dataset, cache)
    if dataset == "imagenet-sample":
        return fetch.fetch_imagenet_sample(cache)
    if dataset == "imagenetv2-matched-frequency":
        return fetch.fetch_imagenetv2(cache)
    raise ValueError(f"No fetcher for data set {dataset!r}.")
