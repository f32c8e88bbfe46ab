"""The policy file format shared by training and inference, and :func:`load_policy`.

Inference reads a policy from any directory holding the three inference files; a training checkpoint
(:mod:`motionlab.training.checkpoint`, ``<run_dir>/latest/``, ``<run_dir>/best/``) holds them beside
its resume state, an export (:func:`export_policy`, ``<run_dir>/export/``) holds only them:

====================  ==========================================================================
``policy.pt``         policy ``state_dict`` (tensors only; ``torch.load(weights_only=True)``)
``obs_norm.npz``      observation normalisation: ``mean``, ``var``, ``clip``, ``epsilon``, ``enabled``
                      (plain arrays; ``np.load(allow_pickle=False)``)
``meta.json``         env id and kwargs, observation/action layout, body, policy class, kwargs and
                      config, samples used, resume points, last evaluation, resolved training config
                      and command
====================  ==========================================================================

Nothing here unpickles: a policy directory may come from anyone. This module sits below both
:mod:`motionlab.training` and :mod:`motionlab.inference`; inference never imports the trainer.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import ActorCriticPolicy

from motionlab.errors import CheckpointError, UserError
from motionlab.io_utils import atomic_directory
from motionlab.policies import make_policy_kwargs

FORMAT = "motionlab-policy"
FORMAT_VERSION = 1
INFERENCE_FILES = ("meta.json", "obs_norm.npz", "policy.pt")
META_KEYS = ("env_id", "env_kwargs", "observation_shape", "action_low", "action_high", "policy", "num_timesteps")


MAX_POLICY_WEIGHTS = 50_000_000  # hidden-to-hidden weights of both trunks; [1024, 1024, 512] has ~3.2 M
MAX_OBSERVATION_DIM = 100_000
MAX_ACTION_DIM = 1_000
POLICY_KEYS = ("arch", "hidden", "components", "layernorm", "residual_blocks", "log_std_init")


def _hidden_weights(hidden: list[int], residual_blocks: int) -> int:
    """Hidden-to-hidden weights of the policy and value trunks (the inputs and heads come on top)."""
    inner = sum(a * b for a, b in zip(hidden, hidden[1:])) + 2 * residual_blocks * hidden[-1] ** 2
    return 2 * inner


def policy_spec(policy_cfg: Mapping[str, Any]) -> tuple[type[ActorCriticPolicy], dict[str, Any]]:
    """Policy class and kwargs of a ``policy`` config (arch, hidden, components, layernorm, ...), checked
    before anything is allocated: a config asking for an absurd network is a :class:`UserError`."""
    if not isinstance(policy_cfg, Mapping) or any(k not in policy_cfg for k in POLICY_KEYS):
        have = sorted(policy_cfg) if isinstance(policy_cfg, Mapping) else type(policy_cfg).__name__
        raise UserError(f"policy config must have {', '.join(POLICY_KEYS)}; got {have}")
    try:
        hidden = [int(h) for h in policy_cfg["hidden"]]
        components, blocks = int(policy_cfg["components"]), int(policy_cfg["residual_blocks"])
        log_std_init = float(policy_cfg["log_std_init"])
    except (TypeError, ValueError) as exc:
        raise UserError(f"policy config: hidden, components, residual_blocks and log_std_init must be numbers ({exc})") from exc
    if not hidden or min(hidden) < 1 or not 1 <= components <= 64 or not 0 <= blocks <= 16:
        raise UserError(
            f"policy.hidden={hidden}, policy.components={components}, policy.residual_blocks={blocks}: "
            "give at least one positive width, 1-64 components and 0-16 residual blocks"
        )
    weights = _hidden_weights(hidden, blocks)
    if weights > MAX_POLICY_WEIGHTS:
        raise UserError(
            f"policy.hidden={hidden} with {blocks} residual blocks asks for {weights:.3g} hidden weights; the limit "
            f"is {MAX_POLICY_WEIGHTS:.3g} (policy.hidden=[1024,1024,512] has {_hidden_weights([1024, 1024, 512], 0):.3g})"
        )
    try:
        return make_policy_kwargs(
            str(policy_cfg["arch"]),
            hidden,
            components=components,
            layernorm=bool(policy_cfg["layernorm"]),
            residual_blocks=blocks,
            log_std_init=log_std_init,
        )
    except ValueError as exc:  # an unknown arch
        raise UserError(f"policy config: {exc}") from exc


def require_files(directory: Path, names: tuple[str, ...]) -> None:
    if not directory.is_dir():
        raise CheckpointError(f"{directory} is not a directory; expected a checkpoint (latest/, best/) or export/")
    missing = [n for n in names if not (directory / n).is_file()]
    if missing:
        raise CheckpointError(
            f"{directory} is missing {', '.join(missing)}; not a complete motionlab-train checkpoint or export"
        )


def read_meta(directory: str | os.PathLike) -> dict[str, Any]:
    """The validated ``meta.json`` of a checkpoint or export directory."""
    path = Path(directory) / "meta.json"
    try:
        meta = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is unreadable or not JSON: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a {FORMAT} metadata file")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has format version {meta['format_version']}; this motionlab reads up to {FORMAT_VERSION}"
        )
    missing = [k for k in META_KEYS if k not in meta]
    if missing:
        raise CheckpointError(f"{path} lacks {', '.join(missing)}")
    return meta


def _read_obs_norm(path: Path, obs_dim: int) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            norm = {k: data[k] for k in ("mean", "var", "clip", "epsilon", "enabled")}
    except Exception as exc:  # zip, pickle, key and value errors of a damaged file
        raise CheckpointError(f"{path} is not a valid observation-normalisation file: {exc}") from exc
    if norm["mean"].shape != (obs_dim,) or norm["var"].shape != (obs_dim,):
        raise CheckpointError(
            f"{path} holds statistics for {norm['mean'].shape} observations; meta.json says ({obs_dim},)"
        )
    bad = [k for k in ("mean", "var", "clip", "epsilon") if not np.isfinite(norm[k]).all()]
    if bad or (norm["var"] < 0).any() or float(norm["epsilon"]) <= 0 or float(norm["clip"]) <= 0:
        raise CheckpointError(
            f"{path}: the observation statistics are invalid ({', '.join(bad) or 'var, epsilon or clip'} "
            "non-finite, negative or zero); the checkpoint is damaged or its training diverged"
        )
    return norm


def _read_state_dict(path: Path) -> dict[str, th.Tensor]:
    try:
        state = th.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for damaged or non-tensor files
        raise CheckpointError(f"{path} is not a readable policy state_dict: {exc}") from exc
    if not isinstance(state, dict) or not all(isinstance(v, th.Tensor) for v in state.values()):
        raise CheckpointError(f"{path} does not hold a state_dict of tensors")
    bad = [k for k, v in state.items() if v.is_floating_point() and not th.isfinite(v).all()]
    if bad:
        raise CheckpointError(
            f"{path}: {len(bad)} weight tensor(s) hold NaN/Inf (first: {bad[0]}); the checkpoint is damaged "
            "or its training diverged"
        )
    return state


def _layout(shape: tuple[int, ...], low: np.ndarray, high: np.ndarray) -> str:
    bounds = f"[{low.min():g}, {high.max():g}]" if low.size else "[]"
    return f"observation {shape}, action {low.shape} in {bounds}"


class LoadedPolicy:
    """A trained policy for inference; :meth:`predict` applies the training observation normalisation."""

    def __init__(self, meta: dict[str, Any], obs_norm: Mapping[str, np.ndarray], state_dict: Mapping[str, th.Tensor]):
        self.meta = meta
        self.env_id: str = meta["env_id"]
        self.env_kwargs: dict[str, Any] = dict(meta["env_kwargs"])
        low = np.asarray(meta["action_low"], dtype=np.float32)
        high = np.asarray(meta["action_high"], dtype=np.float32)
        self.observation_space = spaces.Box(-np.inf, np.inf, tuple(meta["observation_shape"]), dtype=np.float32)
        self.action_space = spaces.Box(low, high, dtype=np.float32)
        self.obs_mean = np.asarray(obs_norm["mean"], dtype=np.float64)  # the training observation statistics
        self.obs_var = np.asarray(obs_norm["var"], dtype=np.float64)
        self._std = np.sqrt(self.obs_var + float(obs_norm["epsilon"]))
        self._clip = float(obs_norm["clip"])
        self._normalize = bool(obs_norm["enabled"])
        policy_cls, policy_kwargs = policy_spec(meta["policy"]["config"])
        # no orthogonal init: every weight is overwritten by the state dict (the init's QR took ~1 s per policy)
        policy_kwargs = {**policy_kwargs, "ortho_init": False}
        self.policy = policy_cls(self.observation_space, self.action_space, lambda _: 0.0, **policy_kwargs)
        try:
            self.policy.load_state_dict(state_dict)
        except RuntimeError as exc:
            raise CheckpointError(f"policy.pt does not match the {policy_cls.__name__} in meta.json: {exc}") from exc
        self.policy.set_training_mode(False)

    @property
    def obs_dim(self) -> int:
        return int(self.observation_space.shape[0])

    @property
    def action_dim(self) -> int:
        return int(self.action_space.shape[0])

    def normalize(self, obs: np.ndarray) -> np.ndarray:
        """The observation as the policy saw it in training (normalised and clipped)."""
        obs = np.asarray(obs, dtype=np.float64)
        if obs.shape[-1:] != (self.obs_dim,):
            raise ValueError(f"observation of shape {obs.shape}; this policy takes (..., {self.obs_dim})")
        if not self._normalize:
            return obs.astype(np.float32)
        return np.clip((obs - self.obs_mean) / self._std, -self._clip, self._clip).astype(np.float32)

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Action(s) for one observation ``(obs_dim,)`` or a batch ``(n, obs_dim)``: SB3's ``predict``
        (the network's action, clipped to the action space) without its per-call overhead (switching
        every module to eval mode and checking the observation space, ~0.15 ms a call: the refinement
        asks for ~3700 actions per 10 s of video). The network is in eval mode since loading."""
        normalized = self.normalize(obs)
        with th.no_grad():
            dist = self.policy.get_distribution(th.as_tensor(normalized).reshape(-1, self.obs_dim))
            action = dist.get_actions(deterministic=deterministic).numpy()
        if self.policy.squash_output:
            action = self.policy.unscale_action(action)
        else:
            action = np.clip(action, self.action_space.low, self.action_space.high)
        return action if normalized.ndim == 2 else action[0]

    def check_compatible(self, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        """Raise :class:`CheckpointError` naming both layouts unless the env's spaces match the policy's."""
        ok = (
            isinstance(observation_space, spaces.Box)
            and isinstance(action_space, spaces.Box)
            and observation_space.shape == self.observation_space.shape
            and action_space.shape == self.action_space.shape
            and np.allclose(action_space.low, self.action_space.low)
            and np.allclose(action_space.high, self.action_space.high)
        )
        if ok:
            return
        if isinstance(observation_space, spaces.Box) and isinstance(action_space, spaces.Box):
            env_layout = _layout(observation_space.shape, action_space.low, action_space.high)
        else:
            env_layout = f"observation {observation_space}, action {action_space}"
        ours = _layout(self.observation_space.shape, self.action_space.low, self.action_space.high)
        raise CheckpointError(
            f"the policy was trained on {self.env_id} with {ours}, but the env has {env_layout}; "
            f"use a checkpoint trained for this env (and the same options, e.g. residual_force)"
        )

    def make_env(self, **overrides: Any) -> gym.Env:
        """``gym.make(env_id, **env_kwargs)`` with ``overrides`` applied, checked against the policy."""
        env = gym.make(self.env_id, **{**self.env_kwargs, **overrides})
        self.check_compatible(env.observation_space, env.action_space)
        return env


def _check_layout(path: Path, meta: Mapping[str, Any]) -> None:
    """The declared sizes of ``meta`` are sane numbers, checked before any space or network is built."""
    if not isinstance(meta["env_id"], str) or not isinstance(meta["env_kwargs"], Mapping):
        raise CheckpointError(f"{path}: env_id must be a string and env_kwargs a mapping")
    try:
        (obs_dim,) = (int(d) for d in meta["observation_shape"])
        n_low, n_high = len(meta["action_low"]), len(meta["action_high"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: observation_shape and action_low/high must be lists of numbers ({exc})") from exc
    if not 1 <= obs_dim <= MAX_OBSERVATION_DIM or not 1 <= n_low <= MAX_ACTION_DIM or n_low != n_high:
        raise CheckpointError(
            f"{path}: an observation of {obs_dim} and an action of {n_low}/{n_high} values is not a MotionLab "
            f"policy (at most {MAX_OBSERVATION_DIM} and {MAX_ACTION_DIM})"
        )
    try:
        policy_spec((meta["policy"] or {}).get("config") if isinstance(meta["policy"], Mapping) else None)
    except UserError as exc:
        raise CheckpointError(f"{path}: {exc}") from exc


def load_policy(path: str | os.PathLike) -> LoadedPolicy:
    """Load a checkpoint (``latest/``, ``best/``) or export directory for inference on the CPU."""
    path = Path(path)
    require_files(path, INFERENCE_FILES)
    meta = read_meta(path)
    obs_shape = tuple(meta["observation_shape"])
    if len(obs_shape) != 1:
        raise CheckpointError(f"{path / 'meta.json'}: observation_shape {obs_shape} is not a flat vector")
    _check_layout(path / "meta.json", meta)
    norm = _read_obs_norm(path / "obs_norm.npz", obs_shape[0])
    return LoadedPolicy(meta, norm, _read_state_dict(path / "policy.pt"))


def export_policy(checkpoint_dir: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Copy the inference files of a checkpoint to ``out_dir`` (atomically), after checking they load."""
    src, out = Path(checkpoint_dir), Path(out_dir)
    load_policy(src)
    with atomic_directory(out) as tmp:
        for name in INFERENCE_FILES:
            shutil.copy2(src / name, tmp / name)
    return out
