"""PPO training of MotionLab policies: Hydra entry point, env construction, callbacks and checkpoints."""
