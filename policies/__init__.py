"""Custom SB3 actor-critic policies: mixture-of-Gaussians head and plain Gaussian head on MLP/residual trunks."""

from .actor_critic import GaussianActorCriticPolicy, MoGActorCriticPolicy, make_policy_kwargs
from .distributions import MixtureHead, MixtureOfGaussiansDistribution
from .networks import ActorCriticTrunks, MlpTrunk, ResidualBlock

__all__ = [
    "ActorCriticTrunks",
    "GaussianActorCriticPolicy",
    "MixtureHead",
    "MixtureOfGaussiansDistribution",
    "MlpTrunk",
    "MoGActorCriticPolicy",
    "ResidualBlock",
    "make_policy_kwargs",
]
