"""Task registry: gymnasium ids, their env classes and their config files.

Importing :mod:`isaaclab_trainer` registers every task here with gymnasium, so
``gymnasium.make("Isaac-Cartpole-v0", num_envs=16, device="cpu")`` works.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from pathlib import Path
from typing import Any

import gymnasium as gym

from isaaclab_trainer.utils import ConfigError, closest_names, config_dir, dataclass_from_dict, load_yaml

#: the task a script, the session and the panel use when none is given
DEFAULT_TASK = "Isaac-Cartpole-v0"
#: gym id -> (env class "module:Class", env config file, SB3 agent config file), paths relative to config/
TASKS: dict[str, tuple[str, str, str]] = {
    "Isaac-Cartpole-v0": (
        "isaaclab_trainer.envs.cartpole_env:CartpoleEnv",
        "tasks/Isaac-Cartpole-v0.yaml",
        "agents/sb3_ppo_cartpole.yaml",
    ),
    "Isaac-Cartpole-Direct-v0": (
        "isaaclab_trainer.envs.cartpole_env:CartpoleDirectEnv",
        "tasks/Isaac-Cartpole-Direct-v0.yaml",
        "agents/sb3_ppo_cartpole.yaml",
    ),
}


def register_tasks() -> None:
    """Register every task with gymnasium (idempotent)."""
    for task_id in TASKS:
        if task_id in gym.registry:
            continue
        gym.register(
            id=task_id,
            entry_point=functools.partial(make_task_env, task_id),
            disable_env_checker=True,
            order_enforce=False,
        )


def registered_tasks() -> list[str]:
    """The gym ids this package provides."""
    return list(TASKS)


def check_task(task: str) -> str:
    """Return ``task`` if registered, else raise ``ValueError`` naming the closest ids."""
    if isinstance(task, str) and task in TASKS:
        return task
    close = closest_names(str(task), registered_tasks())
    hint = f"; did you mean: {', '.join(close)}?" if close else ""
    raise ConfigError(f"unknown task '{task}'{hint} (registered: {', '.join(registered_tasks())})")


def env_cfg_path(task: str) -> Path:
    return config_dir() / TASKS[check_task(task)][1]


def agent_cfg_path(task: str) -> Path:
    return config_dir() / TASKS[check_task(task)][2]


def load_env_cfg(task: str, path: str | Path | None = None) -> Any:
    """The env config of ``task`` from its YAML file (or ``path``), strictly checked."""
    from isaaclab_trainer.envs.cartpole_cfg import CartpoleEnvCfg

    path = Path(path) if path is not None else env_cfg_path(task)
    cfg = dataclass_from_dict(CartpoleEnvCfg, load_yaml(path), source=str(path))
    cfg.check(source=str(path))
    return cfg


def load_agent_cfg(task: str, path: str | Path | None = None) -> dict[str, Any]:
    """The raw SB3 agent config of ``task`` (YAML mapping)."""
    return load_yaml(path if path is not None else agent_cfg_path(task))


def make_task_env(task: str, cfg: Any = None, render_mode: str | None = None, stage: Any = None, **overrides: Any):
    """gymnasium's entry point of every task: its env class built from ``cfg`` (default: the task's
    YAML), with keyword overrides of that config (``num_envs=16, device="cpu"``)."""
    if cfg is None:
        cfg = load_env_cfg(task)
    if overrides:
        merged = {**dataclasses.asdict(cfg), **overrides}
        cfg = dataclass_from_dict(type(cfg), merged, source="env config overrides")
        cfg.check(source="env config overrides")
    return env_class(task)(cfg, render_mode=render_mode, stage=stage)


def env_class(task: str) -> type:
    """The env class of ``task`` (imported, not built)."""
    module, _, name = TASKS[check_task(task)][0].partition(":")
    return getattr(importlib.import_module(module), name)
