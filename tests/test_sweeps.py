"""Real Hydra multirun sweeps through the launchers in configs/hydra/launcher: submitit's local executor
(~20 s on 2 cores) and Ray (a local Ray started by ray.init, ~50 s)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.slow
def test_two_job_sweep_through_the_ray_launcher_config_on_a_local_ray(tmp_path: Path) -> None:
    """configs/hydra/launcher/ray_cluster.yaml as a user runs it, pointed at a local Ray instead of a
    cluster (address=null) with resources this machine has: each job runs as a Ray task."""
    pytest.importorskip("hydra_plugins.hydra_ray_launcher", reason="the ray extra is not installed")
    sweep = tmp_path / "sweep"
    args = [sys.executable, str(REPO_ROOT / "scripts" / "train.py"), "-m", "hydra/launcher=ray_cluster"]
    args += ["hydra.launcher.ray.init.address=null", "+hydra.launcher.ray.init.num_cpus=2"]
    args += ["hydra.launcher.ray.remote.num_cpus=1", "hydra.launcher.ray.remote.num_gpus=0"]
    args += [f"hydra.sweep.dir={sweep}", "task=ideal", "policy=mog,gaussian", *TINY]
    args += ["total_timesteps=128", "eval_every=0", "checkpoint_every=128"]
    result = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=400)
    assert result.returncode == 0, result.stdout + result.stderr

    log = result.stdout + result.stderr
    assert "Ray Launcher is launching 2 jobs" in log and "Started a local Ray instance" in log
    assert "(_run_job pid=" in log  # the jobs ran in Ray worker processes
    for job, arch in ((0, "mog"), (1, "gaussian")):
        meta = read_meta(sweep / str(job) / "latest")
        assert meta["config"]["policy"]["arch"] == arch and meta["num_timesteps"] >= 128
        assert load_policy(sweep / str(job) / "export").meta["policy"]["config"]["arch"] == arch
