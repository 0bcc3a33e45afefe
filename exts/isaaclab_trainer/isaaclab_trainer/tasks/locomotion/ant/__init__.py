"""Isaac-Ant-v0 (Isaac Lab 3.0: ``Isaac-Ant``): env class in ``env.py``, config in ``env_cfg.py``."""

from __future__ import annotations

from isaaclab_trainer.tasks.spec import TaskSpec

#: Host memory one env costs, conservatively: measured on Newton (CPU, MuJoCo Warp) as the growth of the
#: process's peak RSS from 16 to 256 envs, rounded up (scripts/benchmarks: docs/benchmarks.md).
BYTES_PER_ENV = 256 * 1024

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
