"""SB3 callbacks of a training run: periodic ``latest/`` checkpoints and evaluation with ``best/``.

Both act at the start of a rollout, right after a PPO update, so a checkpoint never holds samples that
were collected but not yet trained on.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from .checkpoint import Checkpointer
from .evaluation import evaluate


class _Every:
    """True once each time a counter passes a multiple of ``every``."""

    def __init__(self, every: int, start: int):
        self.every = every
        self.next = (start // every + 1) * every

    def due(self, count: int) -> bool:
        if count < self.next:
            return False
        self.next = (count // self.every + 1) * self.every
        return True


class CheckpointCallback(BaseCallback):
    """Saves ``latest/`` every ``every`` timesteps and at the end of training."""

    def __init__(self, checkpointer: Checkpointer, every: int):
        super().__init__()
        if every < 1:
            raise ValueError(f"checkpoint_every={every}; it must be a positive number of timesteps")
        self.checkpointer = checkpointer
        self.every = every

    def _on_training_start(self) -> None:
        self._schedule = _Every(self.every, self.num_timesteps)

    def _on_rollout_start(self) -> None:
        if self._schedule.due(self.num_timesteps):
            self.checkpointer.save(self.model, "latest")

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        self.checkpointer.save(self.model, "latest")


class EvalCallback(BaseCallback):
    """Evaluates the deterministic policy every ``every`` timesteps (0: only at the end of training),
    logs the metrics to TensorBoard (``eval/*``) and ``metrics.jsonl``, and saves ``best/`` whenever the
    mean episode return improves."""

    def __init__(
        self, checkpointer: Checkpointer, env: gym.Env, every: int, episodes: int, metrics_path: Path, seed: int = 0
    ):
        super().__init__()
        self.checkpointer = checkpointer
        self.env = env
        self.every = every
        self.episodes = episodes
        self.metrics_path = Path(metrics_path)
        self.seed = seed
        self.last_eval_at = -1  # timesteps of this run's latest evaluation (-1: none yet)

    def _on_training_start(self) -> None:
        self._schedule = _Every(self.every, self.num_timesteps) if self.every > 0 else None
        self._started = time.monotonic()

    def _on_rollout_start(self) -> None:
        if self._schedule is not None and self._schedule.due(self.num_timesteps):
            self._evaluate()

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        if self.last_eval_at != self.num_timesteps:
            self._evaluate()

    def _predict(self, obs: np.ndarray) -> np.ndarray:
        vecnorm = self.model.get_vec_normalize_env()
        action, _ = self.model.predict(vecnorm.normalize_obs(obs), deterministic=True)
        return action

    def _evaluate(self) -> None:
        metrics = evaluate(self._predict, self.env, self.episodes, self.seed)
        self.last_eval_at = self.num_timesteps
        for key, value in metrics.items():
            self.logger.record(f"eval/{key}", value)
        self.logger.dump(self.num_timesteps)
        row = {"timesteps": self.num_timesteps, "wall_s": round(time.monotonic() - self._started, 3), **metrics}
        if hasattr(self.env.unwrapped, "residual_force_scale"):  # the limit it was evaluated at (curriculum)
            row["residual_force_scale"] = float(self.env.unwrapped.residual_force_scale)
        with open(self.metrics_path, "a") as f:
            f.write(json.dumps(row) + "\n")
        ckpt = self.checkpointer
        ckpt.last_eval = metrics
        if ckpt.best_score is None or metrics["return"] > ckpt.best_score:
            ckpt.best_score = metrics["return"]
            ckpt.save(self.model, "best")
