"""Task registry: each task's spec (env class, env config class, config files, memory per env), by gym id.

One folder a task, as Isaac Lab 3.0 lays out ``isaaclab_tasks/core/<task>/``: ``tasks/cartpole/``,
``tasks/locomotion/ant/``; each folder's ``__init__.py`` declares its :class:`TaskSpec` list and this
module collects them. The spec names its env class (which builds its scene, picks its engine settings and
describes its action for export), its env config class and its YAML files under ``config/``
(``tasks/<id>.yaml``, ``agents/...``, ``sweeps/...``: kept there, where users and the README look for them).

Importing :mod:`isaaclab_trainer` registers every task here with gymnasium, so
``gymnasium.make("Isaac-Cartpole-v0", num_envs=16, device="cpu")`` works. Isaac Lab 3.0's names
(``Isaac-Cartpole``, ``Isaac-Ant``, ...) are accepted too, as aliases of the same task: same env
class, same config files; a run goes under the id that was given. gymnasium itself refuses to register an
unversioned id beside a versioned one of the same name, and resolves ``gymnasium.make("Isaac-Cartpole")``
to ``Isaac-Cartpole-v0`` by its own rule (the latest version); this package builds envs through
:func:`canonical_task`, which gives the same spec without gymnasium's warning.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from pathlib import Path
from typing import Any

import gymnasium as gym

from isaaclab_trainer.utils import ConfigError, closest_names, config_dir, dataclass_from_dict, load_yaml

from .cartpole import SPECS as _CARTPOLE
from .locomotion import SPECS as _LOCOMOTION
from .spec import TaskSpec  # noqa: I001 - before the task folders, which import it

__all__ = ["TaskSpec"]


def _load(ref: str) -> Any:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


#: the task a script, the session and the panel use when none is given
DEFAULT_TASK = "Isaac-Cartpole-v0"
#: gym id -> its spec
TASKS: dict[str, TaskSpec] = {spec.task_id: spec for spec in (*_CARTPOLE, *_LOCOMOTION)}
#: Isaac Lab 3.0's task names -> the task above they name (Isaac Lab 3.0 dropped the ``-v0`` suffix)
ALIASES: dict[str, str] = {spec.alias: spec.task_id for spec in TASKS.values()}


def register_tasks() -> None:
    """Register every ``-v0`` task with gymnasium (idempotent); the aliases resolve to them (see above)."""
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
    """The tasks this package provides, each once (their ``-v0`` ids; lists such as the panel's show these)."""
    return list(TASKS)


def task_ids() -> list[str]:
    """Every accepted task id: the ``-v0`` ids, then Isaac Lab 3.0's names."""
    return [*TASKS, *ALIASES]


def canonical_task(task: str) -> str:
    """The ``-v0`` id of ``task`` (itself unless it is an Isaac Lab 3.0 alias)."""
    return ALIASES.get(task, task)


def check_task(task: str) -> str:
    """Return ``task`` as given if it is a task id or alias, else raise ``ValueError`` naming the closest ids."""
    if isinstance(task, str) and (task in TASKS or task in ALIASES):
        return task
    close = closest_names(str(task), task_ids())
    hint = f"; did you mean: {', '.join(close)}?" if close else ""
    raise ConfigError(f"unknown task '{task}'{hint} (registered: {', '.join(task_ids())})")


def task_spec(task: str) -> TaskSpec:
    """The spec of ``task`` (an id or alias; ConfigError for an unknown one)."""
    return TASKS[canonical_task(check_task(task))]


def env_cfg_path(task: str) -> Path:
    return config_dir() / task_spec(task).env_cfg_file


def agent_cfg_path(task: str) -> Path:
    return config_dir() / task_spec(task).agent_cfg_file


def sweep_cfg_path(task: str) -> Path:
    return config_dir() / task_spec(task).sweep_file


def bytes_per_env(task: str) -> int:
    """Host memory one env of ``task`` costs, conservatively."""
    return task_spec(task).bytes_per_env


def load_env_cfg(task: str, path: str | Path | None = None) -> Any:
    """The env config of ``task`` from its YAML file (or ``path``), strictly checked."""
    path = Path(path) if path is not None else env_cfg_path(task)
    cfg = dataclass_from_dict(_load(task_spec(task).env_cfg), load_yaml(path), source=str(path))
    cfg.check(source=str(path))
    return cfg


def override_env_cfg(cfg: Any, source: str = "env config overrides", **overrides: Any) -> Any:
    """``cfg`` with the ``overrides`` that are not None (e.g. ``num_envs=16, seed=None``), types and values
    checked like the YAML's; the one place a front end's flags or fields change an env config."""
    given = {key: value for key, value in overrides.items() if value is not None}
    if not given:
        return cfg
    merged = {**dataclasses.asdict(cfg), **given}
    cfg = dataclass_from_dict(type(cfg), merged, source=source)
    cfg.check(source=source)
    return cfg


def load_agent_cfg(task: str, path: str | Path | None = None) -> dict[str, Any]:
    """The raw SB3 agent config of ``task`` (YAML mapping)."""
    return load_yaml(path if path is not None else agent_cfg_path(task))


def make_task_env(task: str, cfg: Any = None, render_mode: str | None = None, stage: Any = None, **overrides: Any):
    """gymnasium's entry point of every task: its env class built from ``cfg`` (default: the task's
    YAML), with keyword overrides of that config (``num_envs=16, device="cpu"``)."""
    if cfg is None:
        cfg = load_env_cfg(task)
    cfg = override_env_cfg(cfg, **overrides)
    return env_class(task)(cfg, render_mode=render_mode, stage=stage)


def env_class(task: str) -> type:
    """The env class of ``task`` (imported, not built)."""
    return _load(task_spec(task).env)
