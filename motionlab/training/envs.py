"""Training environments from the config: env id and kwargs, Track reference datasets, vectorisation."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from motionlab.body import BodyParams
from motionlab.envs.ideal import IdealEnv
from motionlab.envs.track import TrackEnv
from motionlab.errors import UserError
from motionlab.reference import Reference, ReferenceFormatError, load_reference

log = logging.getLogger(__name__)
TRACK_ENV_ID = "MotionLab/Track-v0"
VEC_ENV_CLASSES: dict[str, type[VecEnv]] = {"dummy": DummyVecEnv, "subproc": SubprocVecEnv}


@dataclass(frozen=True)
class EnvSpec:
    """Everything needed to build one env: ``gym.make(env_id, **env_kwargs)`` (JSON-safe kwargs), plus the
    Track references drawn per episode when the dataset holds more than one."""

    env_id: str
    env_kwargs: dict[str, Any]
    dataset: tuple[str, ...] = field(default=())
    hard_negative: float = 0.0
    speed_curriculum: dict[str, float] | None = None


class ReferenceSampler(gym.Wrapper):
    """Gives every Track-v0 episode a reference drawn from a set (a teacher dataset).

    With ``hard_negative`` = 0 the draw is uniform. Otherwise references the policy still fails are
    drawn more often (hard-negative mining, as PHC does): each reference keeps a running failure rate
    ``f`` (episodes that ended in a fall or drift, exponential average over its last ~5 episodes,
    starting at 0.5), and is drawn with probability proportional to ``1 + hard_negative * f``, so a
    reference is drawn at most ``1 + hard_negative`` times as often as one that never fails."""

    FAILURE_DECAY = 0.2

    def __init__(self, env: gym.Env, references: Sequence[Reference], hard_negative: float = 0.0):
        super().__init__(env)
        if not isinstance(env.unwrapped, TrackEnv):
            raise TypeError(f"ReferenceSampler wraps Track-v0, got {type(env.unwrapped).__name__}")
        if not references:
            raise ValueError("ReferenceSampler needs at least one reference")
        if hard_negative < 0:
            raise ValueError(f"hard_negative={hard_negative}; it must be >= 0")
        self.references = list(references)
        self.hard_negative = float(hard_negative)
        self.failure_rate = np.full(len(self.references), 0.5)
        self._current: int | None = None
        self._rng = np.random.default_rng()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        weights = 1.0 + self.hard_negative * self.failure_rate
        self._current = int(self._rng.choice(len(self.references), p=weights / weights.sum()))
        return self.env.reset(seed=seed, options={**(options or {}), "reference": self.references[self._current]})

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if (terminated or truncated) and self._current is not None:
            failed = float(terminated)
            rate = self.failure_rate[self._current]
            self.failure_rate[self._current] = rate + self.FAILURE_DECAY * (failed - rate)
        return obs, reward, terminated, truncated, info


class SpeedCurriculum(gym.Wrapper):
    """Draws each Ideal episode's target speed from a range whose lower end moves down as the policy
    learns to run there (a curriculum on the target speed, from a policy trained for faster running).

    The env's ``target_speed_range`` ``(low, high)`` is where the curriculum ends. It starts at
    ``(start_low, high)``; each episode draws its target speed from the frontier ``[lower, lower +
    step)`` with probability ``frontier_share``, else uniformly from ``[lower, high]``. The frontier
    keeps a running fall rate (exponential average over its last ~5 episodes, starting at 0.5); after at
    least ``min_episodes`` frontier episodes with a fall rate below ``promote_below``, ``lower`` moves
    down by ``step`` (not below ``low``). A resumed run starts at the ``lower`` its checkpoint recorded
    (:mod:`motionlab.training.curriculum`)."""

    FAILURE_DECAY = 0.2

    def __init__(
        self,
        env: gym.Env,
        start_low: float,
        step: float = 0.2,
        frontier_share: float = 0.5,
        promote_below: float = 0.3,
        min_episodes: int = 10,
    ):
        super().__init__(env)
        base = env.unwrapped
        if not isinstance(base, IdealEnv) or base.target_speed_range is None:
            raise UserError("task.speed_curriculum needs an Ideal task with a target_speed_range")
        self.low, self.high = base.target_speed_range
        if not self.low <= start_low <= self.high:
            raise UserError(f"speed_curriculum.start_low={start_low} is outside target_speed_range {base.target_speed_range}")
        if step <= 0 or not 0 <= frontier_share <= 1 or min_episodes < 1:
            raise UserError("speed_curriculum needs step > 0, 0 <= frontier_share <= 1 and min_episodes >= 1")
        self.lower = float(start_low)
        self.step_mps, self.frontier_share = float(step), float(frontier_share)
        self.promote_below, self.min_episodes = float(promote_below), int(min_episodes)
        self._reset_frontier()
        self._rng = np.random.default_rng()
        self._speed = self.lower

    def _reset_frontier(self) -> None:
        self.frontier_fall_rate, self.frontier_episodes = 0.5, 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        frontier = self._rng.random() < self.frontier_share
        top = min(self.lower + self.step_mps, self.high) if frontier else self.high
        self._speed = float(self._rng.uniform(self.lower, top))
        return self.env.reset(seed=seed, options={**(options or {}), "target_speed": self._speed})

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if (terminated or truncated) and self._speed < self.lower + self.step_mps:
            rate = self.frontier_fall_rate
            self.frontier_fall_rate = rate + self.FAILURE_DECAY * (float(terminated) - rate)
            self.frontier_episodes += 1
            if self.frontier_episodes >= self.min_episodes and self.frontier_fall_rate < self.promote_below and self.lower > self.low:
                self.lower = max(self.low, self.lower - self.step_mps)
                self._reset_frontier()
                log.info("speed curriculum: target speeds from %.2f m/s", self.lower)
        info["curriculum_low_mps"] = self.lower
        return obs, reward, terminated, truncated, info


def dataset_paths(path: str | os.PathLike) -> list[Path]:
    """The reference files of a dataset: ``path`` itself (one ``.npz``) or the ``.npz`` files in a folder."""
    path = Path(path).expanduser().resolve()
    if path.is_dir():
        files = sorted(path.glob("*.npz"))
        if not files:
            raise UserError(f"dataset folder {path} holds no .npz reference files")
        return files
    if not path.is_file():
        raise UserError(f"dataset {path} does not exist (give a reference .npz or a folder of them)")
    if path.suffix != ".npz":
        raise UserError(f"dataset {path} is not a .npz reference file")
    return [path]


def _check_track_references(paths: Sequence[Path]) -> None:
    """Load every reference once so a bad file fails now, with its name, rather than inside a worker."""
    for p in paths:
        try:
            ref = load_reference(p)
        except ReferenceFormatError as exc:
            raise UserError(f"dataset file {p}: {exc}") from exc
        if ref.qpos is None:
            raise UserError(f"dataset file {p} has no qpos trajectory; Track-v0 needs lifted references")


def env_spec(cfg: Mapping[str, Any]) -> EnvSpec:
    """Build the :class:`EnvSpec` of a resolved training config (``task``, ``body`` and ``dataset`` keys)."""
    task, body = cfg["task"], cfg["body"]
    kwargs = dict(task["env_kwargs"])
    kwargs.update(
        body=BodyParams.coerce(dict(body["params"])).to_dict(),
        randomize_body=bool(body["randomize"]),
        body_spread=float(body["spread"]),
    )
    dataset: tuple[str, ...] = ()
    if cfg.get("dataset") is not None:
        if task["env_id"] != TRACK_ENV_ID:
            raise UserError(f"dataset= is for task=track; {task['env_id']} takes no reference dataset")
        paths = dataset_paths(cfg["dataset"])
        _check_track_references(paths)
        if len(paths) == 1:
            kwargs["reference"] = str(paths[0])
        else:
            dataset = tuple(str(p) for p in paths)
    curriculum = task.get("speed_curriculum")
    curriculum = None if curriculum is None else {k: float(v) for k, v in dict(curriculum).items()}
    return EnvSpec(task["env_id"], kwargs, dataset, float(task.get("hard_negative", 0.0)), curriculum)


def make_env(spec: EnvSpec) -> gym.Env:
    """One env of ``spec`` (with a :class:`ReferenceSampler` when it has a dataset)."""
    env = gym.make(spec.env_id, **spec.env_kwargs)
    if spec.dataset:
        env = ReferenceSampler(env, [load_reference(p) for p in spec.dataset], spec.hard_negative)
    return env


def make_training_env(spec: EnvSpec, n_envs: int, seed: int, vec_env: str) -> VecEnv:
    """``n_envs`` monitored copies of ``spec`` in a ``dummy`` or ``subproc`` VecEnv, seeded ``seed + rank``
    (each in a :class:`SpeedCurriculum` when the spec has one; evaluation envs are not)."""
    if vec_env not in VEC_ENV_CLASSES:
        raise UserError(f"vec_env={vec_env!r}; choose one of {sorted(VEC_ENV_CLASSES)}")
    curriculum = spec.speed_curriculum
    return make_vec_env(
        make_env,
        n_envs=n_envs,
        seed=seed,
        env_kwargs={"spec": spec},
        vec_env_cls=VEC_ENV_CLASSES[vec_env],
        wrapper_class=None if curriculum is None else SpeedCurriculum,
        wrapper_kwargs=curriculum,
    )
