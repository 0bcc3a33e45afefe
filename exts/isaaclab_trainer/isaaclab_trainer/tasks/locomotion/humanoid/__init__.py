"""Isaac-Humanoid-v0 (Isaac Lab 3.0: ``Isaac-Humanoid``): env class in ``env.py``, config in ``env_cfg.py``."""

from __future__ import annotations

from isaaclab_trainer.tasks.spec import TaskSpec

#: Host memory one env costs, conservatively. Measured on Newton (CPU, MuJoCo Warp): the process's peak RSS
#: after building and stepping 256 envs is 491 KiB/env above 16 envs'; the SB3 rollout buffer adds ~25 KiB/env
#: at n_steps 32 (87 observations). Rounded up by ~1.5x.
BYTES_PER_ENV = 768 * 1024

SPECS = [
    TaskSpec(
        task_id="Isaac-Humanoid-v0",
        alias="Isaac-Humanoid",
        env="isaaclab_trainer.tasks.locomotion.humanoid.env:HumanoidEnv",
        env_cfg="isaaclab_trainer.tasks.locomotion.humanoid.env_cfg:HumanoidEnvCfg",
        env_cfg_file="tasks/Isaac-Humanoid-v0.yaml",
        agent_cfg_file="agents/sb3_ppo_humanoid.yaml",
        sweep_file="sweeps/humanoid_ppo.yaml",
        bytes_per_env=BYTES_PER_ENV,
    )
]
