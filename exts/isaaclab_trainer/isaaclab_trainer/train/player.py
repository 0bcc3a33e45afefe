"""Running a trained policy: loading a checkpoint with its statistics, stepping it deterministically.

:func:`evaluate` is the one evaluation loop (CleanRL's ``evaluate``, step-wise): play.py runs
it to the end, the TrainingSession one frame's worth at a time (Load & Play and Evaluate).
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
        #: env steps run so far (each steps all envs)
        self.steps = 0
        self._obs = vec_env.reset()

    def step(self) -> list[tuple[float, int]]:
        """One env step for all envs; returns ``(return, length)`` of the episodes that just ended."""
        with torch.inference_mode():
            actions, _ = self.agent.predict(self._obs, deterministic=True)
        self._obs, _, dones, infos = self.vec_env.step(actions)
        self.steps += 1
        return [(float(infos[i]["episode"]["r"]), int(infos[i]["episode"]["l"])) for i in np.flatnonzero(dones)]


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
    settings.limit_torch_threads(agent)
    vec_env.seed(env.unwrapped.cfg.seed)  # PPO.load reseeded the env with the seed it was trained with
    return PolicyPlayer(agent, vec_env, checkpoint.path)


def evaluate(
    player: PolicyPlayer,
    episodes: int | None = None,
    steps: int | None = None,
    until: float | None = None,
    pace: Callable[[float], None] | None = None,
) -> tuple[list[float], list[int]]:
    """Step until ``episodes`` episodes ended, ``steps`` env steps ran or ``time.perf_counter()`` passed
    ``until`` (forever if none is given); the returns and lengths of the episodes that ended (at most
    ``episodes``). ``pace(t0)`` runs after each step that began at ``t0``."""
    returns: list[float] = []
    lengths: list[int] = []
    n = 0
    while (
        (episodes is None or len(returns) < episodes)
        and (steps is None or n < steps)
        and (until is None or time.perf_counter() < until)
    ):
        t0 = time.perf_counter()
        for r, length in player.step():
            returns.append(r)
            lengths.append(length)
        n += 1
        if pace is not None:
            pace(t0)
    if episodes is not None:
        returns, lengths = returns[:episodes], lengths[:episodes]
    return returns, lengths
