"""Training checkpoints: everything needed to resume a run, beside the policy files inference reads.

A checkpoint directory (``<run_dir>/latest/``, ``<run_dir>/best/``) holds the inference files of
:mod:`motionlab.policy_io` (``policy.pt``, ``obs_norm.npz``, ``meta.json``) and the resume state:

====================  ==========================================================================
``optimizer.pt``      the Adam optimiser's ``state_dict`` (tensors and numbers; ``weights_only``)
``vecnormalize.npz``  ``VecNormalize`` running statistics of observations and returns (plain arrays)
``rng.json``          Python, NumPy and torch random generator states of the learner
====================  ==========================================================================

plus the learner's counters in ``meta.json`` (``num_timesteps``, ``n_updates``) and its config
(``config``). Nothing is unpickled on resume: run directories are copied between machines and users
(Slurm job dirs, shared runs), so a file planted in one must not run code. :func:`restore_training`
rebuilds the learner from the saved config, then loads these files with loaders that only accept data
(``torch.load(weights_only=True)``, ``np.load(allow_pickle=False)``, JSON). Checkpoints of older
versions (``model.zip``, ``*.pkl``, which SB3 and pickle would unpickle) are refused; their policy can
still start a new run (``init_from=``).

:func:`~motionlab.policy_io.load_policy` reads a checkpoint or an export. Directories are written to a
temporary sibling and swapped in (:func:`motionlab.io_utils.atomic_directory`), so a killed run leaves
a complete old or new checkpoint, never a partial one.
"""

from __future__ import annotations

import json
import os
import random
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
from stable_baselines3.common.vec_env import VecNormalize

import motionlab
from motionlab.errors import CheckpointError
from motionlab.io_utils import atomic_directory, recover_directory
from motionlab.policy_io import FORMAT, FORMAT_VERSION, INFERENCE_FILES, load_policy, read_meta, require_files

RESUME_FILES = ("optimizer.pt", "vecnormalize.npz", "rng.json")
PICKLED_RESUME_FILES = ("model.zip", "vecnormalize.pkl", "rng.pkl")  # written before resume went data-only
RESUME_META_KEYS = ("config", "num_timesteps")
_VECNORM_ARRAYS = ("obs_mean", "obs_var", "obs_count", "ret_mean", "ret_var", "ret_count")


def find_checkpoint(run_dir: str | os.PathLike, name: str = "latest") -> Path | None:
    """``<run_dir>/<name>`` if it exists (restoring the backup left by a kill mid-swap), else None."""
    return recover_directory(Path(run_dir) / name)


# ------------------------------------------------------------------ random generator states as JSON
def rng_state() -> dict[str, Any]:
    """The Python, NumPy (global) and torch generator states as JSON-ready lists and numbers."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002 (SB3 seeds the global generator)
    return {
        "python": [version, list(internal), gauss],
        "numpy": [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)],
        "torch": th.get_rng_state().tolist(),
    }


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore what :func:`rng_state` returned (after a JSON round trip); bad values raise."""
    version, internal, gauss = state["python"]
    random.setstate((int(version), tuple(int(v) for v in internal), None if gauss is None else float(gauss)))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((str(kind), np.asarray(keys, dtype=np.uint32), int(pos), int(has_gauss), float(cached)))  # noqa: NPY002
    th.set_rng_state(th.tensor(state["torch"], dtype=th.uint8))


# ------------------------------------------------------------------ writing
def save_checkpoint(model: PPO, directory: str | os.PathLike, meta: Mapping[str, Any]) -> Path:
    """Write a full checkpoint of ``model`` (whose env is a ``VecNormalize``) to ``directory`` atomically."""
    directory = Path(directory)
    vecnorm = model.get_vec_normalize_env()
    if vecnorm is None:
        raise ValueError("the model's env is not wrapped in VecNormalize")
    with atomic_directory(directory) as tmp:
        th.save({k: v.detach().cpu() for k, v in model.policy.state_dict().items()}, tmp / "policy.pt")
        th.save(model.policy.optimizer.state_dict(), tmp / "optimizer.pt")
        obs_rms, ret_rms = vecnorm.obs_rms, vecnorm.ret_rms
        np.savez(
            tmp / "vecnormalize.npz",
            obs_mean=obs_rms.mean,
            obs_var=obs_rms.var,
            obs_count=np.float64(obs_rms.count),
            ret_mean=np.asarray(ret_rms.mean, dtype=np.float64),
            ret_var=np.asarray(ret_rms.var, dtype=np.float64),
            ret_count=np.float64(ret_rms.count),
        )
        (tmp / "rng.json").write_text(json.dumps(rng_state()) + "\n")
        np.savez(
            tmp / "obs_norm.npz",
            mean=obs_rms.mean,
            var=obs_rms.var,
            clip=np.float64(vecnorm.clip_obs),
            epsilon=np.float64(vecnorm.epsilon),
            enabled=np.bool_(vecnorm.norm_obs),
        )
        meta = {**meta, "n_updates": int(model._n_updates)}
        (tmp / "meta.json").write_text(json.dumps(dict(meta), indent=2, sort_keys=True) + "\n")
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


def read_resume_meta(directory: str | os.PathLike) -> dict[str, Any]:
    """The ``meta.json`` of a checkpoint to resume, checked for what resuming needs; the pickle-based
    checkpoints of older versions are refused with what to do instead."""
    directory = Path(directory)
    old = [n for n in PICKLED_RESUME_FILES if (directory / n).exists()]
    if old and not all((directory / n).is_file() for n in RESUME_FILES):
        raise CheckpointError(
            f"{directory} is a checkpoint of an older motionlab whose resume state ({', '.join(old)}) can only "
            "be read by unpickling, which could run code planted in it, so it is not resumed; start a new run "
            f"from its policy with init_from={directory} (and another run_dir), or resume it with the version "
            "that wrote it"
        )
    require_files(directory, RESUME_FILES + INFERENCE_FILES)
    meta = read_meta(directory)
    missing = [k for k in RESUME_META_KEYS if k not in meta]
    if missing:
        raise CheckpointError(f"{directory / 'meta.json'} lacks {', '.join(missing)}; this checkpoint cannot be resumed")
    if not isinstance(meta["config"], dict):
        raise CheckpointError(f"{directory / 'meta.json'}: config is not a mapping; this checkpoint cannot be resumed")
    return meta


def _load_weights(path: Path) -> Any:
    try:
        return th.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for damaged files and refused (pickled) objects
        raise CheckpointError(f"{path} is not a readable tensor file (only plain tensors are loaded): {exc}") from exc


def _load_vecnormalize(path: Path, vecnorm: VecNormalize) -> None:
    obs_dim = vecnorm.observation_space.shape
    try:
        with np.load(path, allow_pickle=False) as data:
            stats = {k: np.asarray(data[k], dtype=np.float64) for k in _VECNORM_ARRAYS}
    except Exception as exc:  # zip, pickle (refused), key and value errors of a damaged file
        raise CheckpointError(f"{path} is not a valid normalisation-statistics file: {exc}") from exc
    if stats["obs_mean"].shape != obs_dim or stats["obs_var"].shape != obs_dim:
        raise CheckpointError(f"{path} holds statistics for {stats['obs_mean'].shape} observations; the env has {obs_dim}")
    vecnorm.obs_rms.mean, vecnorm.obs_rms.var = stats["obs_mean"], stats["obs_var"]
    vecnorm.obs_rms.count = float(stats["obs_count"])
    vecnorm.ret_rms.mean, vecnorm.ret_rms.var = stats["ret_mean"], stats["ret_var"]
    vecnorm.ret_rms.count = float(stats["ret_count"])


def restore_training(directory: str | os.PathLike, model: PPO, meta: Mapping[str, Any]) -> None:
    """Continue the checkpoint in ``directory`` (with ``meta`` from :func:`read_resume_meta`) in
    ``model``: a fresh learner built from the checkpoint's own config, on a ``VecNormalize``. Loads the
    policy and optimiser tensors, the normalisation statistics, the sample and update counters and the
    random generator states; unpickles nothing."""
    directory = Path(directory)
    try:
        model.policy.load_state_dict(_load_weights(directory / "policy.pt"))
        model.policy.optimizer.load_state_dict(_load_weights(directory / "optimizer.pt"))
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{directory}: the saved weights do not fit the policy of its config: {exc}") from exc
    _load_vecnormalize(directory / "vecnormalize.npz", model.get_vec_normalize_env())
    try:
        set_rng_state(json.loads((directory / "rng.json").read_text()))
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise CheckpointError(f"{directory / 'rng.json'} does not hold the generator states: {exc}") from exc
    try:
        model.num_timesteps = int(meta["num_timesteps"])
        model._n_updates = int(meta.get("n_updates", 0))
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{directory / 'meta.json'}: num_timesteps and n_updates must be integers: {exc}") from exc
