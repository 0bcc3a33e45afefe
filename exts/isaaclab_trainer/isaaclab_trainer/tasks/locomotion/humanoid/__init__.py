"""Isaac-Humanoid-v0 (Isaac Lab 3.0: ``Isaac-Humanoid``): env class in ``env.py``, config in ``env_cfg.py``."""

from __future__ import annotations

from isaaclab_trainer.tasks.spec import TaskSpec

#: Host memory one env costs, conservatively. Measured on Newton (CPU, MuJoCo Warp): see BYTES_PER_ENV below.
BYTES_PER_ENV = 512 * 1024

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
