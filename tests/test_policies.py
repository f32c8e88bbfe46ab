"""Tests for motionlab.policies (MoG distribution, trunks, SB3 policies). No mocks; CPU only; ~10 s."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.distributions import DiagGaussianDistribution
from stable_baselines3.common.env_util import make_vec_env
from torch import nn
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

from motionlab.policies import (
    GaussianActorCriticPolicy,
    MixtureOfGaussiansDistribution,
    MlpTrunk,
    MoGActorCriticPolicy,
    ResidualBlock,
    make_policy_kwargs,
)
from motionlab.policies.distributions import LOG_STD_MAX, LOG_STD_MIN

th.set_num_threads(1)


def _random_params(batch: int, k: int, a: int, seed: int = 0) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
    g = th.Generator().manual_seed(seed)
    logits = th.randn(batch, k, generator=g) * 2.0
    means = th.randn(batch, k, a, generator=g) * 1.5
    log_std = th.rand(batch, k, a, generator=g) * 2.5 - 2.0  # inside [LOG_STD_MIN, LOG_STD_MAX]
    return logits, means, log_std


# ------------------------------------------------------------------ distribution
def test_log_prob_matches_torch_mixture_and_numpy_formula() -> None:
    batch, k, a = 32, 3, 4
    logits, means, log_std = _random_params(batch, k, a, seed=1)
    dist = MixtureOfGaussiansDistribution(a, k).proba_distribution(logits, means, log_std)
    actions = th.randn(batch, a) * 2.0

    ref = MixtureSameFamily(Categorical(logits=logits), Independent(Normal(means, log_std.exp()), 1))
    lp = dist.log_prob(actions)
    assert lp.shape == (batch,)
    th.testing.assert_close(lp, ref.log_prob(actions), rtol=1e-5, atol=1e-5)

    # Hand-written float64 numpy formula.
    lg, mu, ls, x = (t.double().numpy() for t in (logits, means, log_std, actions))
    logw = lg - np.log(np.exp(lg).sum(-1, keepdims=True))
    sd = np.exp(ls)
    comp = (-0.5 * ((x[:, None, :] - mu) / sd) ** 2 - ls - 0.5 * math.log(2 * math.pi)).sum(-1)
    expected = np.log(np.exp(comp + logw).sum(-1))
    np.testing.assert_allclose(lp.double().numpy(), expected, rtol=1e-5, atol=1e-4)


def test_log_prob_is_finite_far_from_all_components() -> None:
    logits, means, log_std = _random_params(8, 3, 2, seed=2)
    dist = MixtureOfGaussiansDistribution(2, 3).proba_distribution(logits, means, th.full_like(log_std, LOG_STD_MIN))
    lp = dist.log_prob(th.full((8, 2), 50.0))
    assert th.isfinite(lp).all()  # log-sum-exp, no underflow to -inf


def test_k1_matches_sb3_diag_gaussian_exactly() -> None:
    batch, a = 64, 6
    g = th.Generator().manual_seed(3)
    mean = th.randn(batch, a, generator=g)
    log_std = th.rand(a, generator=g) * 2.0 - 1.5  # SB3-style state-independent (A,) log-std
    sb3 = DiagGaussianDistribution(a).proba_distribution(mean, log_std)
    mog = MixtureOfGaussiansDistribution(a, 1).proba_distribution(th.randn(batch, 1), mean.unsqueeze(1), log_std)
    actions = sb3.sample()
    assert th.equal(mog.log_prob(actions), sb3.log_prob(actions))
    assert th.equal(mog.entropy(), sb3.entropy())
    assert th.equal(mog.mode(), sb3.mode())
    th.manual_seed(7)
    s_sb3 = sb3.sample()
    th.manual_seed(7)
    s_mog = mog.sample()
    assert th.equal(s_mog, s_sb3)  # same RNG consumption -> identical samples


def test_mode_is_mean_of_most_likely_component() -> None:
    batch, k, a = 16, 3, 2
    logits, means, log_std = _random_params(batch, k, a, seed=4)
    dist = MixtureOfGaussiansDistribution(a, k).proba_distribution(logits, means, log_std)
    best = logits.argmax(-1)
    assert th.equal(dist.mode(), means[th.arange(batch), best])
    assert th.equal(dist.get_actions(deterministic=True), dist.mode())


def test_samples_follow_mixture_weights() -> None:
    n, a = 20000, 3
    logits = th.log(th.tensor([0.8, 0.2])).expand(n, 2)
    means = th.stack([th.full((a,), -5.0), th.full((a,), 5.0)]).expand(n, 2, a)
    log_std = th.full((n, 2, a), math.log(0.1))
    dist = MixtureOfGaussiansDistribution(a, 2).proba_distribution(logits, means, log_std)
    th.manual_seed(0)
    x = dist.sample()
    assert x.shape == (n, a)
    near_neg = ((x + 5.0).abs() < 0.6).all(-1).float().mean().item()
    near_pos = ((x - 5.0).abs() < 0.6).all(-1).float().mean().item()
    assert near_neg + near_pos == pytest.approx(1.0, abs=1e-3)
    assert near_pos == pytest.approx(0.2, abs=0.015)
    # within-component spread is the component std
    assert x[x[:, 0] > 0].std(0).mean().item() == pytest.approx(0.1, rel=0.1)
    # actions_from_params / log_prob_from_params
    acts, lp = dist.log_prob_from_params(logits[:5], means[:5], log_std[:5])
    assert acts.shape == (5, a) and lp.shape == (5,)
    th.testing.assert_close(lp, dist.log_prob(acts))


def test_entropy_bounds_and_clamp() -> None:
    batch, k, a = 512, 3, 2
    logits, means, log_std = _random_params(batch, k, a, seed=5)
    means = means * 0.3  # overlapping components -> non-trivial mixture entropy
    dist = MixtureOfGaussiansDistribution(a, k).proba_distribution(logits, means, log_std)
    lower, upper = dist.entropy(), dist.entropy_upper_bound()
    # Monte-Carlo estimate of the true entropy, batched over 4000 samples per state.
    ref = dist.distribution
    mc = -ref.log_prob(ref.sample((4000,))).mean(0)
    assert (lower <= mc + 0.05).all() and (mc <= upper + 0.05).all()
    # deterministic and differentiable w.r.t. weights and stds
    lg, ls = logits.clone().requires_grad_(), log_std.clone().requires_grad_()
    ent = MixtureOfGaussiansDistribution(a, k).proba_distribution(lg, means, ls).entropy()
    assert th.equal(ent.detach(), lower)
    ent.sum().backward()
    assert th.isfinite(lg.grad).all() and lg.grad.abs().sum() > 0 and th.isfinite(ls.grad).all()
    # log-std clamp
    big = MixtureOfGaussiansDistribution(a, k).proba_distribution(logits, means, th.full_like(log_std, 10.0))
    assert th.allclose(big.std, th.full_like(big.std, math.exp(LOG_STD_MAX)))


# ------------------------------------------------------------------ networks / policies
def _count(module: nn.Module, kind: type[nn.Module]) -> int:
    return sum(isinstance(m, kind) for m in module.modules())


def test_trunk_flags_change_structure() -> None:
    plain = MlpTrunk(10, [32, 16])
    ln = MlpTrunk(10, [32, 16], layernorm=True)
    res = MlpTrunk(10, [32, 16], residual_blocks=2)
    both = MlpTrunk(10, [32, 16], layernorm=True, residual_blocks=2)
    assert _count(plain, nn.LayerNorm) == 0 and _count(plain, ResidualBlock) == 0
    assert _count(ln, nn.LayerNorm) == 2
    assert _count(res, ResidualBlock) == 2 and _count(res, nn.LayerNorm) == 0
    assert _count(both, ResidualBlock) == 2 and _count(both, nn.LayerNorm) == 4
    n_params = [sum(p.numel() for p in m.parameters()) for m in (plain, ln, res, both)]
    assert len(set(n_params)) == 4
    x = th.randn(5, 10)
    assert all(m(x).shape == (5, 16) for m in (plain, ln, res, both))

    env = gym.make("Pendulum-v1")
    for flags in [dict(layernorm=False, residual_blocks=0), dict(layernorm=True, residual_blocks=1)]:
        model = PPO(MoGActorCriticPolicy, env, policy_kwargs=dict(hidden_sizes=[16, 16], n_components=3, **flags), device="cpu")
        ext = model.policy.mlp_extractor
        assert _count(ext, ResidualBlock) == 2 * flags["residual_blocks"]
        assert (_count(ext, nn.LayerNorm) > 0) == flags["layernorm"]
        assert model.policy.action_net.linear.out_features == 3 + 2 * 3 * 1
        # residual blocks start near identity (small output layer)
        for layer in ext.residual_output_layers():
            assert layer.weight.abs().max().item() < 0.2


def test_make_policy_kwargs() -> None:
    cls, kw = make_policy_kwargs("mog", [64, 64], 5, True, 2)
    assert cls is MoGActorCriticPolicy
    assert kw == dict(hidden_sizes=[64, 64], layernorm=True, residual_blocks=2, n_components=5)
    cls, kw = make_policy_kwargs("gaussian", [32], 5, False, 0, log_std_init=-0.5)
    assert cls is GaussianActorCriticPolicy
    assert kw == dict(hidden_sizes=[32], layernorm=False, residual_blocks=0, log_std_init=-0.5)
    with pytest.raises(ValueError):
        make_policy_kwargs("transformer", [8], 1, False, 0)


class TargetBandit(gym.Env):
    """Observation = random target in [-1, 1]^2, reward = -||action - target||^2, 4-step episodes."""

    def __init__(self) -> None:
        self.observation_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = spaces.Box(-2.0, 2.0, (2,), np.float32)
        self.t = 0
        self.target = np.zeros(2, np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.t = 0
        self.target = self.np_random.uniform(-1, 1, 2).astype(np.float32)
        return self.target.copy(), {}

    def step(self, action):
        reward = -float(np.sum((np.asarray(action) - self.target) ** 2))
        self.t += 1
        self.target = self.np_random.uniform(-1, 1, 2).astype(np.float32)
        return self.target.copy(), reward, False, self.t >= 4, {}


def _greedy_reward(model: PPO, n: int = 512) -> float:
    obs = np.random.default_rng(123).uniform(-1, 1, (n, 2)).astype(np.float32)
    act, _ = model.predict(obs, deterministic=True)
    return float(-np.mean(np.sum((act - obs) ** 2, axis=1)))


@pytest.mark.parametrize("arch,layernorm,residual_blocks", [("mog", False, 0), ("mog", True, 1), ("gaussian", True, 1)])
def test_ppo_learns_and_save_load_roundtrip(tmp_path, arch: str, layernorm: bool, residual_blocks: int) -> None:
    env = make_vec_env(TargetBandit, n_envs=4, seed=0)
    cls, kw = make_policy_kwargs(arch, [32, 32], 3, layernorm, residual_blocks)
    model = PPO(cls, env, policy_kwargs=kw, n_steps=128, batch_size=128, n_epochs=5, learning_rate=3e-3, seed=0, device="cpu")
    before = _greedy_reward(model)
    model.learn(3072)
    after = _greedy_reward(model)
    assert after > before + 0.3, (before, after)  # ~ -0.67 -> ~ -0.03
    assert after > -0.25

    path = tmp_path / f"{arch}.zip"
    model.save(path)
    loaded = PPO.load(path, device="cpu")
    assert type(loaded.policy) is cls
    for key, value in kw.items():
        assert getattr(loaded.policy, key) == value
    obs = np.random.default_rng(1).uniform(-1, 1, (64, 2)).astype(np.float32)
    a0, _ = model.predict(obs, deterministic=True)
    a1, _ = loaded.predict(obs, deterministic=True)
    np.testing.assert_array_equal(a0, a1)
    # log-probs of the same actions also agree
    obs_t = th.as_tensor(obs)
    with th.no_grad():
        _, lp0, _ = model.policy.evaluate_actions(obs_t, th.as_tensor(a0))
        _, lp1, _ = loaded.policy.evaluate_actions(obs_t, th.as_tensor(a0))
    th.testing.assert_close(lp0, lp1, rtol=0, atol=0)
    # training can resume after loading
    loaded.set_env(env)
    loaded.learn(256)


@pytest.mark.parametrize("which", ["track", "ideal"])
def test_loaded_policy_predict_equals_sb3_predict(which: str) -> None:
    """The shipped policies' fast ``predict`` (no per-call eval switch and space checks) gives SB3's
    ``predict`` actions bit for bit, for one observation and a batch, deterministic and sampled, and
    actions stay inside the action space."""
    from motionlab.assets import CHECKPOINT_DIR
    from motionlab.policy_io import load_policy

    policy = load_policy(CHECKPOINT_DIR / which)
    obs = np.random.default_rng(0).normal(0.0, 3.0, (16, policy.obs_dim))
    sb3 = policy.policy.predict(policy.normalize(obs), deterministic=True)[0]
    np.testing.assert_array_equal(policy.predict(obs), sb3)
    np.testing.assert_array_equal(policy.predict(obs[3]), policy.policy.predict(policy.normalize(obs[3]), deterministic=True)[0])
    assert policy.predict(obs[3]).shape == policy.action_space.shape
    th.manual_seed(1)
    sampled = policy.predict(obs, deterministic=False)
    th.manual_seed(1)
    np.testing.assert_array_equal(sampled, policy.policy.predict(policy.normalize(obs), deterministic=False)[0])
    assert np.all(sampled >= policy.action_space.low) and np.all(sampled <= policy.action_space.high)
