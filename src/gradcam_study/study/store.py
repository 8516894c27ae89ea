"""Per-image results in one SQLite file per study key.

Each batch is written in one transaction, keyed by image id (and layer), so an interrupted run
resumes with no row lost or duplicated and a finished run is read back at once. A file under
the key that is not a readable database is moved aside, with a warning naming it, and the
study is recomputed.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..capture import ScoreKind
from ..data import Skipped
from .analysis import AlphaSummary

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images (image INTEGER PRIMARY KEY, path TEXT NOT NULL, row TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS layer_rows (
    image INTEGER NOT NULL, layer TEXT NOT NULL, row TEXT NOT NULL, PRIMARY KEY (image, layer)
);
CREATE TABLE IF NOT EXISTS skipped (image INTEGER PRIMARY KEY, path TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alphas (
    image INTEGER NOT NULL, layer TEXT NOT NULL, kind TEXT NOT NULL,
    alpha_sample BLOB NOT NULL, denominator_sample BLOB NOT NULL, squeezed_histogram BLOB NOT NULL,
    PRIMARY KEY (image, layer, kind)
);
CREATE TABLE IF NOT EXISTS curves (
    image INTEGER NOT NULL, layer TEXT NOT NULL, kind TEXT NOT NULL, method TEXT NOT NULL,
    deletion BLOB NOT NULL, insertion BLOB NOT NULL,
    PRIMARY KEY (image, layer, kind, method)
);
"""


@dataclass(frozen=True)
class AlphaArrays:
    """A layer's alphas over the data set for one score kind: the pooled per-image samples of non-zero alphas
    and of their denominator terms (the same number per image), and the summed histogram of
    ``tanh(alpha - 1/2)`` over every non-zero alpha."""

    alphas: np.ndarray
    terms: np.ndarray
    squeezed_histogram: np.ndarray


@dataclass(frozen=True)
class CurveArrays:
    """A method's deletion and insertion curves at one layer for one score kind: ``images`` (ids) and the curves,
    one row per image (probabilities at the curve's points)."""

    images: np.ndarray
    deletion: np.ndarray
    insertion: np.ndarray


def _open(path: Path) -> sqlite3.Connection:
    """Connect to ``path`` and make sure its tables exist; a file that is not a database is moved aside."""
    connection = sqlite3.connect(path, timeout=60)
    try:
        connection.executescript(_SCHEMA)
        return connection
    except sqlite3.DatabaseError as error:
        connection.close()
        aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
        path.replace(aside)
        log.warning("The results file %s is not a readable database (%s); moved it to %s and recomputing.",
                    path, error, aside)
        connection = sqlite3.connect(path, timeout=60)
        connection.executescript(_SCHEMA)
        return connection


class ResultStore:
    """The SQLite file holding one study's rows; use as a context manager."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = _open(path)

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.connection.close()

    def set_meta(self, **values: object) -> None:
        with self.connection:
            self.connection.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in values.items()]
            )

    def meta(self) -> dict[str, Any]:
        """The values given to :meth:`set_meta`, as JSON gives them back."""
        return {k: json.loads(v) for k, v in self.connection.execute("SELECT name, value FROM meta")}

    def done_images(self) -> set[int]:
        """Images already analysed or skipped."""
        query = "SELECT image FROM images UNION SELECT image FROM skipped"
        return {image for (image,) in self.connection.execute(query)}

    def write_batch(
        self,
        rows: list[dict[str, float | int]],
        layer_rows: dict[tuple[int, str], dict[str, float]],
        paths: dict[int, str],
        alphas: dict[tuple[int, str, ScoreKind], AlphaSummary],
        skipped: Iterable[Skipped],
        curves: dict[tuple[int, str, ScoreKind, str], tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> None:
        """Write one batch atomically: all of it or none of it."""
        with self.connection:
            self.connection.executemany(
                "INSERT OR REPLACE INTO images VALUES (?, ?, ?)",
                [(row["image"], paths[int(row["image"])], json.dumps(row)) for row in rows],
            )
            self.connection.executemany(
                "INSERT OR REPLACE INTO layer_rows VALUES (?, ?, ?)",
                [(image, layer, json.dumps(row)) for (image, layer), row in layer_rows.items()],
            )
            self.connection.executemany(
                "INSERT OR REPLACE INTO alphas VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        image,
                        layer,
                        kind,
                        summary.alpha_sample.astype(np.float32).tobytes(),
                        summary.denominator_sample.astype(np.float32).tobytes(),
                        summary.squeezed_histogram.astype(np.int64).tobytes(),
                    )
                    for (image, layer, kind), summary in alphas.items()
                ],
            )
            self.connection.executemany(
                "INSERT OR REPLACE INTO curves VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (image, layer, kind, method, deletion.astype(np.float32).tobytes(),
                     insertion.astype(np.float32).tobytes())
                    for (image, layer, kind, method), (deletion, insertion) in (curves or {}).items()
                ],
            )
            self.connection.executemany(
                "INSERT OR REPLACE INTO skipped VALUES (?, ?, ?)",
                [(item.image, item.path, item.reason) for item in skipped],
            )

    def images(self) -> pd.DataFrame:
        """One row per analysed image: path, label, prediction and the scores on the whole image."""
        records = [
            {**json.loads(row), "path": path}
            for path, row in self.connection.execute("SELECT path, row FROM images ORDER BY image")
        ]
        frame = pd.DataFrame.from_records(records)
        return frame.set_index("image") if len(frame) else frame

    def layer_rows(self, layer: str) -> pd.DataFrame:
        """One row per analysed image: what the study keeps at ``layer``."""
        records = [
            {**json.loads(row), "image": image}
            for image, row in self.connection.execute(
                "SELECT image, row FROM layer_rows WHERE layer = ? ORDER BY image", (layer,)
            )
        ]
        frame = pd.DataFrame.from_records(records)
        return frame.set_index("image") if len(frame) else frame

    def skipped(self) -> pd.DataFrame:
        return pd.read_sql_query("SELECT * FROM skipped ORDER BY image", self.connection)

    def alpha_arrays(self, layer: str, kind: str) -> AlphaArrays:
        """Pooled alpha and denominator-term samples and the summed squeezed histogram, at ``layer`` for ``kind``."""
        alpha_parts, term_parts = [], []
        histogram: np.ndarray | None = None
        query = ("SELECT alpha_sample, denominator_sample, squeezed_histogram FROM alphas "
                 "WHERE layer = ? AND kind = ? ORDER BY image")
        for alpha_blob, term_blob, histogram_blob in self.connection.execute(query, (layer, kind)):
            alpha_parts.append(np.frombuffer(alpha_blob, dtype=np.float32))
            term_parts.append(np.frombuffer(term_blob, dtype=np.float32))
            counts = np.frombuffer(histogram_blob, dtype=np.int64)
            histogram = counts.copy() if histogram is None else histogram + counts
        empty = np.empty(0, dtype=np.float32)
        return AlphaArrays(
            alphas=np.concatenate(alpha_parts) if alpha_parts else empty,
            terms=np.concatenate(term_parts) if term_parts else empty,
            squeezed_histogram=histogram if histogram is not None else np.empty(0, dtype=np.int64),
        )

    def curves(self, layer: str, kind: str, method: str) -> CurveArrays:
        """Every stored deletion and insertion curve of ``method`` at ``layer`` for ``kind``, by image id."""
        query = ("SELECT image, deletion, insertion FROM curves WHERE layer = ? AND kind = ? AND method = ? "
                 "ORDER BY image")
        rows = self.connection.execute(query, (layer, kind, method)).fetchall()
        as_rows = lambda blobs: (np.stack([np.frombuffer(b, dtype=np.float32) for b in blobs])  # noqa: E731
                                 if blobs else np.empty((0, 0), dtype=np.float32))
        return CurveArrays(
            images=np.array([image for image, _, _ in rows], dtype=np.int64),
            deletion=as_rows([deletion for _, deletion, _ in rows]),
            insertion=as_rows([insertion for _, _, insertion in rows]),
        )
