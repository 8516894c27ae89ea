"""Model randomisation (Adebayo et al. 2018): re-initialise a classifier's weights stage by stage, from the head down.

A *stage* is a group of modules named by :attr:`~gradcam_study.models.ModelSpec.stages` (the last block of each
stage): for EfficientNet-Lite0 (last blocks 0, 2, 4, 7, 10, 14, 15) the head (``_conv_head``, ``_bn1``, ``_fc``),
then stage 7 (``_blocks.15``), stage 6 (``_blocks.11`` to ``_blocks.14``), ... stage 1 (``_blocks.0`` with the stem,
``_conv_stem`` and ``_bn0``, so that the full cascade leaves no trained weight). A *step* is a set of stages
re-initialised together: the cascade re-initialises the head, then the head and stage 7, and so on down to every
stage; independent randomisation re-initialises one stage at a time, the rest trained.

Re-initialisation is the modules' own ``reset_parameters`` (PyTorch's default initialisation; a batch norm becomes
the identity up to its epsilon: weight 1, bias 0, running mean 0 and variance 1), each stage under its own seed
derived from ``seed`` and the stage's name, so that a stage gets the same random weights in every step that
re-initialises it. :func:`randomised` restores every trained value in place when the block ends.

>>> from gradcam_study.models import model_spec
>>> spec = model_spec("efficientnet_lite0")
>>> cascading_steps(spec)[:2]
[('head',), ('head', 'stage_7')]
>>> stage_modules(spec)["stage_6"]
('_blocks.11', '_blocks.12', '_blocks.13', '_blocks.14')
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from ..models import ModelSpec

#: The modules after the last block: the head the cascade re-initialises first (EfficientNet-Lite's).
HEAD_MODULES = ("_conv_head", "_bn1", "_fc")
#: The modules before the first block, re-initialised with stage 1.
STEM_MODULES = ("_conv_stem", "_bn0")


def _block_index(key: str) -> int:
    name = key.partition(":")[0]
    prefix, _, index = name.rpartition(".")
    if prefix != "_blocks" or not index.isdigit():
        raise ValueError(f"Stage-wise randomisation needs stages named '_blocks.<n>' (EfficientNet-Lite), got {key!r}.")
    return int(index)


def stage_modules(spec: ModelSpec) -> dict[str, tuple[str, ...]]:
    """The modules of each stage, from the head down: ``{"head": ..., "stage_<n>": ..., ..., "stage_1": ...}``.

    The blocks between two stage ends form a stage; stage 1 carries the stem. Only EfficientNet-Lite's layout
    (stages named ``_blocks.<n>``) is supported: other models get a clear error.
    """
    if not spec.stages:
        raise ValueError(f"{spec.name} names no stages; stage-wise randomisation needs them.")
    ends = [_block_index(key) for key in spec.stages]
    found: dict[str, tuple[str, ...]] = {"head": HEAD_MODULES}
    starts = [0, *(end + 1 for end in ends[:-1])]
    for number in range(len(ends), 0, -1):
        blocks = tuple(f"_blocks.{i}" for i in range(starts[number - 1], ends[number - 1] + 1))
        found[f"stage_{number}"] = (*STEM_MODULES, *blocks) if number == 1 else blocks
    return found


def cascading_steps(spec: ModelSpec) -> list[tuple[str, ...]]:
    """The cascade: the head, then the head and the last stage, ... down to every stage (one step each)."""
    names = list(stage_modules(spec))
    return [tuple(names[: depth + 1]) for depth in range(len(names))]


def independent_steps(spec: ModelSpec) -> list[tuple[str, ...]]:
    """Independent randomisation: one stage at a time, from the head down, the rest trained."""
    return [(name,) for name in stage_modules(spec)]


def step_label(stages: Sequence[str]) -> str:
    """A short name for a step: its deepest stage, from the input side (``"stage_5"``), or ``"head"``."""
    return stages[-1]


def stage_seed(seed: int, stage: str) -> int:
    """The seed of one stage's re-initialisation: the same for a stage in every step, different across stages."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{stage}".encode()).digest()[:4], "little")


def _reinitialise(module: nn.Module) -> None:
    for submodule in module.modules():
        reset = getattr(submodule, "reset_parameters", None)
        if callable(reset):
            reset()
        if isinstance(submodule, nn.modules.batchnorm._BatchNorm):
            submodule.reset_running_stats()


@contextmanager
def randomised(network: nn.Module, spec: ModelSpec, stages: Sequence[str], seed: int = 0) -> Iterator[nn.Module]:
    """``network`` with the weights of ``stages`` (names of :func:`stage_modules`) re-initialised, for the block.

    Every parameter and buffer of those modules is copied before and written back in place afterwards, whatever
    happens in the block, so the trained model comes back bit for bit. The global random state is left as found.

    >>> from gradcam_study.models import load_classifier          # doctest: +SKIP
    >>> classifier = load_classifier("efficientnet_lite0")         # doctest: +SKIP
    >>> with randomised(classifier.network, classifier.spec, ("head", "stage_7")):   # doctest: +SKIP
    ...     logits = classifier.network(inputs)
    """
    layout = stage_modules(spec)
    unknown = [stage for stage in stages if stage not in layout]
    if unknown:
        raise ValueError(f"Unknown stage {', '.join(map(repr, unknown))}; known: {', '.join(layout)}.")
    modules = {name: network.get_submodule(name) for stage in stages for name in layout[stage]}
    saved: dict[str, Tensor] = {
        f"{name}.{key}": value.detach().clone()
        for name, module in modules.items()
        for key, value in module.state_dict(keep_vars=True).items()
    }
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            for stage in stages:
                torch.manual_seed(stage_seed(seed, stage))
                for name in layout[stage]:
                    _reinitialise(modules[name])
        yield network
    finally:
        with torch.no_grad():
            for name, module in modules.items():
                for key, value in module.state_dict(keep_vars=True).items():
                    value.copy_(saved[f"{name}.{key}"])


def first_block(spec: ModelSpec, stages: Sequence[str]) -> int | None:
    """The first block a step re-initialises (None when it re-initialises the stem: the whole network must run;
    the last block when it re-initialises the head only, so that the last block still runs and can be tapped).
    Below it the trained activations are unchanged."""
    layout = stage_modules(spec)
    blocks = [_block_index(name) for stage in stages for name in layout[stage] if name.startswith("_blocks.")]
    if any(name in STEM_MODULES for stage in stages for name in layout[stage]):
        return None
    return min(blocks) if blocks else _block_index(spec.stages[-1])


def _blocks(network: nn.Module) -> nn.ModuleList:
    """EfficientNet-Lite's ``_blocks``, typed (an attribute of an ``nn.Module`` reads as ``Tensor | Module``)."""
    blocks = network.get_submodule("_blocks")
    if not isinstance(blocks, nn.ModuleList):
        raise TypeError(f"{type(network).__name__}._blocks is a {type(blocks).__name__}, not a ModuleList of blocks.")
    return blocks


class FromBlock(nn.Module):
    """EfficientNet-Lite's forward pass from the input of block ``start`` on: the remaining blocks, the head, pooling
    and the classifier, sharing the network's modules under their names (``"_blocks.15"``, ``"_avg_pooling"``), so
    that :func:`~gradcam_study.capture.capture_layers` taps the same layer keys. Feeding it the trained activations
    entering block ``start`` gives the network's output without recomputing the unchanged blocks below (eval mode).
    """

    def __init__(self, network: nn.Module, start: int):
        super().__init__()
        self._blocks = _blocks(network)
        self._conv_head, self._bn1, self._swish, self._avg_pooling, self._dropout, self._fc = (
            network.get_submodule(name) for name in ("_conv_head", "_bn1", "_swish", "_avg_pooling", "_dropout", "_fc"))
        self.start = start

    def forward(self, x: Tensor) -> Tensor:
        for block in self._blocks[self.start:]:
            x = block(x)
        x = self._swish(self._bn1(self._conv_head(x)))
        x = self._avg_pooling(x).flatten(start_dim=1)
        return self._fc(self._dropout(x))


@torch.no_grad()
def run_blocks(network: nn.Module, x: Tensor, start: int | None, stop: int) -> Tensor:
    """The activations entering block ``stop``, from ``x`` entering block ``start`` (None: ``x`` is the network's
    input, and the stem runs first), without gradients (EfficientNet-Lite in eval mode)."""
    if start is None:
        conv_stem, bn0, swish = (network.get_submodule(name) for name in ("_conv_stem", "_bn0", "_swish"))
        x = swish(bn0(conv_stem(x)))
        start = 0
    for block in _blocks(network)[start:stop]:
        x = block(x)
    return x


@torch.no_grad()
def block_inputs(network: nn.Module, inputs: Tensor, starts: Sequence[int]) -> dict[int, Tensor]:
    """The (trained) activations entering each block of ``starts``, from one forward pass of ``inputs`` without
    gradients."""
    found: dict[int, Tensor] = {}
    x, position = inputs, None
    for start in sorted(set(starts)):
        x = found[start] = run_blocks(network, x, position, start)
        position = start
    return found


__all__ = [
    "FromBlock",
    "HEAD_MODULES",
    "STEM_MODULES",
    "block_inputs",
    "cascading_steps",
    "first_block",
    "independent_steps",
    "randomised",
    "run_blocks",
    "stage_modules",
    "stage_seed",
    "step_label",
]
