"""Rebuild the bundled references from the bundled DeepMimic run clip.

    python scripts/make_default_reference.py

- ``assets/references/run_default.npz``: the real running clip looped for 14 cycles (11.2 s), retargeted
  to the default body (1.75 m, 70 kg) and projected to 2D through a side-on camera that follows the
  runner. The default reference of ``Track-v0`` and the style/gait prior of ``Ideal-v0``.
- ``assets/references/sample_input.npz``: the main job's embedded input, standing in for a user video:
  the same clip, 10 s, 2D keypoints (+ world keypoints, and the camera in ``source``) only, no ``qpos``.
"""

import dataclasses
import sys

from motionlab.assets import DEFAULT_REFERENCE, RUN_CLIP, SAMPLE_INPUT
from motionlab.commands import guarded
from motionlab.mocap import mocap_reference
from motionlab.reference import save_reference


def main() -> None:
    """Write both bundled references."""
    ref = mocap_reference(RUN_CLIP, cycles=14, fps=30.0)
    save_reference(ref, DEFAULT_REFERENCE)
    print(f"wrote {DEFAULT_REFERENCE} ({ref.num_frames} frames, {ref.duration:.1f} s, {ref.source['speed_mps']:.2f} m/s)")
    sample = mocap_reference(RUN_CLIP, cycles=13, fps=30.0)
    n = 301  # 10 s at 30 fps
    sample = dataclasses.replace(
        sample,
        keypoints2d=sample.keypoints2d[:n],
        keypoints2d_valid=sample.keypoints2d_valid[:n],
        world_keypoints=sample.world_keypoints[:n],
        qpos=None,
        body=None,
        source={**sample.source, "kind": "sample", "note": "stands in for a user video: 2D keypoints only"},
    )
    save_reference(sample, SAMPLE_INPUT)
    print(f"wrote {SAMPLE_INPUT} ({sample.num_frames} frames, 2D keypoints only)")


if __name__ == "__main__":
    sys.exit(guarded("make_default_reference", main))
