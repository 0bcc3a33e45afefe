"""Isaac-Ant-v0 (Isaac Lab 3.0: ``Isaac-Ant``): env class in ``env.py``, config in ``env_cfg.py``."""

from __future__ import annotations

from isaaclab_trainer.tasks.spec import TaskSpec

#: Host memory one env costs, conservatively. Measured on Newton (CPU, MuJoCo Warp): the process's peak RSS
#: after building and stepping 256 envs is 255 KiB/env above 16 envs'; the SB3 rollout buffer adds ~10 KiB/env
#: at n_steps 16 (60 observations). Rounded up by ~1.5x.
BYTES_PER_ENV = 384 * 1024

SPECS = [
    TaskSpec(
        task_id="Isaac-Ant-v0",
        alias="Isaac-Ant",
        env="isaaclab_trainer.tasks.locomotion.ant.env:AntEnv",
        env_cfg="isaaclab_trainer.tasks.locomotion.ant.env_cfg:AntEnvCfg",
        env_cfg_file="tasks/Isaac-Ant-v0.yaml",
        agent_cfg_file="agents/sb3_ppo_ant.yaml",
        sweep_file="sweeps/ant_ppo.yaml",
        bytes_per_env=BYTES_PER_ENV,
    )
]
