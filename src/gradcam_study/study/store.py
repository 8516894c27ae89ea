"""Per-image results in one SQLite file per study key.

Each batch is written in one transaction, keyed by image id, so an interrupted run
resumes with no row lost or duplicated and a finished run is read back at once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import Skipped
from .analysis import AlphaSummary

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images (image INTEGER PRIMARY KEY, path TEXT NOT NULL, row TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS skipped (image INTEGER PRIMARY KEY, path TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alphas (
    image INTEGER NOT NULL, kind TEXT NOT NULL,
    alpha_sample BLOB NOT NULL, denominator_sample BLOB NOT NULL, squeezed_histogram BLOB NOT NULL,
    PRIMARY KEY (image, kind)
);
"""


class ResultStore:
    """The SQLite file holding one study's rows; use as a context manager."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = sqlite3.connect(path)
        self.connection.executescript(_SCHEMA)

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.connection.close()

    def set_meta(self, **values: object) -> None:
        with self.connection:
            self.connection.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in values.items()]
            )

    def meta(self) -> dict[str, object]:
        return {k: json.loads(v) for k, v in self.connection.execute("SELECT name, value FROM meta")}

    def done_images(self) -> set[int]:
        """Images already analysed or skipped."""
        query = "SELECT image FROM images UNION SELECT image FROM skipped"
        return {image for (image,) in self.connection.execute(query)}

    def write_batch(
        self,
        rows: list[dict[str, float | int]],
        paths: dict[int, str],
        alphas: dict[tuple[int, str], AlphaSummary],
        skipped: Iterable[Skipped],
    ) -> None:
        """Write one batch atomically: all of it or none of it."""
        with self.connection:
            self.connection.executemany(
                "INSERT OR REPLACE INTO images VALUES (?, ?, ?)",
                [(row["image"], paths[int(row["image"])], json.dumps(row)) for row in rows],
            )
            self.connection.executemany(
                "INSERT OR REPLACE INTO alphas VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        image,
                        kind,
                        summary.alpha_sample.astype(np.float32).tobytes(),
                        summary.denominator_sample.astype(np.float32).tobytes(),
                        summary.squeezed_histogram.astype(np.int64).tobytes(),
                    )
                    for (image, kind), summary in alphas.items()
                ],
            )
            self.connection.executemany(
                "INSERT OR REPLACE INTO skipped VALUES (?, ?, ?)",
                [(item.image, item.path, item.reason) for item in skipped],
            )

    def images(self) -> pd.DataFrame:
        records = [
            {**json.loads(row), "path": path}
            for path, row in self.connection.execute("SELECT path, row FROM images ORDER BY image")
        ]
        frame = pd.DataFrame.from_records(records)
        return frame.set_index("image") if len(frame) else frame

    def skipped(self) -> pd.DataFrame:
        return pd.read_sql_query("SELECT * FROM skipped ORDER BY image", self.connection)

    def alpha_arrays(self, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pooled alpha sample, pooled denominator-term sample, and the summed squeezed histogram."""
        alpha_parts, term_parts = [], []
        histogram: np.ndarray | None = None
        query = "SELECT alpha_sample, denominator_sample, squeezed_histogram FROM alphas WHERE kind = ? ORDER BY image"
        for alpha_blob, term_blob, histogram_blob in self.connection.execute(query, (kind,)):
            alpha_parts.append(np.frombuffer(alpha_blob, dtype=np.float32))
            term_parts.append(np.frombuffer(term_blob, dtype=np.float32))
            counts = np.frombuffer(histogram_blob, dtype=np.int64)
            histogram = counts.copy() if histogram is None else histogram + counts
        empty = np.empty(0, dtype=np.float32)
        return (
            np.concatenate(alpha_parts) if alpha_parts else empty,
            np.concatenate(term_parts) if term_parts else empty,
            histogram if histogram is not None else np.empty(0, dtype=np.int64),
        )
