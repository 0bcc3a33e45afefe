"""Running a trained policy: loading a checkpoint with its statistics, stepping it deterministically.

Used by play.py (a loop of its own) and by the TrainingSession (one step per app frame).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecEnv

from isaaclab_trainer.tasks import load_agent_cfg
from isaaclab_trainer.utils import load_yaml
from isaaclab_trainer.wrappers.sb3 import Sb3VecEnvWrapper

from .checkpoints import load_agent, wrap_with_stats
from .checks import Checkpoint
from .runs import vecnormalize_path
from .sb3_cfg import AgentSettings, process_sb3_cfg


class PolicyPlayer:
    """A loaded agent and its env; :meth:`step` advances every env by one deterministic action."""

    def __init__(self, agent: PPO, vec_env: VecEnv, checkpoint: Path):
        self.agent = agent
        self.vec_env = vec_env
        self.checkpoint = checkpoint
        self._obs = vec_env.reset()

    def step(self) -> list[tuple[float, int]]:
        """One env step for all envs; returns ``(return, length)`` of the episodes that just ended."""
        with torch.inference_mode():
            actions, _ = self.agent.predict(self._obs, deterministic=True)
        self._obs, _, dones, infos = self.vec_env.step(actions)
        return [(infos[i]["episode"]["r"], infos[i]["episode"]["l"]) for i in np.flatnonzero(dones)]


def checkpoint_agent_settings(checkpoint: Path, task: str, num_envs: int) -> AgentSettings:
    """The agent config a checkpoint was trained with: its run's ``params/agent.yaml``, else the task's."""
    params = checkpoint.parent / "params" / "agent.yaml"
    raw = load_yaml(params) if params.is_file() else load_agent_cfg(task)
    return process_sb3_cfg(raw, num_envs, source=str(params) if params.is_file() else task)


def load_policy(checkpoint: Checkpoint, env: gym.Env, task: str) -> PolicyPlayer:
    """Load a checked ``checkpoint`` for ``env`` (VecNormalize statistics reloaded frozen when present).

    Nothing in the files is executed (see :mod:`.checkpoints`); statistics or a network that do not
    fit raise :class:`~.checks.UsageError` (a ``ValueError``) naming the file.

    The agent config is :func:`checkpoint_agent_settings`'s; the env's resets follow its own
    config's seed (``play.py --seed``), not the seed stored in the checkpoint.
    """
    settings = checkpoint_agent_settings(checkpoint.path, task, env.unwrapped.num_envs)
    vec_env: VecEnv = Sb3VecEnvWrapper(env)
    stats = vecnormalize_path(checkpoint.path)
    if stats.is_file():
        # never VecNormalize.load (plain pickle): a restricted unpickler, statistics frozen
        vec_env = wrap_with_stats(stats, vec_env)
    agent = load_agent(checkpoint, vec_env, settings, restore_stats=False)
    vec_env.seed(env.unwrapped.cfg.seed)  # PPO.load reseeded the env with the seed it was trained with
    return PolicyPlayer(agent, vec_env, checkpoint.path)


def run_episodes(
    player: PolicyPlayer,
    num_episodes: int | None = None,
    max_steps: int | None = None,
    pace: Callable[[float], None] | None = None,
) -> tuple[list[float], list[int]]:
    """Step until ``num_episodes`` episodes finished or ``max_steps`` steps ran (forever if neither)."""
    returns: list[float] = []
    lengths: list[int] = []
    steps = 0
    while (num_episodes is None or len(returns) < num_episodes) and (max_steps is None or steps < max_steps):
        t0 = time.perf_counter()
        for r, length in player.step():
            returns.append(r)
            lengths.append(length)
        steps += 1
        if pace is not None:
            pace(t0)
    if num_episodes is not None:
        returns, lengths = returns[:num_episodes], lengths[:num_episodes]
    return returns, lengths
