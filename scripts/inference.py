"""The main job: user video -> "Closest vs Ideal" MP4 + JSON report + PNG summary (= ``motionlab-infer``).

    python scripts/inference.py --ckpt-track ... --ckpt-ideal ... --video user.mp4 --out closest_vs_ideal.mp4 --seconds 10
"""

import sys

from motionlab.commands.infer import main

if __name__ == "__main__":
    sys.exit(main())
