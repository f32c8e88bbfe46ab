"""Curricula of a training run, each continued where it was when the run is resumed.

**Residual force** (Track): the non-physical root force's limit goes toward zero. Residual force control
lets a tracker survive references no body can follow exactly, but the Closest run should need as little
of it as possible. :class:`ResidualForceSchedule` lowers the env's ``residual_force_scale`` (the force
and torque per unit action) by ``factor`` after every evaluation whose fall rate is at most
``lower_at_fall_rate``, raises it back by the same factor (never above where it started) when the fall
rate exceeds ``raise_at_fall_rate``, and sets it to 0 (fully physical) once it drops below ``floor``.
:class:`ResidualForceCurriculum` applies it to the training and evaluation envs. The schedule's state is
saved in every checkpoint's ``meta.json`` (``residual_curriculum``) and the checkpoint's ``env_kwargs``
carry the limit it was trained at, so a resumed run continues the schedule and inference drives the
policy with the force it learnt with. Configured by ``task.residual_curriculum`` (``null``: off).

**Target speed** (Ideal): :class:`motionlab.training.envs.SpeedCurriculum` moves the lower end of the
target speeds down as the policy stops falling there (``task.speed_curriculum``).
:class:`SpeedCurriculumRecord` keeps the lowest end the training envs have reached in the checkpoints'
``meta.json`` (``speed_curriculum``), and a resumed run starts there (:func:`resumed_speed_curriculum`)
instead of at ``start_low`` again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import gymnasium as gym
from stable_baselines3.common.callbacks import BaseCallback

from motionlab.errors import UserError

from .checkpoint import Checkpointer

META_KEY = "residual_curriculum"  # the schedule's state in a checkpoint's meta.json
SCALE_KEY = "residual_force_scale"


@dataclass
class ResidualForceSchedule:
    """When the residual force limit (``scale``, x body weight per unit action) moves, and where it is."""

    scale: float
    start_scale: float
    factor: float = 0.85
    lower_at_fall_rate: float = 0.25
    raise_at_fall_rate: float = 0.5
    floor: float = 0.02
    history: list[dict[str, float]] = field(default_factory=list)  # every change: timesteps, fall rate, new scale

    def __post_init__(self) -> None:
        if not 0.0 < self.factor < 1.0:
            raise UserError(f"residual_curriculum.factor={self.factor}; give a factor in (0, 1)")
        if not 0.0 <= self.lower_at_fall_rate <= self.raise_at_fall_rate <= 1.0:
            raise UserError(
                f"residual_curriculum: lower_at_fall_rate={self.lower_at_fall_rate} and raise_at_fall_rate="
                f"{self.raise_at_fall_rate} must satisfy 0 <= lower <= raise <= 1"
            )
        if self.scale < 0.0 or self.start_scale < 0.0 or self.floor < 0.0:
            raise UserError("residual_curriculum: the scales and the floor must be >= 0")

    @classmethod
    def from_config(cls, settings: Mapping[str, Any], start_scale: float) -> ResidualForceSchedule:
        """A schedule starting at ``start_scale`` with the ``task.residual_curriculum`` settings."""
        known = {"factor", "lower_at_fall_rate", "raise_at_fall_rate", "floor"}
        unknown = set(settings) - known
        if unknown:
            raise UserError(f"task.residual_curriculum: unknown settings {sorted(unknown)}; known: {sorted(known)}")
        return cls(scale=start_scale, start_scale=start_scale, **{k: float(v) for k, v in settings.items()})

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> ResidualForceSchedule:
        """The schedule saved in a checkpoint (:meth:`state`)."""
        try:
            return cls(**{**state, "history": [dict(h) for h in state.get("history", [])]})
        except TypeError as exc:
            raise UserError(f"the checkpoint's {META_KEY} is not a saved schedule: {exc}") from exc

    def state(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, timesteps: int, fall_rate: float) -> bool:
        """Move the limit after an evaluation with ``fall_rate``; True when it changed."""
        if fall_rate <= self.lower_at_fall_rate and self.scale > 0.0:
            new = self.scale * self.factor
            new = 0.0 if new < self.floor else new
        elif fall_rate > self.raise_at_fall_rate and self.scale < self.start_scale:
            new = min(max(self.scale, self.floor) / self.factor, self.start_scale)
        else:
            return False
        self.history.append({"timesteps": int(timesteps), "fall_rate": float(fall_rate), "scale": new})
        self.scale = new
        return True


class ResidualForceCurriculum(BaseCallback):
    """Applies a :class:`ResidualForceSchedule` after each evaluation of ``evaluator`` (an
    :class:`~motionlab.training.callbacks.EvalCallback` earlier in the same callback list): to the
    training envs, the evaluation env and the checkpoints' metadata. Lowering the limit also restarts
    the choice of ``best/`` (a policy at a lower limit is what the curriculum is after)."""

    def __init__(self, schedule: ResidualForceSchedule, checkpointer: Checkpointer, eval_env: gym.Env, evaluator: Any):
        super().__init__()
        self.schedule = schedule
        self.checkpointer = checkpointer
        self.eval_env = eval_env
        self.evaluator = evaluator
        self._seen_eval_at = -1

    def _on_training_start(self) -> None:
        self._apply()

    def _on_rollout_start(self) -> None:
        self._follow_evaluation()

    def _on_training_end(self) -> None:  # after the final evaluation, before the final checkpoint
        self._follow_evaluation()

    def _follow_evaluation(self) -> None:
        at = self.evaluator.last_eval_at
        if at == self._seen_eval_at or self.checkpointer.last_eval is None:
            return
        self._seen_eval_at = at
        previous = self.schedule.scale
        if self.schedule.update(at, float(self.checkpointer.last_eval["fall_rate"])):
            if self.schedule.scale < previous:
                self.checkpointer.best_score = None
            self._apply()
            self.logger.record("curriculum/residual_force_scale", self.schedule.scale)

    def _on_step(self) -> bool:
        return True

    def _apply(self) -> None:
        scale = self.schedule.scale
        self.training_env.env_method("set_residual_force_scale", scale)
        self.eval_env.get_wrapper_attr("set_residual_force_scale")(scale)
        info = self.checkpointer.info
        info["env_kwargs"] = {**info["env_kwargs"], SCALE_KEY: scale}
        info[META_KEY] = self.schedule.state()


SPEED_META_KEY = "speed_curriculum"  # the target-speed curriculum's state in a checkpoint's meta.json


class SpeedCurriculumRecord(BaseCallback):
    """Writes the lowest ``lower`` end of the training envs' target-speed curricula into the run's
    checkpoint metadata after every rollout."""

    def __init__(self, checkpointer: Checkpointer):
        super().__init__()
        self.checkpointer = checkpointer

    def _on_rollout_end(self) -> None:
        self.checkpointer.info[SPEED_META_KEY] = {"lower": float(min(self.training_env.get_attr("lower")))}

    def _on_step(self) -> bool:
        return True


def resumed_speed_curriculum(
    settings: Mapping[str, float] | None, resume_meta: Mapping[str, Any] | None
) -> dict[str, float] | None:
    """The ``task.speed_curriculum`` settings a run starts with: those of the config, starting where the
    checkpoint being resumed had got to (its ``speed_curriculum.lower``) when it has one."""
    if settings is None:
        return None
    saved = (resume_meta or {}).get(SPEED_META_KEY)
    return dict(settings) if saved is None else {**settings, "start_low": float(saved["lower"])}
