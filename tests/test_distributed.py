"""One study over several processes: torchrun with 2 ranks on the CPU (gloo) gives the tables of a single-process
run; the shards an interrupted run leaves are merged and count as done."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, sample_folder
from gradcam_study.study import StudyConfig, distributed, run_study
from gradcam_study.study import pipeline
from gradcam_study.study.store import ResultStore

TORCHRUN = Path(sys.executable).with_name("torchrun")
TABLES = ("images", "layer_rows", "alphas", "curves", "skipped")
CONFIG = StudyConfig(model="efficientnet_lite0", layers=("_avg_pooling:input",), pretrained=False, curve_limit=1,
                     curve_steps=2)


@pytest.fixture(scope="module")
def four_images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sample = sample_folder()
    if sample is None:
        pytest.skip("the ImageNet sample is absent: set GRADCAM_STUDY_DATA to its folder")
    folder = tmp_path_factory.mktemp("images")
    for path in sorted(sample.glob("n*_*.JPEG"))[::250]:
        shutil.copy(path, folder / path.name)
    return folder


def rows(store: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(store) as connection:
        return {table: connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() for table in TABLES}


def test_shard_names_and_shares() -> None:
    store = Path("cache/results/abc.sqlite")
    assert distributed.shard_path(store, 3) == Path("cache/results/abc.rank3.sqlite")
    batches = [[0, 1], [2, 3], [4, 5], [6]]
    shares = [distributed.share(batches, rank, 3) for rank in range(3)]
    assert shares == [[[0, 1], [6]], [[2, 3]], [[4, 5]]]
    assert sorted(sum(shares, [])) == batches


def test_ranks_come_from_torchruns_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert distributed.ranks() == distributed.Ranks(0, 1, 0) and not distributed.ranks().distributed
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert distributed.ranks() == distributed.Ranks(3, 4, 1) and not distributed.ranks().leader
    import torch

    assert distributed.rank_device(torch.device("cuda"), 1) == torch.device("cuda", 1)
    assert distributed.rank_device(torch.device("cpu"), 1) == torch.device("cpu")
    monkeypatch.setenv("WORLD_SIZE", "four")
    with pytest.raises(ValueError, match="torchrun"):
        distributed.ranks()


def test_shards_left_by_an_interrupted_run_are_merged_and_not_recomputed(
    four_images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = dict(device="cpu", batch_size=1, num_workers=0, progress=False)
    whole = run_study(CONFIG, four_images, cache=tmp_path / "whole", **options)
    # What two ranks left when interrupted: rank 0 had finished image 0, rank 1 image 1; images 2 and 3 remain.
    store = tmp_path / "resumed" / "results" / whole.store_path.name
    store.parent.mkdir(parents=True)
    for rank, image in ((0, 0), (1, 1)):
        shard = distributed.shard_path(store, rank)
        shutil.copy(whole.store_path, shard)
        with sqlite3.connect(shard) as connection:
            for table in TABLES:
                connection.execute(f"DELETE FROM {table} WHERE image != ?", (image,))
    computed: list[int] = []
    stream = pipeline._stream
    monkeypatch.setattr(pipeline, "_stream", lambda *args: (computed.extend(i for b in args[4] for i in b), stream(*args)))
    resumed = run_study(CONFIG, four_images, cache=tmp_path / "resumed", **options)
    assert computed == [2, 3]
    assert distributed.shards(store) == []
    assert rows(resumed.store_path) == rows(whole.store_path)


def test_merging_keeps_every_shards_rows(four_images: Path, tmp_path: Path) -> None:
    whole = run_study(CONFIG, four_images, cache=tmp_path, device="cpu", batch_size=2, num_workers=0, progress=False)
    empty = tmp_path / "merged.sqlite"
    for rank in range(2):
        shard = distributed.shard_path(empty, rank)
        shutil.copy(whole.store_path, shard)
        with sqlite3.connect(shard) as connection:
            for table in TABLES:
                connection.execute(f"DELETE FROM {table} WHERE image % 2 != ?", (rank,))
            connection.execute("INSERT OR REPLACE INTO meta VALUES ('seconds', ?)", (str(rank + 1.5),))
    with ResultStore(empty) as store:
        assert distributed.merge_shards(store) == 2.5
    assert distributed.shards(empty) == []
    assert rows(empty) == rows(whole.store_path)


def run_group(command: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in a session of its own, so that a hang ends with every worker torchrun started."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
                          start_new_session=True) as process:
        try:
            out, err = process.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate()
        return subprocess.CompletedProcess(command, process.returncode, out, err)


@pytest.mark.skipif(not TORCHRUN.is_file(), reason="torchrun is not installed beside this Python")
def test_torchrun_with_two_processes_gives_the_tables_of_one(four_images: Path, tmp_path: Path) -> None:
    arguments = ["run", "--data", str(four_images), "--model", "efficientnet_lite0", "--layer", "_avg_pooling:input",
                 "--random-weights", "--batch-size", "1", "--workers", "0", "--curve-limit", "1", "--curve-steps", "2",
                 "--threshold", "0", "--quiet", "--device", "cpu"]
    environment = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        environment.pop(name, None)
    single = subprocess.run([sys.executable, "-m", "gradcam_study", *arguments, "--cache-dir", str(tmp_path / "one")],
                            capture_output=True, text=True, env=environment, timeout=600)
    assert single.returncode == 0, single.stderr
    # --standalone: a rendezvous on this machine at a free port, as a single-node run is documented.
    two = run_group([str(TORCHRUN), "--standalone", "--nproc-per-node", "2", "-m", "gradcam_study", *arguments,
                     "--cache-dir", str(tmp_path / "two")], environment)
    assert two.returncode == 0, two.stderr
    assert "Merged the results shard" in two.stderr and "rank1" in two.stderr
    tables = lambda output: [line for line in output.splitlines() if not line.startswith("Study ")]  # noqa: E731
    assert tables(two.stdout) == tables(single.stdout) and "Table 1" in two.stdout
    # Rank 1 prints nothing: the tables appear once.
    assert two.stdout.count("Table 1: relative performance") == 1
    (store_one,) = (tmp_path / "one" / "results").glob("*.sqlite")
    (store_two,) = (tmp_path / "two" / "results").glob("*.sqlite")
    assert store_one.name == store_two.name
    assert rows(store_two) == rows(store_one)
