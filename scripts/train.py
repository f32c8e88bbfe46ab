"""Train a MotionLab policy with PPO; the same as the ``motionlab-train`` command (configs/train.yaml).

    python scripts/train.py task=track dataset=refs/ policy=mog policy.hidden=[1024,1024,512]
    python scripts/train.py -m policy=mog,gaussian seed=0,1
"""

from motionlab.commands.train import main

if __name__ == "__main__":
    main()
