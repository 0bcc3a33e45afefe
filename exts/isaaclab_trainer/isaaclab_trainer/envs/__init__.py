"""Batched RL envs in Isaac Lab's style (torch tensors, resets inside ``step()``)."""

from .base_env import BatchedTaskEnv
from .cartpole_cfg import CartpoleEnvCfg
from .cartpole_env import CartpoleDirectEnv, CartpoleEnv

__all__ = ["BatchedTaskEnv", "CartpoleDirectEnv", "CartpoleEnv", "CartpoleEnvCfg"]
