"""Training checkpoints, inference exports and :func:`load_policy`.

A checkpoint directory (``<run_dir>/latest/``, ``<run_dir>/best/``) holds everything needed to resume
training and to run the policy:

====================  ==========================================================================
``model.zip``         SB3 PPO save: policy, optimizer state, ``num_timesteps``, schedules
``vecnormalize.pkl``  SB3 ``VecNormalize`` running statistics (observations and returns)
``rng.pkl``           Python, NumPy and torch random generator states of the learner
``policy.pt``         policy ``state_dict`` (tensors only; ``torch.load(weights_only=True)``)
``obs_norm.npz``      observation normalisation: ``mean``, ``var``, ``clip``, ``epsilon``, ``enabled``
``meta.json``         env id and kwargs, observation/action layout, body, policy class, kwargs and
                      config, samples used, resume points, last evaluation, resolved training config
                      and command
====================  ==========================================================================

An export (:func:`export_policy`, ``<run_dir>/export/``) holds only the last three files.
:func:`load_policy` reads either. Directories are written to a temporary sibling and swapped in with
:func:`os.replace`, so a killed run leaves a complete old or new checkpoint, never a partial one.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import stable_baselines3
import torch as th
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

import motionlab
from motionlab.policies import make_policy_kwargs

FORMAT = "motionlab-policy"
FORMAT_VERSION = 1
INFERENCE_FILES = ("meta.json", "obs_norm.npz", "policy.pt")
RESUME_FILES = ("model.zip", "vecnormalize.pkl", "rng.pkl")
META_KEYS = ("env_id", "env_kwargs", "observation_shape", "action_low", "action_high", "policy", "num_timesteps")


class CheckpointError(ValueError):
    """A checkpoint or export that is missing, corrupt, or does not fit the env it is used with."""


def policy_spec(policy_cfg: Mapping[str, Any]) -> tuple[type[ActorCriticPolicy], dict[str, Any]]:
    """Policy class and kwargs of a ``policy`` config (arch, hidden, components, layernorm, ...)."""
    return make_policy_kwargs(
        str(policy_cfg["arch"]),
        [int(h) for h in policy_cfg["hidden"]],
        components=int(policy_cfg["components"]),
        layernorm=bool(policy_cfg["layernorm"]),
        residual_blocks=int(policy_cfg["residual_blocks"]),
        log_std_init=float(policy_cfg["log_std_init"]),
    )


# ------------------------------------------------------------------ atomic directories
def _new_temp_dir(final: Path) -> Path:
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp creates 0700
    return tmp


def _backup(final: Path) -> Path:
    return final.with_name(f".{final.name}.old")


def _replace_dir(tmp: Path, final: Path) -> None:
    """Move the finished ``tmp`` to ``final``; a previous ``final`` is kept as a backup until then."""
    backup = _backup(final)
    if final.exists():
        shutil.rmtree(backup, ignore_errors=True)
        os.replace(final, backup)
    os.replace(tmp, final)
    shutil.rmtree(backup, ignore_errors=True)


def find_checkpoint(run_dir: str | os.PathLike, name: str = "latest") -> Path | None:
    """``<run_dir>/<name>`` if it exists (restoring the backup left by a kill mid-swap), else None."""
    final = Path(run_dir) / name
    backup = _backup(final)
    if not final.exists() and backup.is_dir():
        os.replace(backup, final)
    return final if final.is_dir() else None


# ------------------------------------------------------------------ writing
def _rng_state() -> dict[str, Any]:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": th.get_rng_state()}


def _set_rng_state(state: Mapping[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    th.set_rng_state(state["torch"])


def save_checkpoint(model: PPO, directory: str | os.PathLike, meta: Mapping[str, Any]) -> Path:
    """Write a full checkpoint of ``model`` (whose env is a ``VecNormalize``) to ``directory`` atomically."""
    directory = Path(directory)
    vecnorm = model.get_vec_normalize_env()
    if vecnorm is None:
        raise ValueError("the model's env is not wrapped in VecNormalize")
    tmp = _new_temp_dir(directory)
    try:
        model.save(tmp / "model.zip")
        vecnorm.save(str(tmp / "vecnormalize.pkl"))
        with open(tmp / "rng.pkl", "wb") as f:
            pickle.dump(_rng_state(), f)
        th.save({k: v.detach().cpu() for k, v in model.policy.state_dict().items()}, tmp / "policy.pt")
        rms = vecnorm.obs_rms
        np.savez(
            tmp / "obs_norm.npz",
            mean=rms.mean,
            var=rms.var,
            clip=np.float64(vecnorm.clip_obs),
            epsilon=np.float64(vecnorm.epsilon),
            enabled=np.bool_(vecnorm.norm_obs),
        )
        (tmp / "meta.json").write_text(json.dumps(dict(meta), indent=2, sort_keys=True) + "\n")
        _replace_dir(tmp, directory)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return directory


@dataclass
class Checkpointer:
    """Writes the ``<run_dir>/<name>/`` checkpoints of one training run.

    ``info`` is the run's constant metadata (env id and kwargs, dataset, layouts, body, policy, config,
    command); each save adds the samples used, the resume points and the evaluation results.
    """

    run_dir: Path
    info: dict[str, Any]
    resumes: list[int] = field(default_factory=list)
    best_score: float | None = None
    last_eval: dict[str, float] | None = None

    @classmethod
    def resumed(cls, run_dir: Path, info: dict[str, Any], meta: Mapping[str, Any]) -> Checkpointer:
        """Continue the record of the checkpoint whose ``meta.json`` is ``meta``."""
        resumes = [*meta.get("resumes", []), int(meta["num_timesteps"])]
        return cls(run_dir, info, resumes, meta.get("best_score"), meta.get("eval"))

    def save(self, model: PPO, name: str) -> Path:
        meta = {
            **self.info,
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "num_timesteps": int(model.num_timesteps),
            "resumes": self.resumes,
            "best_score": self.best_score,
            "eval": self.last_eval,
            "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "versions": {
                "motionlab": motionlab.__version__,
                "stable_baselines3": stable_baselines3.__version__,
                "torch": th.__version__,
                "gymnasium": gym.__version__,
            },
        }
        return save_checkpoint(model, self.run_dir / name, meta)


# ------------------------------------------------------------------ reading
def _require(directory: Path, names: tuple[str, ...]) -> None:
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
    return norm


def _read_state_dict(path: Path) -> dict[str, th.Tensor]:
    try:
        state = th.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for damaged or non-tensor files
        raise CheckpointError(f"{path} is not a readable policy state_dict: {exc}") from exc
    if not isinstance(state, dict) or not all(isinstance(v, th.Tensor) for v in state.values()):
        raise CheckpointError(f"{path} does not hold a state_dict of tensors")
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
        """Action(s) for one observation ``(obs_dim,)`` or a batch ``(n, obs_dim)``."""
        action, _ = self.policy.predict(self.normalize(obs), deterministic=deterministic)
        return action

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


def load_policy(path: str | os.PathLike) -> LoadedPolicy:
    """Load a checkpoint (``latest/``, ``best/``) or export directory for inference on the CPU."""
    path = Path(path)
    _require(path, INFERENCE_FILES)
    meta = read_meta(path)
    obs_shape = tuple(meta["observation_shape"])
    if len(obs_shape) != 1:
        raise CheckpointError(f"{path / 'meta.json'}: observation_shape {obs_shape} is not a flat vector")
    norm = _read_obs_norm(path / "obs_norm.npz", obs_shape[0])
    return LoadedPolicy(meta, norm, _read_state_dict(path / "policy.pt"))


def export_policy(checkpoint_dir: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Copy the inference files of a checkpoint to ``out_dir`` (atomically), after checking they load."""
    src, out = Path(checkpoint_dir), Path(out_dir)
    load_policy(src)
    tmp = _new_temp_dir(out)
    try:
        for name in INFERENCE_FILES:
            shutil.copy2(src / name, tmp / name)
        _replace_dir(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def warm_start(model: PPO, directory: str | os.PathLike, env_id: str) -> None:
    """Start a new run of ``env_id`` from another run's trained policy: copy the policy weights and
    observation normalisation of a checkpoint or export into ``model`` (a fresh learner on a
    ``VecNormalize``). The optimiser, sample counter, PPO and env settings stay the new run's own: a
    fine-tuning stage, e.g. a lower learning rate or a stronger residual-force penalty.

    A source trained on the same env (or an earlier version of it, e.g. Ideal-v0 for Ideal-v1) before
    observations or actions were appended to it is widened: the appended observations get zero input
    weights (and unit statistics) and the appended actions zero-mean outputs, so the new run starts out
    acting exactly as the source did (with the new actions at 0)."""
    source = load_policy(directory)  # checks the files and that the weights fit their own policy config
    n_old, (n_new,) = source.obs_dim, model.observation_space.shape
    a_old, (a_new,) = source.action_dim, model.action_space.shape
    if _env_family(source.env_id) == _env_family(env_id) and (n_new, a_new) != (n_old, a_old):
        low, high = model.action_space.low[:a_old], model.action_space.high[:a_old]
        source.check_compatible(spaces.Box(-np.inf, np.inf, (n_old,)), spaces.Box(low, high, dtype=np.float32))
    else:
        source.check_compatible(model.observation_space, model.action_space)
    try:
        widened = widen_inputs(source.policy.state_dict(), model.policy.state_dict(), n_old, a_old)
        model.policy.load_state_dict(widened)
    except (RuntimeError, ValueError, KeyError) as exc:
        raise CheckpointError(f"{directory}: its policy does not fit this run's policy config: {exc}") from exc
    vecnorm = model.get_vec_normalize_env()
    vecnorm.obs_rms.mean = np.r_[source.obs_mean, np.zeros(n_new - n_old)]
    vecnorm.obs_rms.var = np.r_[source.obs_var, np.ones(n_new - n_old)]
    vecnorm.obs_rms.count = float(source.meta["num_timesteps"])  # as settled as the source's statistics


def _env_family(env_id: str) -> str:
    """``MotionLab/Ideal-v1`` -> ``MotionLab/Ideal``: the versions of one env."""
    return env_id.rsplit("-v", 1)[0]


def widen_inputs(
    source: Mapping[str, th.Tensor], target: Mapping[str, th.Tensor], n_obs: int, n_actions: int | None = None
) -> dict[str, th.Tensor]:
    """``source``'s weights in ``target``'s layout, where ``target`` takes observations appended after the
    first ``n_obs`` (their input weights are zero) and, for a mixture-of-Gaussians or Gaussian head,
    emits actions appended after the first ``n_actions`` (zero weights and bias: mean 0, and the mixture
    head's initial log-std); every other tensor must match."""
    out = {}
    for key, value in source.items():
        shape = target[key].shape
        if value.shape != shape:
            if value.ndim == 2 and value.shape == (shape[0], n_obs) and shape[1] > n_obs:
                value = th.cat([value, value.new_zeros(shape[0], shape[1] - n_obs)], dim=1)
            elif n_actions is not None and key.startswith(("action_net.", "log_std")) and shape[1:] == value.shape[1:]:
                value = _widen_action_rows(value, shape[0], n_actions, key)
            else:
                raise ValueError(f"{key}: {tuple(value.shape)} does not fit {tuple(shape)}")
        out[key] = value
    return out


def _widen_action_rows(value: th.Tensor, rows: int, n_actions: int, key: str) -> th.Tensor:
    """An action head's output tensor with zero rows for actions appended after the first ``n_actions``.

    The mixture head's rows are ``K`` logits, then per component ``[means (A), log-stds (A)]``; SB3's
    Gaussian head has one mean row per action and a ``log_std`` vector (new entries: its mean)."""
    if key.startswith("action_net.linear."):
        k = value.shape[0] // (1 + 2 * n_actions)
        pad = value.new_zeros((rows // k - 1) // 2 - n_actions, *value.shape[1:])
        blocks = [value[:k]]
        for block in value[k:].split(n_actions):
            blocks += [block, pad]
        return th.cat(blocks)
    fill = float(value.mean()) if key == "log_std" else 0.0
    return th.cat([value, value.new_full((rows - value.shape[0], *value.shape[1:]), fill)])


def restore_training(directory: str | os.PathLike, venv: VecEnv, device: str) -> PPO:
    """The PPO model (optimizer, ``num_timesteps``) of a checkpoint on ``venv`` wrapped in its saved
    ``VecNormalize``, with the learner's random generator states restored."""
    directory = Path(directory)
    _require(directory, RESUME_FILES + INFERENCE_FILES)
    try:
        vecnorm = VecNormalize.load(str(directory / "vecnormalize.pkl"), venv)
        model = PPO.load(directory / "model.zip", env=vecnorm, device=device)
        with open(directory / "rng.pkl", "rb") as f:
            _set_rng_state(pickle.load(f))
    except Exception as exc:  # damaged zip/pickle files or spaces that differ from the saved ones
        raise CheckpointError(f"cannot resume from {directory}: {type(exc).__name__}: {exc}") from exc
    return model
