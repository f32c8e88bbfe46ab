#!/usr/bin/env bash
# Mutation spot checks (issue #15): apply each deliberate breakage of a key decision of the pipeline,
# run the tests that should catch it, and revert. Never commits; refuses to run on a file with
# uncommitted changes (the revert is `git checkout -- <file>`). ~10 min on 2 busy cores.
#   bash tests/spot_check_mutations.sh
set -uo pipefail
cd "$(dirname "$0")/.."
B=tests/test_main_job_behaviour.py
M=tests/test_metrics.py
S=tests/test_step_physics.py
spot() {  # name file sed-expression pytest-args...
  local name=$1 file=$2 expr=$3
  shift 3
  if ! git diff --quiet -- "$file"; then echo "$name: $file has uncommitted changes, skipped"; return; fi
  sed -i "$expr" "$file"
  if git diff --quiet -- "$file"; then echo "$name: the breakage no longer applies (code moved?)"; return; fi
  local out
  out=$(python -m pytest -q -p no:cacheprovider "$@" 2>&1 | grep -E "^(FAILED|ERROR)|passed|failed")
  git checkout -- "$file"
  echo "=== $name"
  echo "$out"
  echo "$out" | grep -qE "^(FAILED|ERROR)" || echo "!!! NOT CAUGHT"
}
spot "both policies act zero" motionlab/policy_io.py \
  's/        action, _ = self.policy.predict(self.normalize(obs), deterministic=deterministic)/        action = np.zeros((*np.shape(obs)[:-1], self.action_dim), dtype=np.float32)/' $B
spot "Ideal panel renders the Closest run" motionlab/inference/compose.py \
  's/        for run in (closest, ideal):/        for run in (closest, closest):/' $B -k panel
spot "Ideal target speed fixed at 2.8 m/s" motionlab/inference/pipeline.py \
  's/    target = float(np.clip(user_speed, \*speed_range))/    target = 2.8/' $B -k ideal
spot "Ideal env asked 2.8 m/s, report says the user's" motionlab/inference/pipeline.py \
  's/body=body, target_speed=choice.target_speed)/body=body, target_speed=2.8)/' $B -k ideal
spot "body search picks the worst fit" motionlab/inference/pipeline.py \
  's/    return min(scored, key=lambda s: s\[0\])\[1\]/    return max(scored, key=lambda s: s[0])[1]/' $B -k body_search
spot "restart segmentation off (strides may span restarts)" motionlab/inference/metrics.py \
  's/    breaks = tuple(int(np.searchsorted(r.times, t, side="right")) for t in r.restart_times)/    breaks = ()/' $M
spot "foot forces doubled (contact force)" motionlab/humanoid.py \
  's/    return data.sensordata\[foot_force_addresses(model)\].copy()/    return 2 * data.sensordata[foot_force_addresses(model)]/' $M $S
spot "work read once per control step, not integrated" motionlab/step_physics.py \
  's/        positive = np.maximum(power, 0.0).sum(axis=0) \* (0.5 \* h)/        positive = np.maximum(power[-1:], 0.0).sum(axis=0) * (0.5 * h * k)/' $S
spot "peak force read at the control step" motionlab/step_physics.py \
  's/            peak_grf=grf.max(axis=0),/            peak_grf=grf[-1].copy(),/' $S
spot "foot events trusted whatever the bounce" motionlab/inference/metrics.py \
  's/    if bounce is None or abs(events \/ bounce - 1) <= BOUNCE_MISMATCH:/    if True:/' $M -k "bounce or out_of_step"
spot "foot forces doubled (rollout)" motionlab/inference/rollout.py \
  's/    grf = np.array(rows\["foot_grf"\])/    grf = 2 * np.array(rows["foot_grf"])/' $M
