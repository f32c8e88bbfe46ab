"""Mixture-of-Gaussians action distribution for Stable-Baselines3 (PPO / A2C).

Modelled on :class:`stable_baselines3.common.distributions.DiagGaussianDistribution`.
A policy latent ``z`` is mapped by a single fused linear head (:class:`MixtureHead`) to

* ``logits``  ``(B, K)``    -- unnormalised mixture weights,
* ``means``   ``(B, K, A)`` -- component means,
* ``log_std`` ``(B, K, A)`` -- component log standard deviations (state dependent),

and the action density is ``p(a) = sum_k w_k prod_d N(a_d; mu_kd, sigma_kd)``.
All operations are batched over components (no Python loops over ``K``).

With ``K == 1`` every method reproduces ``DiagGaussianDistribution`` bit-for-bit
(same torch ops in the same order) given the same mean / log-std, as long as the
log-std lies inside ``[LOG_STD_MIN, LOG_STD_MAX]`` (the clamp is the only difference).
"""

from __future__ import annotations

import math
from typing import TypeVar

import torch as th
from stable_baselines3.common.distributions import Distribution
from torch import nn
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

LOG_STD_MIN: float = -5.0
LOG_STD_MAX: float = 2.0
# Same constants torch.distributions.Normal uses, so that K=1 matches SB3 exactly.
_LOG_SQRT_2PI: float = math.log(math.sqrt(2 * math.pi))
_ENTROPY_CONST: float = 0.5 + 0.5 * math.log(2 * math.pi)

SelfMoG = TypeVar("SelfMoG", bound="MixtureOfGaussiansDistribution")


class MixtureHead(nn.Module):
    """Fused linear head ``latent -> (logits, means, log_std)`` for a K-component mixture.

    One ``nn.Linear(latent_dim, K + 2*K*A)`` whose output is split and reshaped.
    ``log_std_init`` is added as a constant offset to the log-std slice, so SB3's
    orthogonal init (which zeroes biases) keeps the intended initial std.
    """

    def __init__(self, latent_dim: int, action_dim: int, n_components: int, log_std_init: float = 0.0):
        super().__init__()
        self.action_dim = int(action_dim)
        self.n_components = int(n_components)
        self.log_std_init = float(log_std_init)
        k, a = self.n_components, self.action_dim
        self.linear = nn.Linear(latent_dim, k + 2 * k * a)

    def forward(self, latent: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        k, a = self.n_components, self.action_dim
        out = self.linear(latent)
        logits, rest = out.split([k, 2 * k * a], dim=-1)
        # rest layout per component: [means (A), log_std (A)]
        means, log_std = rest.reshape(*out.shape[:-1], k, 2, a).unbind(dim=-2)
        if self.log_std_init != 0.0:
            log_std = log_std + self.log_std_init
        return logits, means, log_std

    def extra_repr(self) -> str:
        return f"n_components={self.n_components}, action_dim={self.action_dim}, log_std_init={self.log_std_init}"


class MixtureOfGaussiansDistribution(Distribution):
    """Mixture of ``K`` diagonal Gaussians with state-dependent weights, means and stds.

    :param action_dim: dimension of the (continuous) action space.
    :param n_components: number of mixture components ``K``.

    Entropy: a mixture of Gaussians has no closed-form entropy. :meth:`entropy`
    returns the deterministic, differentiable *lower bound*
    ``sum_k w_k H(N_k) <= H(p)`` (concavity of entropy); the matching upper bound
    ``sum_k w_k H(N_k) + H(w)`` is :meth:`entropy_upper_bound`. The lower bound is
    exact for ``K == 1`` and, unlike ``-log p(sample)``, has a useful (non-zero
    mean) gradient, so PPO's entropy bonus behaves like the Gaussian one.
    """

    def __init__(self, action_dim: int, n_components: int = 4):
        super().__init__()
        if n_components < 1:
            raise ValueError(f"n_components must be >= 1, got {n_components}")
        self.action_dim = int(action_dim)
        self.n_components = int(n_components)
        self.logits: th.Tensor
        self.log_weights: th.Tensor  # (..., K), log-softmax of logits
        self.means: th.Tensor  # (..., K, A)
        self.log_std: th.Tensor  # (..., K, A), clamped
        self._std: th.Tensor | None = None
        self._log_std_sum: th.Tensor | None = None

    # ------------------------------------------------------------------ setup
    def proba_distribution_net(self, latent_dim: int, log_std_init: float = 0.0) -> MixtureHead:  # type: ignore[override]
        """Create the fused head mapping the policy latent to ``(logits, means, log_std)``."""
        return MixtureHead(latent_dim, self.action_dim, self.n_components, log_std_init)

    def proba_distribution(  # type: ignore[override]
        self: SelfMoG, logits: th.Tensor | None, means: th.Tensor, log_std: th.Tensor
    ) -> SelfMoG:
        """Set the parameters.

        :param logits: ``(..., K)`` mixture logits (``None`` = uniform weights).
        :param means: ``(..., K, A)`` component means.
        :param log_std: log-stds broadcastable to ``means`` (clamped to ``[LOG_STD_MIN, LOG_STD_MAX]``).
        :return: self
        """
        if means.shape[-2:] != (self.n_components, self.action_dim):
            raise ValueError(
                f"means must end with (K, A)=({self.n_components}, {self.action_dim}), got {tuple(means.shape)}"
            )
        if logits is None:
            logits = th.zeros(means.shape[:-1], dtype=means.dtype, device=means.device)
        log_std = log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
        if log_std.shape != means.shape:
            log_std = log_std.expand_as(means)  # e.g. SB3-style state-independent (A,) log-std
        self.logits = logits
        self.log_weights = th.log_softmax(logits, dim=-1)
        self.means = means
        self.log_std = log_std
        self._std = None
        self._log_std_sum = None
        return self

    @property
    def std(self) -> th.Tensor:
        """Component standard deviations ``(..., K, A)`` (computed lazily)."""
        if self._std is None:
            self._std = self.log_std.exp()
        return self._std

    @property
    def _sum_log_std(self) -> th.Tensor:
        """``sum_d log sigma_kd``, shape ``(..., K)``; shared by ``log_prob`` and ``entropy``."""
        if self._log_std_sum is None:
            self._log_std_sum = self.log_std.sum(dim=-1)
        return self._log_std_sum

    @property
    def distribution(self) -> MixtureSameFamily:  # type: ignore[override]
        """Equivalent ``torch.distributions.MixtureSameFamily`` (built lazily; for inspection/tests)."""
        return MixtureSameFamily(
            Categorical(logits=self.logits), Independent(Normal(self.means, self.std, validate_args=False), 1)
        )

    @property
    def weights(self) -> th.Tensor:
        """Mixture weights ``(..., K)``."""
        return self.log_weights.exp()

    # ------------------------------------------------------------- densities
    def component_log_prob(self, actions: th.Tensor) -> th.Tensor:
        """Per-component log-densities ``log N_k(a)`` summed over action dims, shape ``(..., K)``."""
        diff = actions.unsqueeze(-2) - self.means  # (..., K, A)
        if self.n_components == 1:
            # Exactly torch.distributions.Normal.log_prob as used by SB3 (bitwise-identical for K=1).
            std = self.std
            return (-(diff**2) / (2 * std**2) - std.log() - _LOG_SQRT_2PI).sum(dim=-1)
        z = diff * th.exp(-self.log_std)
        return -0.5 * (z * z).sum(dim=-1) - self._sum_log_std - self.action_dim * _LOG_SQRT_2PI

    def log_prob(self, actions: th.Tensor) -> th.Tensor:
        """Exact ``log p(a) = logsumexp_k(log w_k + log N_k(a))``, shape ``(...,)``."""
        comp = self.component_log_prob(actions)
        if self.n_components == 1:
            return comp.squeeze(-1)
        return th.logsumexp(comp + self.log_weights, dim=-1)

    def component_entropy(self) -> th.Tensor:
        """Closed-form entropy of every Gaussian component, shape ``(..., K)``."""
        if self.n_components == 1:
            return (_ENTROPY_CONST + th.log(self.std)).sum(dim=-1)  # SB3's expression
        return self._sum_log_std + self.action_dim * _ENTROPY_CONST

    def entropy(self) -> th.Tensor:
        """Lower bound ``sum_k w_k H(N_k)`` on the mixture entropy (exact for K=1)."""
        if self.n_components == 1:
            return self.component_entropy().squeeze(-1)
        return (self.weights * self._sum_log_std).sum(dim=-1) + self.action_dim * _ENTROPY_CONST

    def entropy_upper_bound(self) -> th.Tensor:
        """Upper bound ``sum_k w_k H(N_k) + H(w)`` on the mixture entropy."""
        w_entropy = -(self.weights * self.log_weights).sum(dim=-1)
        return self.entropy() + w_entropy

    # --------------------------------------------------------------- actions
    def _gather(self, params: th.Tensor, idx: th.Tensor) -> th.Tensor:
        """Select ``params[..., idx, :]`` per batch element: ``(..., K, A), (...,) -> (..., A)``."""
        index = idx.unsqueeze(-1).unsqueeze(-1).expand(*idx.shape, 1, self.action_dim)
        return params.gather(-2, index).squeeze(-2)

    def sample_components(self) -> th.Tensor:
        """Sample a component index per batch element (Gumbel-max trick), shape ``(...,)``."""
        u = th.rand_like(self.log_weights).clamp_(min=th.finfo(self.log_weights.dtype).tiny)
        return (self.log_weights - th.log(-th.log(u))).argmax(dim=-1)

    def sample(self) -> th.Tensor:
        """Sample a component, then a Gaussian action from it (reparameterised given the component)."""
        if self.n_components == 1:
            mean, std = self.means.squeeze(-2), self.std.squeeze(-2)
        else:
            idx = self.sample_components()
            mean, std = self._gather(self.means, idx), self._gather(self.log_std, idx).exp()
        # Same op order / RNG use as torch Normal.rsample (loc + eps * scale).
        eps = th.empty_like(mean).normal_()
        return mean + eps * std

    def mode(self) -> th.Tensor:
        """Mean of the most likely (highest-weight) component."""
        if self.n_components == 1:
            return self.means.squeeze(-2)
        return self._gather(self.means, self.logits.argmax(dim=-1))

    def actions_from_params(  # type: ignore[override]
        self, logits: th.Tensor | None, means: th.Tensor, log_std: th.Tensor, deterministic: bool = False
    ) -> th.Tensor:
        self.proba_distribution(logits, means, log_std)
        return self.get_actions(deterministic=deterministic)

    def log_prob_from_params(  # type: ignore[override]
        self, logits: th.Tensor | None, means: th.Tensor, log_std: th.Tensor
    ) -> tuple[th.Tensor, th.Tensor]:
        actions = self.actions_from_params(logits, means, log_std)
        return actions, self.log_prob(actions)
