"""Rebuild ``assets/references/run_default.npz`` from the bundled DeepMimic run clip.

    python scripts/make_default_reference.py

The default reference is the real running clip looped for 14 cycles (11.2 s), retargeted to the default
body (1.75 m, 70 kg) and projected to 2D through a side-on camera that follows the runner.
"""

from motionlab.assets import DEFAULT_REFERENCE, RUN_CLIP
from motionlab.mocap import mocap_reference
from motionlab.reference import save_reference

if __name__ == "__main__":
    ref = mocap_reference(RUN_CLIP, cycles=14, fps=30.0)
    save_reference(ref, DEFAULT_REFERENCE)
    print(f"wrote {DEFAULT_REFERENCE} ({ref.num_frames} frames, {ref.duration:.1f} s, {ref.source['speed_mps']:.2f} m/s)")
