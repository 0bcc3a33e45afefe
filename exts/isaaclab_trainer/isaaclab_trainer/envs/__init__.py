"""Batched RL envs in Isaac Lab's style (torch tensors, resets inside ``step()``); the tasks live in ``tasks/``."""

from .base_env import BatchedTaskEnv
from .env_cfg import TaskEnvCfg

__all__ = ["BatchedTaskEnv", "TaskEnvCfg"]
