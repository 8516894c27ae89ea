"""Stream a data set through :func:`~gradcam_study.study.analysis.analyse_batch`, resumably."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from .. import settings
from ..data import LabelledImage, LabelledImageDataset, collate, list_images
from .provenance import Provenance
from ..capture import layer_label
from ..models import Classifier
from ..models.inference import inference
from . import distributed
from .analysis import analyse_batch
from .config import Profile, StudyConfig, evenly_spread, profile, select_images, study_key, with_overrides
from .results import StudyResults
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

    Every layer of ``config`` comes from the same pass per batch. Results go to
    ``<cache>/results/<key>.sqlite``, one transaction per batch; batches are cut at fixed
    positions so a resumed run computes exactly the batches an uninterrupted one would.
    Unreadable images are skipped, logged and counted. Bad settings (unknown model or layer,
    empty or repeated layer list, non-positive batch size or limit) raise ``ValueError`` before
    any work.

    Under ``torchrun`` (``WORLD_SIZE`` > 1) the ranks share the batches, each writing a shard beside the store
    that rank 0 merges at the end (:mod:`~gradcam_study.study.distributed`); every rank returns the same results.
    """
    if batch_size <= 0:
        raise ValueError(f"The batch size must be positive, got {batch_size}.")
    if num_workers is not None and num_workers < 0:
        raise ValueError(f"The number of decoding workers cannot be negative, got {num_workers}.")
    config.validate()
    root = Path(data)
    chosen_device = settings.device(device)
    ranks = distributed.ranks()
    if ranks.distributed:
        chosen_device = distributed.rank_device(chosen_device, ranks.local_rank)
        distributed.join(chosen_device)
    folder = list_images(root)
    images = select_images(folder, config.limit)
    key = study_key(config, images, root, chosen_device.type)
    store_path = settings.cache_dir(cache) / "results" / f"{key}.sqlite"
    layers = config.resolved_layers()
    provenance = Provenance(
        profile=profile_name,
        model=config.model,
        layer=", ".join(layer_label(layer) for layer in layers),
        dataset=dataset_label or root.name,
        images=len(images),
        device=str(chosen_device),
        total=len(folder),
        rehearsal=settings.rehearsal_images() is not None and not config.pretrained,
    )
    with ResultStore(store_path) as store:
        if ranks.leader:
            # Shards an interrupted multi-process run left count as done, whatever the number of processes now.
            _merge_shards(store)
        distributed.barrier()
        done = store.done_images()
        batches = [list(range(start, min(start + batch_size, len(images)))) for start in range(0, len(images), batch_size)]
        pending = distributed.from_leader([batch for batch in batches if not set(batch) <= done])
        if ranks.leader:
            store.set_meta(config=asdict(config), provenance=asdict(provenance), total=len(images))
        mine = distributed.share(pending, ranks.rank, ranks.world_size)
        if mine:
            # Loaded only when there is work: a finished study is read back without touching the weights.
            classifier = config.classifier(chosen_device)
            if ranks.distributed:
                with ResultStore(distributed.shard_path(store_path, ranks.rank)) as shard:
                    _stream(shard, classifier, root, images, mine, config, chosen_device, num_workers,
                            progress and ranks.leader, len(done), batch_size)
            else:
                _stream(store, classifier, root, images, mine, config, chosen_device, num_workers, progress, len(done),
                        batch_size)
        if ranks.distributed:
            distributed.barrier()
            if ranks.leader:
                _merge_shards(store)
            distributed.barrier()
        meta = store.meta()
        frame, skipped = store.images(), store.skipped()
        layer_frames = {layer: store.layer_rows(layer) for layer in layers}
    if len(skipped) and ranks.leader:
        log.warning("%d of %d images could not be read and were skipped.", len(skipped), len(images))
    return StudyResults(
        key=key,
        config=config,
        layers=layers,
        provenance=Provenance(**{**asdict(provenance), "images": len(frame)}),
        images=frame,
        layer_frames=layer_frames,
        skipped=skipped,
        store_path=store_path,
        seconds=float(meta.get("seconds", 0.0)),
        data_root=root,
        forward_mode=str(meta.get("forward_mode", "eager")),
        warmup_seconds=float(meta.get("warmup_seconds", 0.0)),
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
    batch_size: int,
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
    layers = config.resolved_layers()
    curve_images = frozenset(evenly_spread(len(images), config.curve_limit))
    forward = inference(
        classifier.network, _forward_batch(batch_size, len(config.methods), device),
        (classifier.spec.crop, classifier.spec.crop), optimise=config.compiles(len(images)),
    )
    # Compiling is paid once per process and model; a resumed run reports its own.
    store.set_meta(forward_mode=forward.mode, forward_note=forward.reason, warmup_seconds=forward.warmup_seconds)
    started = time.perf_counter()
    previous = float(store.meta().get("seconds", 0.0))
    description = f"{config.model}, {len(layers)} layer{'s' if len(layers) > 1 else ''}"
    bar = tqdm(total=len(images), initial=already_done, unit="img", disable=not progress, desc=description)
    # Log records (skipped files) are written through tqdm while the bar is shown, so they do not break its line.
    with bar, logging_redirect_tqdm(), _tf32(config.allow_tf32):
        for batch in loader:
            for item in batch.skipped:
                log.warning("Skipped %s: %s", item.path, item.reason)
            rows, layer_rows, alphas, curves = [], {}, {}, {}
            if len(batch.indices):
                result = analyse_batch(
                    classifier, layers, batch.pixels, batch.labels, batch.indices, config.score_kinds,
                    config.alpha_sample_size, curve_images, config.curve_steps, config.methods,
                    sweep_layers=config.only_swept(), forward=forward,
                )
                rows, layer_rows, alphas, curves = result.rows, result.layer_rows, result.alphas, result.curves
            store.write_batch(rows, layer_rows, paths, alphas, batch.skipped, curves)
            store.set_meta(seconds=previous + time.perf_counter() - started)
            bar.update(len(batch.indices) + len(batch.skipped))


def _forward_batch(batch_size: int, methods: int, device: torch.device) -> int:
    """Images per forward pass of explanation maps and curves: the study's batch on the CPU (larger calls measured
    no faster there), every method's maps of a batch at once on a GPU."""
    return batch_size if device.type == "cpu" else batch_size * methods


def _merge_shards(store: ResultStore) -> None:
    """Merge the ranks' shards into ``store``; the ranks ran side by side, so the longest of them adds to its time."""
    longest = distributed.merge_shards(store)
    if longest:
        store.set_meta(seconds=float(store.meta().get("seconds", 0.0)) + longest)


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
    :class:`StudyConfig` (``model``, ``layers``, ``limit``, ...); when ``model`` changes and ``layers``
    is not given, the new model's default layers are used."""
    chosen: Profile = profile(settings.profile_name(name))
    config = with_overrides(chosen.config, **overrides)
    if config.model != chosen.config.model and overrides.get("layers") is None:
        # Another model than the profile's: its own default layers, not those named for the profile's model.
        config = replace(config, layers=None)
    configured = settings.configured_data_dir(data)
    root = settings.data_dir(data) if configured else _fetch(chosen.dataset, settings.cache_dir(cache))
    return run_study(
        config,
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
