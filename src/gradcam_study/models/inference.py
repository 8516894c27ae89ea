"""Forward passes without gradients (the explanation maps of eq. (15), deletion and insertion), as fast as the
device allows while the results stay those of the eager network.

The study spends most of its time here: every layer, score kind and method costs one forward pass per image
for its explanation map, and every point of a deletion or insertion curve another. :func:`inference` wraps a
network once per process and model: ``torch.compile`` (Inductor; it fuses the batch norms, paddings and ReLU6
of EfficientNet-Lite into the convolutions' neighbours) when it is available and its first call succeeds, the
eager network otherwise. Inputs go through in chunks of one fixed size, the last chunk padded, so that the
compiled graph is built once and never recompiled for another batch size. Log-probabilities agree with the
eager network's to within :data:`TOLERANCE` (``tests/test_inference.py`` checks it); lower precision
(bfloat16 autocast) was measured to move them by 0.3 and is not used.

>>> from gradcam_study.models import load_classifier
>>> classifier = load_classifier("efficientnet_lite0", pretrained=False)       # doctest: +SKIP
>>> forward = inference(classifier.network, batch_size=16, image_size=(224, 224))  # doctest: +SKIP
>>> forward.log_softmax(torch.rand(5, 3, 224, 224)).shape                          # doctest: +SKIP
torch.Size([5, 1000])
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

log = logging.getLogger(__name__)

#: The largest difference in log-probability allowed between the optimised and the eager forward pass.
TOLERANCE = 1e-4


@dataclass
class Inference:
    """A network's forward pass without gradients, ``batch_size`` images at a time.

    ``compiled`` is the compiled network, or None where the eager one runs (``reason`` says why);
    ``warmup_seconds`` is what compiling cost (paid once per process and model).
    """

    network: nn.Module
    batch_size: int
    compiled: Callable[[Tensor], Tensor] | None = None
    warmup_seconds: float = 0.0
    reason: str = ""

    @property
    def mode(self) -> str:
        """``"compiled"`` or ``"eager"``."""
        return "eager" if self.compiled is None else "compiled"

    def logits(self, inputs: Tensor) -> Tensor:
        """The network's logits for ``inputs`` (``N x 3 x H x W``, normalised), ``batch_size`` at a time."""
        forward = self.network if self.compiled is None else self.compiled
        parts = []
        with torch.inference_mode():
            for part in inputs.split(self.batch_size):
                count = len(part)
                if self.compiled is not None and count < self.batch_size:
                    # One compiled shape: pad the last chunk rather than compile again for its size.
                    part = torch.cat([part, part.new_zeros((self.batch_size - count, *part.shape[1:]))])
                parts.append(forward(part.contiguous(memory_format=torch.channels_last))[:count].float())
        return torch.cat(parts) if parts else inputs.new_zeros((0, 0))

    def log_softmax(self, inputs: Tensor) -> Tensor:
        """Log-probabilities of every class for ``inputs``."""
        return self.logits(inputs).log_softmax(dim=1)


_CACHE: dict[tuple[int, int, tuple[int, ...]], Inference] = {}


def inference(
    network: nn.Module, batch_size: int, image_size: tuple[int, int] | None = None, optimise: bool = True
) -> Inference:
    """The forward pass of ``network`` (eval mode, frozen parameters) for ``batch_size`` images of
    ``image_size``: compiled when ``optimise`` and ``torch.compile`` works here, else eager.

    Built once per process, network and shape; a compilation that fails falls back to the eager network with a
    logged warning (the study then runs as before, only slower).
    """
    if batch_size <= 0:
        raise ValueError(f"The batch size must be positive, got {batch_size}.")
    device = next(network.parameters()).device
    if not optimise:
        return Inference(network, batch_size, reason="not asked for")
    if image_size is None:
        raise ValueError("Compiling needs the image size (height, width) of the inputs.")
    key = (id(network), batch_size, tuple(image_size))
    if key not in _CACHE or _CACHE[key].network is not network:
        # Kept for the process: the book's studies of one model share one compilation.
        _CACHE[key] = _compiled(network, batch_size, image_size, device)
    return _CACHE[key]


def _compiled(network: nn.Module, batch_size: int, image_size: tuple[int, int], device: torch.device) -> Inference:
    if not hasattr(torch, "compile"):
        return Inference(network, batch_size, reason="torch.compile is not available")
    started = time.perf_counter()
    try:
        compiled = torch.compile(network, dynamic=False)
        sample = torch.zeros((batch_size, 3, *image_size), device=device).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            compiled(sample)
    except Exception as error:  # noqa: BLE001 - any failure of the compiler falls back to the eager network
        log.warning("torch.compile failed (%s: %s); the eager network is used.", type(error).__name__, error)
        return Inference(network, batch_size, reason=f"torch.compile failed ({type(error).__name__})")
    return Inference(network, batch_size, compiled=compiled, warmup_seconds=time.perf_counter() - started)


__all__ = ["Inference", "TOLERANCE", "inference"]
