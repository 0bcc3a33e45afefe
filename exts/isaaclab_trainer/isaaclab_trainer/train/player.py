"""Running a trained policy: loading a checkpoint with its statistics, stepping it deterministically.

:func:`evaluate` is the one evaluation loop (CleanRL's ``evaluate``, step-wise): play.py runs
it to the end, the TrainingSession one frame's worth at a time (Load & Play and Evaluate).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecNormalize

from isaaclab_trainer.tasks import env_class, load_agent_cfg
from isaaclab_trainer.utils import load_yaml
from isaaclab_trainer.wrappers.sb3 import Sb3VecEnvWrapper, policy_spaces, sb3_action_space

from .checkpoints import freeze_stats, load_agent, load_vecnormalize_stats, template_agent
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


class _SpacesOnlyEnv(gym.Env):
    """The task's spaces and nothing else: the safe loader needs them; it never steps."""

    def __init__(self, observation_space: gym.Space, action_space: gym.Space):
        self.observation_space, self.action_space = observation_space, action_space

    def step(self, action: Any) -> Any:
        raise NotImplementedError("a detached policy never steps an env")

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> Any:
        raise NotImplementedError("a detached policy never steps an env")


@dataclass(frozen=True)
class DetachedPolicy:
    """A checkpoint's agent and VecNormalize statistics, loaded against the task's spaces, no env attached."""

    checkpoint: Checkpoint
    agent: PPO
    stats: VecNormalize | None
    settings: AgentSettings


def _spaces_venv(task: str, env: gym.Env | None = None) -> VecEnv:
    """One spaces-only env with ``task``'s policy spaces: ``env``'s when given (a task from another source, such
    as Isaac Lab's, knows them only once built), else the env class's, known without building it."""
    if env is None:
        obs_space, act_space = env_class(task).policy_spaces()
        act_space = sb3_action_space(act_space)
    else:
        obs_space, act_space = policy_spaces(env)
    return DummyVecEnv([lambda: _SpacesOnlyEnv(obs_space, act_space)])


def warm_up(task: str) -> None:
    """Build and drop an agent of ``task``'s config, so a process's first agent costs nothing later: the first
    one takes ~1.3 s of CPU (PyTorch's first optimizer imports ``torch._dynamo``), which would otherwise fall
    on the first checkpoint loaded."""
    template_agent(_spaces_venv(task), process_sb3_cfg(load_agent_cfg(task), 1, source=task))


def load_detached(checkpoint: Checkpoint, task: str, env: gym.Env | None = None) -> DetachedPolicy:
    """Load a checked ``checkpoint`` (safe loader) and its statistics without building or touching any env, so
    it may run on a thread beside the one that steps the envs; :func:`attach` gives it the envs. ``env``, when
    given, only lends its spaces (read, not stepped).

    Statistics or a network that do not fit raise :class:`~.checks.UsageError` naming the file.
    """
    venv = _spaces_venv(task, env)
    settings = checkpoint_agent_settings(checkpoint.path, task, num_envs=1)
    agent = load_agent(checkpoint, venv, settings, restore_stats=False)
    stats_path = vecnormalize_path(checkpoint.path)
    stats = load_vecnormalize_stats(stats_path, venv.observation_space.shape) if stats_path.is_file() else None
    return DetachedPolicy(checkpoint, agent, stats, settings)


def attach(policy: DetachedPolicy, env: gym.Env) -> PolicyPlayer:
    """A player of ``policy`` on ``env`` (statistics frozen when present); resets ``env``. Call it on the
    thread that steps ``env``.

    The env's resets follow its own config's seed (``play.py --seed``), not the seed stored in the checkpoint.
    The agent keeps its spaces-only env (``predict`` needs none; SB3's ``set_env`` would want its env count).
    """
    vec_env: VecEnv = Sb3VecEnvWrapper(env)
    if policy.stats is not None:
        vec_env = freeze_stats(policy.stats, vec_env)
    policy.settings.limit_torch_threads(policy.agent)
    vec_env.seed(env.unwrapped.cfg.seed)
    return PolicyPlayer(policy.agent, vec_env, policy.checkpoint.path)


def load_policy(checkpoint: Checkpoint, env: gym.Env, task: str) -> PolicyPlayer:
    """Load a checked ``checkpoint`` for ``env`` (VecNormalize statistics reloaded frozen when present).

    Nothing in the files is executed (see :mod:`.checkpoints`); statistics or a network that do not
    fit raise :class:`~.checks.UsageError` (a ``ValueError``) naming the file. The agent config is
    :func:`checkpoint_agent_settings`'s.
    """
    return attach(load_detached(checkpoint, task, env), env)


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
