"""The cartpole tasks (Isaac Lab's ``isaaclab_tasks/core/cartpole``): envs in ``env.py``, config ``env_cfg.py``."""

from __future__ import annotations

from isaaclab_trainer.tasks.spec import TaskSpec

#: Measured on Newton (CPU): building 4096 envs (USD stage + Newton model/states + env buffers) takes
#: ~41 KiB/env more than 16 envs; the SB3 rollout buffer adds < 1 KiB/env at n_steps 16. Rounded up by ~1.6x.
BYTES_PER_ENV = 64 * 1024

_COMMON = dict(
    env_cfg="isaaclab_trainer.tasks.cartpole.env_cfg:CartpoleEnvCfg",
    agent_cfg_file="agents/sb3_ppo_cartpole.yaml",
    sweep_file="sweeps/cartpole_ppo.yaml",
    bytes_per_env=BYTES_PER_ENV,
)
SPECS = [
    TaskSpec(
        task_id="Isaac-Cartpole-v0",
        alias="Isaac-Cartpole",
        env="isaaclab_trainer.tasks.cartpole.env:CartpoleEnv",
        env_cfg_file="tasks/Isaac-Cartpole-v0.yaml",
        **_COMMON,
    ),
    TaskSpec(
        task_id="Isaac-Cartpole-Direct-v0",
        alias="Isaac-Cartpole-Direct",
        env="isaaclab_trainer.tasks.cartpole.env:CartpoleDirectEnv",
        env_cfg_file="tasks/Isaac-Cartpole-Direct-v0.yaml",
        **_COMMON,
    ),
]
