"""Track-v0's PD servos replaying the real run clip with zero action: the damping cap and the velocity lead.

    python benchmarks/bench_servo.py

Protocol (as ``tests/test_envs.py``): the default reference from start frames 0, 10, 20 and 30, 18 control
steps (0.54 s) each, on the default body. Set-points are the reference pose led by kv/kp x reference
velocity, exactly what a zero action commands. Per 5 ms physics step: a *limit-to-limit swing* is a servo
force changing by more than 1.5x its torque limit; *positive power* is the sum over servos of
max(0, force x joint velocity), averaged over the steps (kW); the ankles' share is given separately.
Landmark error: Track-v0's ``mpjpe`` (12 body landmarks, pelvis-centred), averaged over the control steps.

Time to the first fall with zero action: Track-v0 from start frames 0, 3, ..., 27 (a stride), default
body, until the episode ends (at most 5 s).

Compared: the damping cap (``SERVO_DAMPING_CAP`` in ``motionlab/humanoid.py``) on and off (the template's
damping), and the set-point lead on and off (plain set-points). Writes ``benchmarks/results/servo.json``.
"""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np

import motionlab  # noqa: F401  (registers the envs)
import motionlab.humanoid as humanoid
from motionlab.inference.rollout import run_policy, zero_policy
from motionlab.io_utils import record_json_run

START_FRAMES = (0, 10, 20, 30)
FALL_START_FRAMES = tuple(range(0, 30, 3))
CONTROL_STEPS = 18
RESULTS = "benchmarks/results/servo.json"


def replay(damping_cap: bool = True, lead: bool = True) -> dict[str, float]:
    """Zero-action replay under the protocol above; returns swings, power and landmark error."""
    saved = humanoid.SERVO_DAMPING_CAP
    humanoid.SERVO_DAMPING_CAP = saved if damping_cap else float("inf")
    humanoid._build_cached.cache_clear()  # models are cached per body: rebuild with this cap
    try:
        env = gym.make("MotionLab/Track-v0", reference_state_init=False).unwrapped
        env.reset(seed=0)
    finally:
        humanoid.SERVO_DAMPING_CAP = saved
        humanoid._build_cached.cache_clear()
    model, data = env.model, env.data
    limit = model.actuator_forcerange[:, 1]
    dofs = model.jnt_dofadr[model.actuator_trnid[:, 0]]
    ankles = np.array(["ankle" in model.joint(j).name for j in model.actuator_trnid[:, 0]])
    swings, power, ankle_power, errors = 0, [], [], []
    for start in START_FRAMES:
        env.reset(seed=0, options={"start_frame": start})
        if not lead:
            env._servo_lead[:] = 0.0
        previous = data.actuator_force.copy()
        for _ in range(CONTROL_STEPS):
            t = env.t + 1
            np.clip(env._servo_target(env.ref_qpos[t, 7:], env.ref_qvel[t, 6:]), env._ctrl_lo, env._ctrl_hi, out=data.ctrl)
            env.t = t
            for _ in range(env.frame_skip):
                mujoco.mj_step(model, data)
                swings += int(np.sum(np.abs(data.actuator_force - previous) > 1.5 * limit))
                previous = data.actuator_force.copy()
                positive = np.clip(data.actuator_force * data.qvel[dofs], 0.0, None)
                power.append(positive.sum())
                ankle_power.append(positive[ankles].sum())
            errors.append(env._reward_terms()[1])
    return {
        "limit_to_limit_swings": swings,
        "physics_steps": len(power),
        "positive_power_kw": float(np.mean(power)) / 1000.0,
        "ankle_positive_power_kw": float(np.mean(ankle_power)) / 1000.0,
        "landmark_error_mm": 1000.0 * float(np.mean(errors)),
    }


def seconds_to_fall(lead: bool = True) -> dict[str, float]:
    """Zero action from each of :data:`FALL_START_FRAMES`: seconds until the fall (or the episode's end)."""
    env = gym.make("MotionLab/Track-v0", reference_state_init=False)
    env.reset(seed=0)
    if not lead:
        env.unwrapped._servo_lead[:] = 0.0  # kept across resets on the same body
    times = []
    for start in FALL_START_FRAMES:
        run = run_policy(env, zero_policy, 5.0, start_frame=start)
        times.append(run.fall_time if run.fall_time is not None else run.duration)
    return {"from_frame_0_s": times[0], "mean_s": float(np.mean(times)), "min_s": min(times), "max_s": max(times)}


def main() -> None:
    cases = {
        "damping cap, lead (shipped)": replay(),
        "no damping cap (template damping), lead": replay(damping_cap=False),
        "damping cap, plain set-points (no lead)": replay(lead=False),
    }
    for name, r in cases.items():
        print(
            f"{name:<42} swings {r['limit_to_limit_swings']:>4} in {r['physics_steps']} steps, positive power "
            f"{r['positive_power_kw']:.2f} kW (ankles {r['ankle_positive_power_kw']:.2f}), "
            f"landmark error {r['landmark_error_mm']:.0f} mm"
        )
    falls = {"lead (shipped)": seconds_to_fall(), "plain set-points (no lead)": seconds_to_fall(lead=False)}
    for name, f in falls.items():
        print(
            f"zero action, {name}: falls after {f['from_frame_0_s']:.2f} s from frame 0; "
            f"{f['min_s']:.2f}-{f['max_s']:.2f} s, mean {f['mean_s']:.2f} s over start frames {FALL_START_FRAMES}"
        )
    record_json_run(RESULTS, "zero-action replay, start frames 0/10/20/30, 0.54 s each", cases)
    record_json_run(RESULTS, f"zero action, seconds to the fall, start frames {list(FALL_START_FRAMES)}", falls)
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
