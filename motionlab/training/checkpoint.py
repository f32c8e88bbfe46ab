"""Training checkpoints: everything needed to resume a run, beside the policy files inference reads.

A checkpoint directory (``<run_dir>/latest/``, ``<run_dir>/best/``) holds the inference files of
:mod:`motionlab.policy_io` (``policy.pt``, ``obs_norm.npz``, ``meta.json``) and the resume state:

====================  ==========================================================================
``model.zip``         SB3 PPO save: policy, optimizer state, ``num_timesteps``, schedules
``vecnormalize.pkl``  SB3 ``VecNormalize`` running statistics (observations and returns)
``rng.pkl``           Python, NumPy and torch random generator states of the learner
====================  ==========================================================================

:func:`~motionlab.policy_io.load_policy` reads a checkpoint or an export. Directories are written to a
temporary sibling and swapped in (:func:`motionlab.io_utils.atomic_directory`), so a killed run leaves
a complete old or new checkpoint, never a partial one.
"""

from __future__ import annotations

import json
import os
import pickle
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
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

import motionlab
from motionlab.errors import CheckpointError
from motionlab.io_utils import atomic_directory, recover_directory
from motionlab.policy_io import FORMAT, FORMAT_VERSION, INFERENCE_FILES, load_policy, require_files

RESUME_FILES = ("model.zip", "vecnormalize.pkl", "rng.pkl")


def find_checkpoint(run_dir: str | os.PathLike, name: str = "latest") -> Path | None:
    """``<run_dir>/<name>`` if it exists (restoring the backup left by a kill mid-swap), else None."""
    return recover_directory(Path(run_dir) / name)


# ------------------------------------------------------------------ writing
def _rng_state() -> dict[str, Any]:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": th.get_rng_state()}  # noqa: NPY002


def _set_rng_state(state: Mapping[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])  # noqa: NPY002 (SB3 seeds the global generator)
    th.set_rng_state(state["torch"])


def save_checkpoint(model: PPO, directory: str | os.PathLike, meta: Mapping[str, Any]) -> Path:
    """Write a full checkpoint of ``model`` (whose env is a ``VecNormalize``) to ``directory`` atomically."""
    directory = Path(directory)
    vecnorm = model.get_vec_normalize_env()
    if vecnorm is None:
        raise ValueError("the model's env is not wrapped in VecNormalize")
    with atomic_directory(directory) as tmp:
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

    A source trained on the same env before observations were appended to it is widened: the appended
    observations get zero input weights (and unit statistics), so the new run starts out acting exactly
    as the source did."""
    source = load_policy(directory)  # checks the files and that the weights fit their own policy config
    n_old, (n_new,) = source.obs_dim, model.observation_space.shape
    if source.env_id == env_id and n_new > n_old:
        source.check_compatible(spaces.Box(-np.inf, np.inf, (n_old,)), model.action_space)
    else:
        source.check_compatible(model.observation_space, model.action_space)
    try:
        model.policy.load_state_dict(widen_inputs(source.policy.state_dict(), model.policy.state_dict(), n_old))
    except (RuntimeError, ValueError, KeyError) as exc:
        raise CheckpointError(f"{directory}: its policy does not fit this run's policy config: {exc}") from exc
    vecnorm = model.get_vec_normalize_env()
    vecnorm.obs_rms.mean = np.r_[source.obs_mean, np.zeros(n_new - n_old)]
    vecnorm.obs_rms.var = np.r_[source.obs_var, np.ones(n_new - n_old)]
    vecnorm.obs_rms.count = float(source.meta["num_timesteps"])  # as settled as the source's statistics


def widen_inputs(source: Mapping[str, th.Tensor], target: Mapping[str, th.Tensor], n_obs: int) -> dict[str, th.Tensor]:
    """``source``'s weights in ``target``'s layout, where ``target`` takes observations appended after the
    first ``n_obs``: the input layers' weights for them are zero; every other tensor must match."""
    out = {}
    for key, value in source.items():
        shape = target[key].shape
        if value.shape != shape:
            if not (value.ndim == 2 and value.shape == (shape[0], n_obs) and shape[1] > n_obs):
                raise ValueError(f"{key}: {tuple(value.shape)} does not fit {tuple(shape)}")
            value = th.cat([value, value.new_zeros(shape[0], shape[1] - n_obs)], dim=1)
        out[key] = value
    return out


def restore_training(directory: str | os.PathLike, venv: VecEnv, device: str) -> PPO:
    """The PPO model (optimizer, ``num_timesteps``) of a checkpoint on ``venv`` wrapped in its saved
    ``VecNormalize``, with the learner's random generator states restored."""
    directory = Path(directory)
    require_files(directory, RESUME_FILES + INFERENCE_FILES)
    try:
        vecnorm = VecNormalize.load(str(directory / "vecnormalize.pkl"), venv)
        model = PPO.load(directory / "model.zip", env=vecnorm, device=device)
        with open(directory / "rng.pkl", "rb") as f:
            _set_rng_state(pickle.load(f))
    except Exception as exc:  # damaged zip/pickle files or spaces that differ from the saved ones
        raise CheckpointError(f"cannot resume from {directory}: {type(exc).__name__}: {exc}") from exc
    return model
