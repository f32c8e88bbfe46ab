"""Resuming a run directory never runs code planted in it, and never silently starts another run.

Run directories are copied between machines and users (Slurm job dirs, shared runs), so every file in
one is untrusted: the tests plant pickle payloads that would create a marker directory when unpickled.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch as th
from hydra import compose, initialize_config_module

from motionlab.errors import CheckpointError, MotionLabError, UserError
from motionlab.io_utils import exclusive_lock
from motionlab.policy_io import load_policy, read_meta
from motionlab.training.train import RUN_CONFIG, RUN_LOCK, train

REPO_ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "task=ideal",
    "policy=gaussian",
    "n_envs=2",
    "vec_env=dummy",
    "ppo.n_steps=64",
    "ppo.batch_size=64",
    "ppo.n_epochs=1",
    "policy.hidden=[16,16]",
    "progress_bar=false",
    "eval_episodes=1",
    "eval_every=0",
    "checkpoint_every=128",
    "total_timesteps=256",
    "task.env_kwargs.max_episode_seconds=1",
]


class Payload:
    """Unpickling this creates ``marker`` (a directory): proof that planted code ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _compose(overrides: list[str]):
    with initialize_config_module("motionlab.configs", version_base=None):
        return compose("train", overrides=overrides)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 256-step Ideal-v0 run (latest/, best/, export/, run_config.json, metrics, tb/)."""
    run_dir = tmp_path_factory.mktemp("safe") / "run"
    train(_compose([*TINY, f"run_dir={run_dir}"]))
    return run_dir


def _copy(run: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "run"
    shutil.copytree(run, dst)
    return dst


def _resume(run_dir: Path) -> Exception | None:
    """Continue ``run_dir`` (its budget is already reached: everything is loaded, nothing trained)."""
    try:
        train(_compose([f"run_dir={run_dir}"]))
    except MotionLabError as exc:
        return exc
    return None


def _plant(path: Path, marker: Path) -> None:
    """Replace ``path`` with a payload in its own format where it has one that can carry objects."""
    if path.suffix == ".pt":
        th.save({"weight": Payload(marker)}, path)
    elif path.suffix == ".npz":
        np.savez(path, mean=np.array([Payload(marker)], dtype=object), var=np.ones(3))
    elif path.suffix == ".zip":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("data", pickle.dumps(Payload(marker)))
    else:
        path.write_bytes(pickle.dumps(Payload(marker)))


def test_the_checkpoint_holds_only_data(run: Path) -> None:
    for name in ("latest", "best"):
        files = sorted(p.name for p in (run / name).iterdir())
        assert files == ["meta.json", "obs_norm.npz", "optimizer.pt", "policy.pt", "rng.json", "vecnormalize.npz"]
    assert json.loads((run / RUN_CONFIG).read_text())["policy"]["arch"] == "gaussian"
    assert _resume(run) is None  # an untouched run continues


def test_payload_in_any_file_of_a_run_dir_never_runs(run: Path, tmp_path: Path) -> None:
    """One file at a time (so every loader is reached): resume either works or refuses with a clear
    error, and the payload never runs."""
    files = sorted(p.relative_to(run) for p in run.rglob("*") if p.is_file() and "tb" not in p.parts)
    assert len(files) >= 14  # latest/ and best/ (6 each), export/, run_config.json, metrics.jsonl
    outcomes = {}
    for i, rel in enumerate(files):
        run_dir = _copy(run, tmp_path / str(i))
        marker = tmp_path / f"ran-{i}"
        _plant(run_dir / rel, marker)
        error = _resume(run_dir)
        assert not marker.exists(), f"a payload in {rel} ran"
        outcomes[str(rel)] = error
        shutil.rmtree(run_dir.parent)
    for rel in ("latest/policy.pt", "latest/optimizer.pt", "latest/vecnormalize.npz", "latest/rng.json"):
        assert isinstance(outcomes[rel], CheckpointError) and rel.split("/")[1] in str(outcomes[rel]), rel
    assert outcomes["metrics.jsonl"] is None or isinstance(outcomes["metrics.jsonl"], MotionLabError)


def test_pickled_resume_files_of_older_versions_are_refused_not_unpickled(run: Path, tmp_path: Path) -> None:
    """A run dir holding only the pickle-based resume files (model.zip, vecnormalize.pkl, rng.pkl), each a
    payload: refused with what to do, nothing runs."""
    run_dir = _copy(run, tmp_path)
    marker = tmp_path / "ran"
    for name in ("optimizer.pt", "vecnormalize.npz", "rng.json"):
        (run_dir / "latest" / name).unlink()
    for name in ("model.zip", "vecnormalize.pkl", "rng.pkl"):
        _plant(run_dir / "latest" / name, marker)
    error = _resume(run_dir)
    assert isinstance(error, CheckpointError) and "init_from=" in str(error) and "unpickling" in str(error)
    assert not marker.exists()


def test_run_dir_stopped_before_its_first_checkpoint_restarts_with_its_own_config(run: Path, tmp_path: Path) -> None:
    """The README's resume command after an early kill: the run's saved config, not the default one."""
    run_dir = _copy(run, tmp_path)
    for name in ("latest", "best", "export"):
        shutil.rmtree(run_dir / name)
    train(_compose([f"run_dir={run_dir}"]))
    meta = read_meta(run_dir / "latest")
    assert meta["config"]["n_envs"] == 2 and meta["config"]["policy"]["arch"] == "gaussian"  # not 16 / mog
    assert meta["num_timesteps"] >= 256 and meta["resumes"] == []

    # Without run_config.json the leftovers cannot be continued: a clear error, not a fresh default run.
    (run_dir / RUN_CONFIG).unlink()
    shutil.rmtree(run_dir / "latest")
    with pytest.raises(CheckpointError, match=r"holds part of a run .*neither a latest/ checkpoint nor run_config"):
        train(_compose([f"run_dir={run_dir}"]))


def _edit_meta(run_dir: Path, edit) -> None:
    path = run_dir / "latest" / "meta.json"
    meta = json.loads(path.read_text())
    edit(meta)
    path.write_text(json.dumps(meta))


def test_meta_with_missing_keys_is_a_clear_error(run: Path, tmp_path: Path) -> None:
    run_dir = _copy(run, tmp_path)
    _edit_meta(run_dir, lambda m: m.pop("config"))
    assert "lacks config" in str(_resume(run_dir))

    _edit_meta(run_dir, lambda m: m.update(config=json.loads((run / RUN_CONFIG).read_text())))
    _edit_meta(run_dir, lambda m: (m["config"]["ppo"].pop("gamma"), m["config"].pop("seed"), m["config"]["task"].pop("env_id")))
    error = _resume(run_dir)
    assert isinstance(error, CheckpointError)
    assert "ppo.gamma" in str(error) and "seed" in str(error) and "task.env_id" in str(error)


def test_checkpoint_asking_for_an_absurd_network_is_refused_before_allocating(run: Path, tmp_path: Path) -> None:
    run_dir = _copy(run, tmp_path)
    _edit_meta(run_dir, lambda m: m["config"]["policy"].update(hidden=[200000, 200000]))
    error = _resume(run_dir)  # 2 x 4e10 weights would need 320 GB
    assert isinstance(error, UserError) and "policy.hidden=[200000, 200000]" in str(error)

    export = run_dir / "export" / "meta.json"
    meta = json.loads(export.read_text())
    meta["policy"]["config"]["hidden"] = [200000, 200000]
    export.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=r"meta.json: policy.hidden=\[200000, 200000\]"):
        load_policy(run_dir / "export")
    meta["observation_shape"] = [10**9]
    export.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="is not a MotionLab policy"):
        load_policy(run_dir / "export")
    meta["env_kwargs"] = ["not", "a", "mapping"]
    export.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="env_kwargs a mapping"):
        load_policy(run_dir / "export")


def test_temporary_dirs_left_by_killed_saves_are_removed_when_the_run_continues(run: Path, tmp_path: Path) -> None:
    run_dir = _copy(run, tmp_path)
    # what a SIGKILL during a checkpoint save or a metrics write leaves (io_utils.atomic_directory/atomic_write)
    for name in (".latest.k2l1x9.partial", ".best.0a9f3z.partial"):
        shutil.copytree(run_dir / "latest", run_dir / name)
    (run_dir / ".metrics.q81z0.partial.jsonl").write_text("{}\n")
    assert _resume(run_dir) is None
    assert sorted(p.name for p in run_dir.glob(".*")) == [RUN_LOCK]


def test_a_run_dir_in_use_by_another_trainer_is_refused(run: Path, tmp_path: Path) -> None:
    """Two trainers writing one run directory would clobber each other's checkpoints (and the second
    would delete the first's temporary directories): the second stops with the first one's pid."""
    run_dir = _copy(run, tmp_path)
    with exclusive_lock(run_dir / RUN_LOCK, "test"):
        error = _resume(run_dir)
    assert isinstance(error, UserError) and f"run_dir {run_dir} is in use" in str(error) and str(os.getpid()) in str(error)
    assert _resume(run_dir) is None  # free again once the other trainer is gone


def test_cli_reports_an_unresumable_run_dir_in_one_line(run: Path, tmp_path: Path) -> None:
    run_dir = _copy(run, tmp_path)
    _edit_meta(run_dir, lambda m: m["config"]["policy"].update(hidden=[200000, 200000]))
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "train.py"), f"run_dir={run_dir}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "motionlab-train: error: policy.hidden=[200000, 200000]" in result.stderr
