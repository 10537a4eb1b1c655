r"""The field network :math:`u_\theta(x)`: input scaling, an optional embedding, an MLP, and an
optional hard-constraint output transform.

**Embeddings** (the first layer's features):

* ``"none"`` — the box-normalised inputs in :math:`[-1, 1]^d`.
* ``"fourier"`` — random Fourier features :math:`[\cos 2\pi B z, \sin 2\pi B z]` with
  :math:`B_{kj} \sim N(0, \sigma^2)` (Tancik et al. 2020), appended to :math:`z`. An MLP
  learns low frequencies first ("spectral bias"); the features give it high ones from step 1.
* ``"cosine"`` on chosen dimensions — :math:`\cos(k\pi s)`, :math:`k = 1..K`, of the unit
  coordinate :math:`s \in [0, 1]`: every function of them has zero derivative at both ends,
  so a no-flux (Neumann) boundary holds *exactly*, not as a penalty.
* ``"periodic"`` on chosen dimensions — :math:`\cos, \sin(2\pi k s)`: exactly periodic.

**Output transform** (hard constraints): ``transform(x, raw) -> u`` e.g.
:math:`u = u_0(x) + t\,\mathrm{raw}` enforces an initial condition exactly.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from .domain import Box

__all__ = ["FieldNet", "OutputTransform"]

#: ``transform(x, raw) -> u``: x in physical units `n x d`, raw network output `n x m`.
OutputTransform = Callable[[Tensor, Tensor], Tensor]


class FieldNet(nn.Module):
    r"""An MLP field :math:`u_\theta: \text{box} \to \mathbb{R}^m` with switchable embedding.

    Args:
        domain: The input box (used to scale inputs to :math:`[-1, 1]`).
        out_dim: Number of output fields :math:`m`.
        width: Hidden units per layer.
        depth: Number of hidden layers.
        fourier_features: Number of random Fourier frequencies (0: none).
        fourier_scale: Their standard deviation :math:`\sigma` (cycles per unit of the
            normalised input).
        cosine_dims: Names of dimensions embedded by :math:`\cos(k\pi s)` (exact Neumann).
        periodic_dims: Names of dimensions embedded by :math:`\cos/\sin(2\pi k s)`.
        harmonics: :math:`K`, the number of cosine / periodic harmonics.
        transform: Optional hard-constraint output transform.
        zero_output: Start with a zero last layer (the network starts at :math:`u = 0`, e.g.
            the undeformed body of an energy problem, whose energy is finite there).
        seed: Seeds the weights and the Fourier matrix.
        dtype: Parameter dtype.
    """

    _plain: Tensor
    _k: Tensor
    _fourier: Tensor

    def __init__(self, domain: Box, out_dim: int = 1, width: int = 32, depth: int = 3, *,
                 fourier_features: int = 0, fourier_scale: float = 1.0,
                 cosine_dims: Sequence[str] = (), periodic_dims: Sequence[str] = (),
                 harmonics: int = 8, transform: OutputTransform | None = None,
                 zero_output: bool = False, seed: int = 0,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.domain = domain
        self.transform = transform
        generator = torch.Generator().manual_seed(seed)
        self._special = {domain.index(n): "cos" for n in cosine_dims}
        self._special.update({domain.index(n): "per" for n in periodic_dims})
        self.harmonics = harmonics
        plain = [j for j in range(domain.dim) if j not in self._special]
        self.register_buffer("_plain", torch.tensor(plain, dtype=torch.long))
        self.register_buffer("_k", torch.arange(1, harmonics + 1, dtype=dtype))
        b = torch.randn(domain.dim, fourier_features, generator=generator, dtype=torch.float64)
        self.register_buffer("_fourier", (fourier_scale * b).to(dtype))
        n_in = len(plain) + 2 * fourier_features + sum(
            harmonics if kind == "cos" else 2 * harmonics for kind in self._special.values())
        layers: list[nn.Module] = []
        sizes = [n_in] + [width] * depth
        for a, b_ in itertools.pairwise(sizes):
            layers += [nn.Linear(a, b_, dtype=dtype), nn.Tanh()]
        layers.append(nn.Linear(sizes[-1], out_dim, dtype=dtype))
        self.mlp = nn.Sequential(*layers)
        self._init_weights(generator)
        if zero_output:
            last = self.mlp[-1]
            assert isinstance(last, nn.Linear)
            with torch.no_grad():
                last.weight.zero_()

    def _init_weights(self, generator: torch.Generator) -> None:
        """Glorot-normal weights, zero biases (the usual PINN start), reproducibly seeded."""
        for layer in self.mlp:
            if isinstance(layer, nn.Linear):
                fan = layer.in_features + layer.out_features
                w = torch.randn(layer.weight.shape, generator=generator, dtype=torch.float64)
                with torch.no_grad():
                    layer.weight.copy_(w * math.sqrt(2.0 / fan))
                    layer.bias.zero_()

    def features(self, x: Tensor) -> Tensor:
        """The first layer's input features for physical points `n x d`."""
        z = self.domain.normalise(x)
        parts = [z[:, self._plain]]
        if self._fourier.shape[1]:
            proj = 2.0 * math.pi * z @ self._fourier
            parts += [torch.cos(proj), torch.sin(proj)]
        for j, kind in self._special.items():
            s = (z[:, j:j + 1] + 1.0) / 2.0
            if kind == "cos":
                parts.append(torch.cos(math.pi * s * self._k))
            else:
                parts += [torch.cos(2 * math.pi * s * self._k),
                          torch.sin(2 * math.pi * s * self._k)]
        return torch.cat(parts, dim=1)

    def forward(self, x: Tensor) -> Tensor:
        """Field values `n x m` at physical points `n x d`."""
        raw = self.mlp(self.features(x))
        return raw if self.transform is None else self.transform(x, raw)
