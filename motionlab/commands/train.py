"""``motionlab-train``: the Hydra app that trains (or resumes) a policy; see :func:`motionlab.training.train.train`.

Hydra parses the command line (``key=value`` overrides, ``-m`` sweeps over the launchers in
``configs/hydra/launcher``); errors in the input are reported like every other command's.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from motionlab.commands import EXIT_INTERRUPTED, EXIT_USER_ERROR, guarded


@hydra.main(version_base=None, config_path="pkg://motionlab.configs", config_name="train")
def main(cfg: DictConfig) -> None:
    """Console entry point ``motionlab-train`` (Hydra command line: overrides, ``-m`` sweeps)."""
    from motionlab.training.train import train

    code = guarded("motionlab-train", lambda: train(cfg))
    if code in (EXIT_USER_ERROR, EXIT_INTERRUPTED):
        raise SystemExit(code)


if __name__ == "__main__":
    main()
