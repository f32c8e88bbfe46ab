"""MLP trunks for the actor-critic policies.

``MlpTrunk``: ``[Linear -> LayerNorm? -> act] * len(hidden_sizes)`` followed by
``residual_blocks`` pre-activation residual blocks
(``x + Linear(act(Linear(LayerNorm?(x))))``, width = last hidden size).

``ActorCriticTrunks``: two independent trunks (policy / value) with the same
interface as SB3's ``MlpExtractor`` (``latent_dim_pi``, ``latent_dim_vf``,
``forward_actor``, ``forward_critic``), so it can replace ``policy.mlp_extractor``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch as th
from stable_baselines3.common.utils import get_device
from torch import nn


class ResidualBlock(nn.Module):
    """Pre-activation residual block: ``x + fc2(act(fc1(norm(x))))``."""

    def __init__(self, width: int, activation_fn: type[nn.Module] = nn.Tanh, layernorm: bool = False):
        super().__init__()
        self.norm: nn.Module = nn.LayerNorm(width) if layernorm else nn.Identity()
        self.fc1 = nn.Linear(width, width)
        self.act = activation_fn()
        self.fc2 = nn.Linear(width, width)

    def forward(self, x: th.Tensor) -> th.Tensor:
        return x + self.fc2(self.act(self.fc1(self.norm(x))))


class MlpTrunk(nn.Module):
    """Configurable MLP: hidden layers (optional LayerNorm) + optional residual blocks.

    :param input_dim: input feature size.
    :param hidden_sizes: widths of the plain hidden layers (may be empty).
    :param activation_fn: activation class (e.g. ``nn.Tanh``).
    :param layernorm: insert ``LayerNorm`` after every hidden ``Linear`` and at the start of every residual block.
    :param residual_blocks: number of residual blocks appended (width = last hidden size, or ``input_dim``).
    """

    def __init__(
        self,
        input_dim: int,
        hidden_sizes: Sequence[int],
        activation_fn: type[nn.Module] = nn.Tanh,
        layernorm: bool = False,
        residual_blocks: int = 0,
    ):
        super().__init__()
        if residual_blocks < 0:
            raise ValueError(f"residual_blocks must be >= 0, got {residual_blocks}")
        layers: list[nn.Module] = []
        last = int(input_dim)
        for width in hidden_sizes:
            layers.append(nn.Linear(last, int(width)))
            if layernorm:
                layers.append(nn.LayerNorm(int(width)))
            layers.append(activation_fn())
            last = int(width)
        for _ in range(residual_blocks):
            layers.append(ResidualBlock(last, activation_fn, layernorm))
        self.net = nn.Sequential(*layers)
        self.output_dim = last

    def forward(self, x: th.Tensor) -> th.Tensor:
        return self.net(x)

    def residual_output_layers(self) -> list[nn.Linear]:
        """The last ``Linear`` of every residual block (re-initialised small so blocks start near identity)."""
        return [m.fc2 for m in self.net if isinstance(m, ResidualBlock)]


class ActorCriticTrunks(nn.Module):
    """Separate policy and value trunks with SB3's ``MlpExtractor`` interface.

    :param feature_dim: size of the features coming out of the features extractor.
    :param hidden_sizes: hidden widths used for both trunks.
    :param activation_fn: activation class.
    :param layernorm: see :class:`MlpTrunk`.
    :param residual_blocks: see :class:`MlpTrunk`.
    :param device: device to place the modules on.
    """

    def __init__(
        self,
        feature_dim: int,
        hidden_sizes: Sequence[int],
        activation_fn: type[nn.Module] = nn.Tanh,
        layernorm: bool = False,
        residual_blocks: int = 0,
        device: th.device | str = "auto",
    ):
        super().__init__()
        self.policy_net = MlpTrunk(feature_dim, hidden_sizes, activation_fn, layernorm, residual_blocks)
        self.value_net = MlpTrunk(feature_dim, hidden_sizes, activation_fn, layernorm, residual_blocks)
        self.latent_dim_pi = self.policy_net.output_dim
        self.latent_dim_vf = self.value_net.output_dim
        self.to(get_device(device))

    def forward(self, features: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        return self.forward_actor(features), self.forward_critic(features)

    def forward_actor(self, features: th.Tensor) -> th.Tensor:
        return self.policy_net(features)

    def forward_critic(self, features: th.Tensor) -> th.Tensor:
        return self.value_net(features)

    def residual_output_layers(self) -> list[nn.Linear]:
        return self.policy_net.residual_output_layers() + self.value_net.residual_output_layers()
