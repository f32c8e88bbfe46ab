"""Training a policy (``motionlab-train``, :mod:`motionlab.commands.train`): Hydra-configured SB3 PPO on MotionLab's envs (configs in ``motionlab.configs``).

A run directory collects its resolved config (``run_config.json``, written first), ``latest/`` and
``best/`` checkpoints, ``export/`` (written at the end), TensorBoard logs in ``tb/`` and evaluation
metrics in ``metrics.jsonl``. Starting with ``run_dir=`` an existing run directory continues it with
the config saved there: from ``latest/``, or from the start if it was stopped before its first
checkpoint; only ``total_timesteps`` may be given again, to train the same run for longer. A directory
holding part of a run that cannot be continued is an error, never silently a new run with the default
config. Temporary files left by a killed run are removed when it continues.
"""

from __future__ import annotations

import json
import logging
import shlex
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch as th
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from motionlab.errors import CheckpointError, UserError
from motionlab.io_utils import atomic_write, exclusive_lock, remove_partials, write_json
from motionlab.policy_io import export_policy, policy_spec

from .callbacks import CheckpointCallback, EvalCallback
from .checkpoint import Checkpointer, find_checkpoint, read_resume_meta, restore_training, warm_start
from .curriculum import (
    META_KEY,
    SCALE_KEY,
    ResidualForceCurriculum,
    ResidualForceSchedule,
    SpeedCurriculumRecord,
    resumed_speed_curriculum,
)
from .envs import EnvSpec, env_spec, make_env, make_training_env

log = logging.getLogger(__name__)
EVAL_SEED = 10_000  # evaluation episodes use reset seeds EVAL_SEED, EVAL_SEED + 1, ...
RUN_CONFIG = "run_config.json"
RUN_LOCK = ".train.lock"  # held by the trainer writing into a run directory
RUN_OUTPUTS = ("best", "export", "tb", "metrics.jsonl")  # what a run leaves besides latest/ and its config
# Sections whose keys differ between valid configs (each task config has its own); what is required in
# them is checked where they are read (task.env_id, env kwargs by the env, policy by policy_spec).
FREE_FORM_CONFIG = ("task", "body.params")


def _validate(cfg: dict[str, Any]) -> None:
    try:
        _check_values(cfg)
    except (TypeError, ValueError, KeyError) as exc:
        raise UserError(f"invalid training config value: {type(exc).__name__}: {exc}") from exc
    policy_spec(cfg["policy"])  # an absurd network is refused before anything is allocated


def _check_values(cfg: dict[str, Any]) -> None:
    for key in ("total_timesteps", "n_envs", "checkpoint_every", "eval_episodes", "torch_threads"):
        if int(cfg[key]) < 1:
            raise UserError(f"{key}={cfg[key]}; it must be at least 1")
    if int(cfg["eval_every"]) < 0:
        raise UserError(f"eval_every={cfg['eval_every']}; use 0 to evaluate only at the end")
    rollout = int(cfg["ppo"]["n_steps"]) * int(cfg["n_envs"])
    if int(cfg["ppo"]["batch_size"]) > rollout:
        raise UserError(
            f"ppo.batch_size={cfg['ppo']['batch_size']} exceeds the rollout of ppo.n_steps x n_envs = {rollout} samples"
        )


def _overrides() -> list[str]:
    """The command-line overrides of this Hydra job ([] outside a Hydra app, e.g. with ``hydra.compose``)."""
    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


def _command() -> str:
    if HydraConfig.initialized():
        return shlex.join(["motionlab-train", *_overrides()])
    return shlex.join(sys.argv)


def _run_info(cfg: dict[str, Any], spec: EnvSpec, venv: VecEnv) -> dict[str, Any]:
    """The constant part of every checkpoint's ``meta.json``."""
    policy_cls, policy_kwargs = policy_spec(cfg["policy"])
    return {
        "env_id": spec.env_id,
        "env_kwargs": spec.env_kwargs,
        "dataset": list(spec.dataset),
        "body": spec.env_kwargs["body"],
        "observation_shape": list(venv.observation_space.shape),
        "action_low": venv.action_space.low.tolist(),
        "action_high": venv.action_space.high.tolist(),
        "policy": {
            "class": f"{policy_cls.__module__}.{policy_cls.__qualname__}",
            "kwargs": policy_kwargs,
            "config": cfg["policy"],
        },
        "config": cfg,
        "command": _command(),
    }


def _metrics_row_time(line: str) -> float | None:
    """The ``timesteps`` of a ``metrics.jsonl`` row, None if the row is not a metrics record."""
    try:
        row = json.loads(line)
        return float(row["timesteps"])
    except (ValueError, TypeError, KeyError):
        return None


def _keep_metrics_until(path: Path, timesteps: int) -> None:
    """Drop ``metrics.jsonl`` rows written after the checkpoint a run restarts from, and rows that are
    not metrics records (a damaged file)."""
    if not path.exists():
        return
    rows = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    times = [_metrics_row_time(r) for r in rows]
    kept = [r for r, t in zip(rows, times) if t is not None and t <= timesteps]
    if None in times:
        log.warning("%s: dropped %d lines that are not metrics records", path, times.count(None))
    if len(kept) != len(rows):
        with atomic_write(path) as tmp:
            tmp.write_text("".join(r + "\n" for r in kept))


def _new_model(config: dict[str, Any], venv: VecEnv, run_dir: Path) -> PPO:
    """A fresh PPO learner on ``venv`` wrapped in VecNormalize."""
    norm = config["normalize"]
    vecnorm = VecNormalize(
        venv,
        norm_obs=bool(norm["obs"]),
        norm_reward=bool(norm["reward"]),
        clip_obs=float(norm["clip_obs"]),
        gamma=float(config["ppo"]["gamma"]),
    )
    policy_cls, policy_kwargs = policy_spec(config["policy"])
    return PPO(
        policy_cls,
        vecnorm,
        policy_kwargs=policy_kwargs,
        seed=int(config["seed"]),
        device=str(config["device"]),
        tensorboard_log=str(run_dir / "tb"),
        verbose=0,
        **config["ppo"],
    )


def _missing_keys(template: Any, config: Any, prefix: str = "") -> list[str]:
    """Keys of the ``template`` config (recursively, but not inside :data:`FREE_FORM_CONFIG`) that
    ``config`` lacks."""
    if not isinstance(template, dict) or prefix.rstrip(".") in FREE_FORM_CONFIG:
        return []
    if not isinstance(config, dict):
        return [prefix.rstrip(".") or "config"]
    missing = []
    for key, value in template.items():
        if key not in config:
            missing.append(prefix + str(key))
        else:
            missing += _missing_keys(value, config[key], f"{prefix}{key}.")
    return missing


def _continued_config(saved: Any, cfg: DictConfig, source: Path) -> dict[str, Any]:
    """The saved config of a run being continued (checked against this version's config layout), with
    ``total_timesteps`` from the command line if given (the one setting a resume may change)."""
    missing = _missing_keys(OmegaConf.to_container(cfg, resolve=False), saved)
    if isinstance(saved, dict) and isinstance(saved.get("task"), dict):
        missing += [f"task.{k}" for k in ("env_id", "env_kwargs") if k not in saved["task"]]
    if missing:
        raise CheckpointError(
            f"{source} lacks the config keys {', '.join(missing)}; it was written by another motionlab version or "
            "edited, so the run cannot be continued (start a new run, e.g. with init_from= its checkpoint)"
        )
    config = dict(saved)
    overrides = [o for o in _overrides() if not o.startswith("run_dir=")]
    budget = [o for o in overrides if o.startswith("total_timesteps=")]
    if budget:
        try:
            config["total_timesteps"] = int(float(budget[-1].split("=", 1)[1]))
        except ValueError as exc:
            raise UserError(f"{budget[-1]}: give a number of timesteps") from exc
        log.info("training budget set to %d timesteps", config["total_timesteps"])
    ignored = [o for o in overrides if o not in budget]
    if ignored:
        log.warning("ignoring %s: a continued run keeps the config saved in %s", " ".join(ignored), source)
    return config


def _read_run_config(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is unreadable or not JSON: {exc}") from exc


def _run_config(cfg: DictConfig, run_dir: Path) -> tuple[dict[str, Any], dict[str, Any] | None, Path | None]:
    """The config of the run in ``run_dir``, the ``meta.json`` of its ``latest/`` checkpoint and the
    checkpoint (both None when the run starts from zero)."""
    latest = find_checkpoint(run_dir, "latest")
    if latest is not None:
        meta = read_resume_meta(latest)
        config = _continued_config(meta["config"], cfg, latest / "meta.json")
        log.info("resuming %s from latest/ at %d timesteps (its saved config applies)", run_dir, meta["num_timesteps"])
        return config, meta, latest
    if (run_dir / RUN_CONFIG).is_file():
        config = _continued_config(_read_run_config(run_dir / RUN_CONFIG), cfg, run_dir / RUN_CONFIG)
        log.warning("%s stopped before its first checkpoint; restarting it from 0 with its saved config", run_dir)
        if (run_dir / "best").is_dir():  # evaluated before it stopped: a best/ of the restarted run replaces it
            shutil.rmtree(run_dir / "best")
        return config, None, None
    leftovers = [name for name in RUN_OUTPUTS if (run_dir / name).exists()]
    if leftovers:
        raise CheckpointError(
            f"{run_dir} holds part of a run ({', '.join(leftovers)}) but neither a latest/ checkpoint nor "
            f"{RUN_CONFIG} to continue it from; delete it to start a new run there, or give another run_dir"
        )
    config = OmegaConf.to_container(cfg, resolve=True)
    for key in ("dataset", "init_from"):  # saved absolute: a resume may start from another directory
        if config[key] is not None:
            config[key] = str(Path(config[key]).expanduser().resolve())
    return config, None, None


def _residual_schedule(
    config: dict[str, Any], spec: EnvSpec, resume_meta: dict[str, Any] | None
) -> ResidualForceSchedule | None:
    """The run's residual-force curriculum (``task.residual_curriculum``): continued from the checkpoint
    being resumed, else starting at the env's ``residual_force_scale``; None when the config has none or
    the env uses no residual force."""
    settings = config["task"].get("residual_curriculum")
    if settings is None or not spec.env_kwargs.get("residual_force", False):
        return None
    if resume_meta is not None and META_KEY in resume_meta:
        return ResidualForceSchedule.from_state(resume_meta[META_KEY])
    return ResidualForceSchedule.from_config(settings, float(spec.env_kwargs.get(SCALE_KEY, 0.3)))


def train(cfg: DictConfig) -> Path:
    """Train (or continue) the run described by ``cfg``; returns the run directory.

    ``cfg`` is the composed ``train`` config. Outside a Hydra app (``hydra.compose``) give ``run_dir``
    explicitly: its default is Hydra's output directory.
    """
    run_dir = Path(str(cfg.run_dir)).expanduser().resolve()
    with exclusive_lock(run_dir / RUN_LOCK, f"run_dir {run_dir}"):
        return _train(cfg, run_dir)


def _train(cfg: DictConfig, run_dir: Path) -> Path:
    """:func:`train` while holding the run directory's lock (no other trainer writes into it)."""
    if run_dir.is_dir():
        for path in remove_partials(run_dir):
            log.info("removed %s, left by a killed run", path.name)
    config, resume_meta, latest = _run_config(cfg, run_dir)
    config["run_dir"] = str(run_dir)
    _validate(config)
    if latest is None:
        write_json(run_dir / RUN_CONFIG, config)
    th.set_num_threads(int(config["torch_threads"]))
    start = int(resume_meta["num_timesteps"]) if resume_meta else 0

    spec = env_spec(config)
    spec = replace(spec, speed_curriculum=resumed_speed_curriculum(spec.speed_curriculum, resume_meta))
    schedule = _residual_schedule(config, spec, resume_meta)
    if schedule is not None:  # the envs start at the schedule's limit (a resumed run's may be lower)
        spec = replace(spec, env_kwargs={**spec.env_kwargs, SCALE_KEY: schedule.scale})
        log.info(
            "residual-force curriculum: residual_force_scale %.4g (started at %.4g)",
            schedule.scale,
            schedule.start_scale,
        )
    eval_env = make_env(spec)  # built first: bad env kwargs fail here, before worker processes start
    venv = make_training_env(spec, int(config["n_envs"]), int(config["seed"]) + start, str(config["vec_env"]))
    try:
        model = _new_model(config, venv, run_dir)
        if latest is not None:
            restore_training(latest, model, resume_meta)
        elif config["init_from"] is not None:
            warm_start(model, config["init_from"], spec.env_id)
            log.info("initialised the policy and observation normalisation from %s", config["init_from"])
        info = _run_info(config, spec, venv)
        checkpointer = Checkpointer.resumed(run_dir, info, resume_meta) if resume_meta else Checkpointer(run_dir, info)
        metrics_path = run_dir / "metrics.jsonl"
        _keep_metrics_until(metrics_path, start)
        evaluator = EvalCallback(
            checkpointer, eval_env, int(config["eval_every"]), int(config["eval_episodes"]), metrics_path, EVAL_SEED
        )
        curriculum = [] if schedule is None else [ResidualForceCurriculum(schedule, checkpointer, eval_env, evaluator)]
        if spec.speed_curriculum is not None:
            curriculum.append(SpeedCurriculumRecord(checkpointer))
        callbacks = CallbackList(
            [evaluator, *curriculum, CheckpointCallback(checkpointer, int(config["checkpoint_every"]))]
        )
        remaining = int(config["total_timesteps"]) - model.num_timesteps
        if remaining > 0:
            model.learn(
                remaining,
                callback=callbacks,
                tb_log_name="ppo",
                reset_num_timesteps=resume_meta is None,
                progress_bar=bool(config["progress_bar"]),
            )
        else:
            log.info("%s already has %d of %d timesteps", run_dir, model.num_timesteps, config["total_timesteps"])
        source = find_checkpoint(run_dir, "best") or find_checkpoint(run_dir, "latest")
        export_policy(source, run_dir / "export")
        log.info("trained %d timesteps; exported %s to %s", model.num_timesteps, source.name, run_dir / "export")
    finally:
        venv.close()
        eval_env.close()
    return run_dir
