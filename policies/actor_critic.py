"""Actor-critic policies for SB3 PPO/A2C built on :class:`~motionlab.policies.networks.ActorCriticTrunks`.

* :class:`MoGActorCriticPolicy` -- mixture-of-Gaussians action head
  (:class:`~motionlab.policies.distributions.MixtureOfGaussiansDistribution`).
* :class:`GaussianActorCriticPolicy` -- same trunks, SB3's ``DiagGaussianDistribution``
  (state-independent log-std), for comparison.

Both round-trip through ``PPO.save`` / ``PPO.load``: their own kwargs (``hidden_sizes``,
``layernorm``, ``residual_blocks``, ``n_components``) are stored by
``_get_constructor_parameters``; ``net_arch`` is derived from ``hidden_sizes`` and not stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.preprocessing import get_action_dim
from stable_baselines3.common.type_aliases import Schedule
from torch import nn

from .distributions import MixtureOfGaussiansDistribution
from .networks import ActorCriticTrunks

DEFAULT_HIDDEN_SIZES: tuple[int, ...] = (64, 64)


class _TrunkPolicyMixin:
    """Shared trunk construction / init / serialisation for the two policies."""

    #: Orthogonal-init gain for the output ``Linear`` of each residual block (near-identity blocks at init).
    residual_out_gain: float = 0.1

    hidden_sizes: list[int]
    layernorm: bool
    residual_blocks: int

    def _set_trunk_config(
        self, hidden_sizes: Sequence[int] | None, layernorm: bool, residual_blocks: int, kwargs: dict[str, Any]
    ) -> None:
        # Plain attributes may be set before nn.Module.__init__; they are needed inside super().__init__ (_build).
        self.hidden_sizes = [int(h) for h in (DEFAULT_HIDDEN_SIZES if hidden_sizes is None else hidden_sizes)]
        self.layernorm = bool(layernorm)
        self.residual_blocks = int(residual_blocks)
        # net_arch is derived from hidden_sizes (kept for SB3 introspection only).
        kwargs.pop("net_arch", None)
        kwargs["net_arch"] = dict(pi=list(self.hidden_sizes), vf=list(self.hidden_sizes))

    def _build_mlp_extractor(self) -> None:
        self.mlp_extractor = ActorCriticTrunks(  # type: ignore[assignment]
            self.features_dim,  # type: ignore[attr-defined]
            self.hidden_sizes,
            activation_fn=self.activation_fn,  # type: ignore[attr-defined]
            layernorm=self.layernorm,
            residual_blocks=self.residual_blocks,
            device=self.device,  # type: ignore[attr-defined]
        )

    def _init_residual_outputs(self) -> None:
        """Shrink residual-block output layers after SB3's orthogonal init (in place; optimizer unaffected)."""
        if getattr(self, "ortho_init", False):
            for layer in self.mlp_extractor.residual_output_layers():  # type: ignore[attr-defined]
                ActorCriticPolicy.init_weights(layer, gain=self.residual_out_gain)

    def _trunk_constructor_parameters(self, data: dict[str, Any]) -> dict[str, Any]:
        data.pop("net_arch", None)
        data.update(
            hidden_sizes=list(self.hidden_sizes), layernorm=self.layernorm, residual_blocks=self.residual_blocks
        )
        return data


class GaussianActorCriticPolicy(_TrunkPolicyMixin, ActorCriticPolicy):
    """:class:`ActorCriticTrunks` + SB3's diagonal Gaussian head (state-independent log-std).

    :param hidden_sizes: hidden widths of both the policy and the value trunk (default ``[64, 64]``).
    :param layernorm: LayerNorm after every hidden Linear / at the start of residual blocks.
    :param residual_blocks: number of pre-activation residual blocks appended to each trunk.
    :param log_std_init: initial log standard deviation.
    :param kwargs: any other ``ActorCriticPolicy`` kwarg (``activation_fn``, ``ortho_init``, ...).
        ``net_arch`` is ignored (derived from ``hidden_sizes``).
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        hidden_sizes: Sequence[int] | None = None,
        layernorm: bool = False,
        residual_blocks: int = 0,
        log_std_init: float = 0.0,
        **kwargs: Any,
    ):
        self._set_trunk_config(hidden_sizes, layernorm, residual_blocks, kwargs)
        super().__init__(observation_space, action_space, lr_schedule, log_std_init=log_std_init, **kwargs)

    def _build(self, lr_schedule: Schedule) -> None:
        super()._build(lr_schedule)
        self._init_residual_outputs()

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return self._trunk_constructor_parameters(super()._get_constructor_parameters())


class MoGActorCriticPolicy(_TrunkPolicyMixin, ActorCriticPolicy):
    """:class:`ActorCriticTrunks` + mixture-of-Gaussians head (state-dependent weights, means, log-stds).

    :param hidden_sizes: hidden widths of both the policy and the value trunk (default ``[64, 64]``).
    :param n_components: number of mixture components ``K``.
    :param layernorm: LayerNorm after every hidden Linear / at the start of residual blocks.
    :param residual_blocks: number of pre-activation residual blocks appended to each trunk.
    :param log_std_init: initial log standard deviation of every component.
    :param kwargs: any other ``ActorCriticPolicy`` kwarg (``activation_fn``, ``ortho_init``, ...).
        ``net_arch`` is ignored (derived from ``hidden_sizes``); gSDE is not supported.
    """

    action_net: nn.Module  # MixtureHead
    action_dist: MixtureOfGaussiansDistribution  # type: ignore[assignment]

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        hidden_sizes: Sequence[int] | None = None,
        n_components: int = 4,
        layernorm: bool = False,
        residual_blocks: int = 0,
        log_std_init: float = 0.0,
        **kwargs: Any,
    ):
        if not isinstance(action_space, spaces.Box):
            raise TypeError(f"MoGActorCriticPolicy needs a Box action space, got {action_space}")
        if kwargs.get("use_sde", False):
            raise ValueError("MoGActorCriticPolicy does not support gSDE (use_sde=True)")
        if int(n_components) < 1:
            raise ValueError(f"n_components must be >= 1, got {n_components}")
        self.n_components = int(n_components)
        self._set_trunk_config(hidden_sizes, layernorm, residual_blocks, kwargs)
        super().__init__(observation_space, action_space, lr_schedule, log_std_init=log_std_init, **kwargs)

    def _build(self, lr_schedule: Schedule) -> None:
        """Trunks + fused MoG head + value head, orthogonal init, optimizer."""
        self.action_dist = MixtureOfGaussiansDistribution(get_action_dim(self.action_space), self.n_components)
        self._build_mlp_extractor()
        self.action_net = self.action_dist.proba_distribution_net(
            latent_dim=self.mlp_extractor.latent_dim_pi, log_std_init=self.log_std_init
        )
        self.value_net = nn.Linear(self.mlp_extractor.latent_dim_vf, 1)
        if self.ortho_init:
            # Same gains as SB3's ActorCriticPolicy._build.
            module_gains: dict[nn.Module, float] = {
                self.mlp_extractor: np.sqrt(2),
                self.action_net: 0.01,
                self.value_net: 1.0,
            }
            if self.share_features_extractor:
                module_gains[self.features_extractor] = np.sqrt(2)
            else:
                module_gains[self.pi_features_extractor] = np.sqrt(2)
                module_gains[self.vf_features_extractor] = np.sqrt(2)
            for module, gain in module_gains.items():
                module.apply(partial(self.init_weights, gain=gain))
            self._init_residual_outputs()
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)  # type: ignore[call-arg]

    def _get_action_dist_from_latent(self, latent_pi: th.Tensor) -> MixtureOfGaussiansDistribution:  # type: ignore[override]
        logits, means, log_std = self.action_net(latent_pi)
        return self.action_dist.proba_distribution(logits, means, log_std)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = self._trunk_constructor_parameters(super()._get_constructor_parameters())
        data.update(n_components=self.n_components)
        return data


def make_policy_kwargs(
    arch: str,
    hidden: Sequence[int],
    components: int = 4,
    layernorm: bool = False,
    residual_blocks: int = 0,
    **extra: Any,
) -> tuple[type[ActorCriticPolicy], dict[str, Any]]:
    """Map an architecture name to ``(policy_cls, policy_kwargs)`` for ``PPO(policy_cls, env, policy_kwargs=kwargs)``.

    :param arch: ``"mog"`` (:class:`MoGActorCriticPolicy`) or ``"gaussian"`` (:class:`GaussianActorCriticPolicy`).
    :param hidden: hidden widths of the policy and value trunks.
    :param components: mixture components (``"mog"`` only; ignored for ``"gaussian"``).
    :param layernorm: enable LayerNorm in the trunks.
    :param residual_blocks: residual blocks per trunk.
    :param extra: further policy kwargs merged in (e.g. ``log_std_init``, ``activation_fn``, ``ortho_init``).
    """
    key = arch.lower().strip()
    kwargs: dict[str, Any] = dict(
        hidden_sizes=[int(h) for h in hidden], layernorm=bool(layernorm), residual_blocks=int(residual_blocks)
    )
    if key == "mog":
        cls: type[ActorCriticPolicy] = MoGActorCriticPolicy
        kwargs["n_components"] = int(components)
    elif key == "gaussian":
        cls = GaussianActorCriticPolicy
    else:
        raise ValueError(f"unknown policy arch {arch!r}; expected 'mog' or 'gaussian'")
    kwargs.update(extra)
    return cls, kwargs
