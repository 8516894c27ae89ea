"""Where a result comes from: the provenance every figure and table of the book carries in its caption."""

from __future__ import annotations

from dataclasses import dataclass

from .. import settings
from ..capture import SCORE_KIND_LABELS


@dataclass(frozen=True)
class Provenance:
    """Where a result comes from, for every caption: profile, model, layer, data, images, device.

    ``total`` is the size of the folder when the study used an evenly spread subset of it, so that
    a caption names the subset.
    """

    profile: str
    model: str
    layer: str
    dataset: str
    images: int
    device: str
    total: int | None = None
    #: A rehearsal's results (random weights): every caption then says so first.
    rehearsal: bool = False

    def caption(self, score_kind: str | None = None, kept: int | None = None, note: str | None = None) -> str:
        """The provenance line; ``note`` (e.g. the subset a column is computed on) is appended."""
        count = f"{self.images} image{'' if self.images == 1 else 's'}"
        if self.total is not None and self.total != self.images:
            count += f" (an evenly spread subset of {self.total})"
        if kept is not None:
            count += f", {kept} kept"
        parts = [
            f"profile {self.profile}",
            f"model {self.model}",
            f"layer {self.layer}",
            f"data {self.dataset}",
            count,
            f"score {SCORE_KIND_LABELS.get(score_kind, score_kind) if score_kind else 'pre- and post-softmax'}",
            f"device {self.device}",
        ]
        if self.rehearsal:
            parts.insert(0, settings.rehearsal_note(self.images))
        return "; ".join(parts + ([note] if note else []))



__all__ = ["Provenance"]
