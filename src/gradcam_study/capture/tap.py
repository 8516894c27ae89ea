"""Showing a layer's INPUT to code that hooks module outputs (the CAM libraries).

A layer key ``"<name>:input"`` names the tensor entering a module. EfficientNet-Lite's last map is the input of
``_avg_pooling``: its last ReLU6 is a module, ``_swish``, that also serves the stem, so no module outputs that map
alone. :class:`InputTap` routes that tensor through an identity submodule, whose output a library can hook.
"""

from __future__ import annotations

from torch import Tensor, nn

from . import TappedLayer


class InputTap(nn.Module):
    """``network`` with the INPUT of its submodule ``layer`` routed through an identity submodule ``tap``.

    Libraries hook module outputs; the output of ``tap`` is exactly the tensor entering ``layer``. The routing
    hook is registered for the duration of each forward pass only, so ``network`` itself is never changed, and
    the logits are the network's (an identity changes nothing).

    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()).eval()
    >>> tapped = InputTap(net, "2")
    >>> x = torch.randn(1, 3, 6, 6)
    >>> bool((tapped(x) == net(x)).all())
    True
    """

    def __init__(self, network: nn.Module, layer: str):
        super().__init__()
        self.network = network
        self.tap = nn.Identity()
        self.layer = layer
        network.get_submodule(layer)  # an unknown name fails here, not in forward

    def forward(self, inputs: Tensor) -> Tensor:
        target = self.network.get_submodule(self.layer)
        handle = target.register_forward_pre_hook(lambda _module, args: (self.tap(args[0]), *args[1:]))
        try:
            return self.network(inputs)
        finally:
            handle.remove()


def hookable(network: nn.Module, layer: str) -> tuple[nn.Module, str]:
    """``(module tree, dotted name)`` whose named module's OUTPUT is the map of the layer key ``layer``.

    An output key is the network itself and the name; an input key (``"_avg_pooling:input"``) is an
    :class:`InputTap` of the network and ``"tap"``.

    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(3, 2, 3), nn.AdaptiveAvgPool2d(1))
    >>> hookable(net, "1:input")[1], hookable(net, "0") == (net, "0")
    ('tap', True)
    """
    tapped = TappedLayer.parse(layer)
    if tapped.tap == "output":
        network.get_submodule(tapped.name)
        return network, tapped.name
    return InputTap(network, tapped.name), "tap"


__all__ = ["InputTap", "hookable"]
