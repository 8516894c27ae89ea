"""One study over several processes (``torchrun``): each rank analyses its share of the batches into a shard
of its own beside the study's store, and rank 0 merges the shards when every rank is done.

``torchrun --nproc-per-node N -m gradcam_study run ...`` sets ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``;
:func:`run_study <gradcam_study.study.run_study>` then joins the process group (NCCL on CUDA, gloo on the
CPU) and splits the pending batches over the ranks, batch ``b`` of the pending list going to rank
``b mod N``. Batches are cut at the same fixed positions whatever N, so each image is analysed in the same
batch as in a single-process run and the merged tables are identical. A shard is an ordinary results file
(:class:`~gradcam_study.study.store.ResultStore`): an interrupted run leaves its shards, and the next run, with
any number of processes, counts their images as done before it splits what is left. torch.distributed does
all of the coordination (its rendezvous, a broadcast of the plan, barriers); multi-node runs use torchrun's
own rendezvous options (``--nnodes``, ``--rdzv-backend c10d``, ``--rdzv-endpoint HOST:PORT``).

>>> shard_path(Path("cache/results/0123abcd.sqlite"), 1).name
'0123abcd.rank1.sqlite'
>>> share([[0, 1], [2, 3], [4]], rank=1, world_size=2)
[[2, 3]]
"""

from __future__ import annotations

import atexit
import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import torch
import torch.distributed as dist

from .store import ResultStore

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The tables a shard holds, merged row by row into the study's store (their keys are image ids).
SHARD_TABLES = ("images", "layer_rows", "alphas", "curves", "skipped")


@dataclass(frozen=True)
class Ranks:
    """This process's place in a run: ``rank`` of ``world_size`` (``local_rank`` on its node)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def leader(self) -> bool:
        return self.rank == 0


def ranks() -> Ranks:
    """This process's ranks, from torchrun's environment (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``); one process
    of one when they are absent."""
    try:
        return Ranks(
            rank=int(os.environ.get("RANK", "0")),
            world_size=int(os.environ.get("WORLD_SIZE", "1")),
            local_rank=int(os.environ.get("LOCAL_RANK", "0")),
        )
    except ValueError as error:
        raise ValueError(f"RANK, WORLD_SIZE and LOCAL_RANK must be integers (torchrun sets them): {error}") from None


def rank_device(device: torch.device, local_rank: int) -> torch.device:
    """The device of a rank: ``cuda`` becomes this node's ``cuda:<local_rank>``; an explicit index or the CPU is kept."""
    if device.type == "cuda" and device.index is None:
        return torch.device("cuda", local_rank)
    return device


def join(device: torch.device) -> None:
    """Join torchrun's process group once per process (NCCL for CUDA, gloo otherwise); left at exit."""
    if dist.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend=backend, device_id=device if device.type == "cuda" else None)
    atexit.register(leave)


def leave() -> None:
    """Leave the process group, if this process joined one."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def from_leader(value: T) -> T:
    """Rank 0's ``value``, on every rank (so that all ranks follow one plan)."""
    if not dist.is_initialized():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def shard_path(store_path: Path, rank: int) -> Path:
    """The results shard of ``rank``, beside the study's store: ``<key>.rank<rank>.sqlite``."""
    return store_path.with_name(f"{store_path.stem}.rank{rank}{store_path.suffix}")


def shards(store_path: Path) -> list[Path]:
    """Every shard left beside ``store_path`` (by any number of ranks), in rank order."""
    found = store_path.parent.glob(f"{store_path.stem}.rank*{store_path.suffix}")
    return sorted(found, key=lambda path: int(path.suffixes[-2].removeprefix(".rank")))


def done_in_shards(store_path: Path) -> set[int]:
    """Images analysed or skipped in the shards beside ``store_path``: done, though not yet merged."""
    done: set[int] = set()
    for path in shards(store_path):
        with ResultStore(path) as shard:
            done |= shard.done_images()
    return done


def share(batches: list[list[int]], rank: int, world_size: int) -> list[list[int]]:
    """The batches rank ``rank`` of ``world_size`` analyses: every ``world_size``-th, from its rank."""
    return batches[rank::world_size]


def merge_shards(store: ResultStore) -> float:
    """Move every shard's rows into ``store`` (one transaction per shard, then the shard is deleted) and return the
    longest of their computation times (``meta.seconds``): the wall time the ranks spent side by side."""
    longest = 0.0
    for path in shards(store.path):
        with ResultStore(path) as shard:
            longest = max(longest, float(shard.meta().get("seconds", 0.0)))
        connection = store.connection
        connection.execute("ATTACH DATABASE ? AS shard", (str(path),))
        try:
            with connection:
                for table in SHARD_TABLES:
                    connection.execute(f"INSERT OR REPLACE INTO main.{table} SELECT * FROM shard.{table}")
        except sqlite3.DatabaseError as error:
            raise RuntimeError(f"Could not merge the results shard {path}: {error}") from error
        finally:
            connection.execute("DETACH DATABASE shard")
        path.unlink()
        log.info("Merged the results shard %s into %s.", path.name, store.path.name)
    return longest


__all__ = ["Ranks", "barrier", "done_in_shards", "from_leader", "join", "leave", "merge_shards", "rank_device",
           "ranks", "shard_path", "shards", "share"]
