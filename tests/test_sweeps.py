"""A real Hydra multirun sweep through hydra-submitit-launcher's local executor (~20 s on 2 cores)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from motionlab.policy_io import load_policy, read_meta

REPO_ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "n_envs=2",
    "vec_env=dummy",
    "ppo.n_steps=64",
    "ppo.batch_size=64",
    "ppo.n_epochs=2",
    "policy.hidden=[32,32]",
    "progress_bar=false",
    "eval_episodes=1",
    "task.env_kwargs.max_episode_seconds=1",
]


def test_two_job_sweep_through_submitit_local_writes_a_run_per_job(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    args = [sys.executable, str(REPO_ROOT / "scripts" / "train.py"), "-m", "hydra/launcher=local"]
    args += [f"hydra.sweep.dir={sweep}", "task=ideal", "policy=mog,gaussian", *TINY]
    args += ["total_timesteps=256", "eval_every=0", "checkpoint_every=128"]
    result = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=400)
    assert result.returncode == 0, result.stdout + result.stderr

    assert list((sweep / ".submitit").iterdir()), "jobs did not go through submitit"
    for job, arch in ((0, "mog"), (1, "gaussian")):
        run_dir = sweep / str(job)
        meta = read_meta(run_dir / "latest")
        assert meta["config"]["policy"]["arch"] == arch
        assert meta["config"]["run_dir"] == str(run_dir)
        assert meta["num_timesteps"] >= 256
        assert (run_dir / "best" / "optimizer.pt").is_file()
        assert load_policy(run_dir / "export").meta["policy"]["config"]["arch"] == arch
