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

Task sources (:class:`~.spec.TaskSource`) add tasks from elsewhere under a prefix: ``isaaclab:<id>`` are Isaac
Lab 3.0's own registered tasks with an SB3 config (:mod:`.isaaclab`). A source is asked for its tasks only when a
list of every task is wanted or one of its ids is given, so without it nothing of it is imported.
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
from .isaaclab import SOURCE as _ISAACLAB
from .locomotion import SPECS as _LOCOMOTION
from .spec import OWN_SOURCE, TaskSource, TaskSpec  # noqa: I001 - before the task folders, which import it

__all__ = ["TaskSource", "TaskSpec"]


def _load(ref: str) -> Any:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


#: the task a script, the session and the panel use when none is given
DEFAULT_TASK = "Isaac-Cartpole-v0"
#: gym id -> its spec
TASKS: dict[str, TaskSpec] = {spec.task_id: spec for spec in (*_CARTPOLE, *_LOCOMOTION)}
#: Isaac Lab 3.0's task names -> the task above they name (Isaac Lab 3.0 dropped the ``-v0`` suffix)
ALIASES: dict[str, str] = {spec.alias: spec.task_id for spec in TASKS.values()}
#: task sources by prefix (:func:`register_task_source`)
SOURCES: dict[str, TaskSource] = {}


def register_task_source(source: TaskSource) -> None:
    """Offer ``source``'s tasks as ``<source.prefix>:<id>`` (asked for them only when needed)."""
    SOURCES[source.prefix] = source


def _source_of(task: str) -> TaskSource | None:
    prefix, sep, _ = task.partition(":") if isinstance(task, str) else ("", "", "")
    return SOURCES.get(prefix) if sep else None


def _source_specs(source: TaskSource) -> dict[str, TaskSpec]:
    """``source``'s tasks by id; empty when it cannot be used here (its ids then name why)."""
    try:
        return {spec.task_id: spec for spec in source.specs()}
    except ConfigError:
        return {}


def source_tasks() -> dict[str, TaskSpec]:
    """Every task source's tasks by id (this imports the sources' packages)."""
    return {task: spec for source in SOURCES.values() for task, spec in _source_specs(source).items()}


def task_help() -> str:
    """What ``--task`` accepts, without asking any source for its tasks."""
    sources = "".join(f"; {source.description}" for source in SOURCES.values())
    return f"gym id of the task: this package's ({', '.join(TASKS)}, or Isaac Lab 3.0's names of them){sources}"


def task_source(task: str) -> str:
    """Where ``task`` comes from (``isaaclab_trainer`` for this package's own), shown beside it in lists."""
    return task_spec(task).source


def no_best_model_line(task: str) -> str | None:
    """One line saying why ``task``'s runs keep no ``model_best.zip`` and what to use instead; None when they
    keep one."""
    why = task_spec(task).no_best_model
    if why is None:
        return None
    return f"{task} runs keep no model_best.zip: {why}; use 'latest' or a checkpoint path"


def register_tasks() -> None:
    """Register every ``-v0`` task with gymnasium (idempotent); the aliases resolve to them (see above)."""
    for task_id in TASKS:
        if task_id in gym.registry:
            continue
        spec = gym.envs.registration.EnvSpec(
            id=task_id,
            entry_point=functools.partial(make_task_env, task_id),
            disable_env_checker=True,
            order_enforce=False,
        )
        # put in the registry as gym.register does, without its refusal of a versioned id beside an unversioned one
        # of the same name: Isaac Lab 3.0 (imported first) registers ``Isaac-Cartpole`` and ``Isaac-Ant``
        gym.registry[task_id] = spec


def registered_tasks() -> list[str]:
    """Every task, each once: this package's (``-v0`` ids), then the task sources' (lists such as the panel's)."""
    return [*TASKS, *source_tasks()]


def task_ids() -> list[str]:
    """Every accepted task id: the ``-v0`` ids, Isaac Lab 3.0's names, then the task sources' ids."""
    return [*TASKS, *ALIASES, *source_tasks()]


def canonical_task(task: str) -> str:
    """The ``-v0`` id of ``task`` (itself unless it is an Isaac Lab 3.0 alias)."""
    return ALIASES.get(task, task)


def check_task(task: str) -> str:
    """Return ``task`` as given if it is a task id or alias, else raise ``ValueError`` naming the closest ids."""
    if isinstance(task, str) and (task in TASKS or task in ALIASES):
        return task
    source = _source_of(task)
    if source is not None:
        specs = {spec.task_id: spec for spec in source.specs()}  # ConfigError: why the source is not usable
        if task in specs:
            return task
        reason = source.why_not(task.partition(":")[2])
        if reason is not None:
            raise ConfigError(reason)
        close = closest_names(task, list(specs))
        hint = f"; did you mean: {', '.join(close)}?" if close else ""
        raise ConfigError(f"unknown task '{task}'{hint} ({source.description})")
    close = closest_names(str(task), task_ids())
    hint = f"; did you mean: {', '.join(close)}?" if close else ""
    raise ConfigError(f"unknown task '{task}'{hint} (registered: {', '.join(task_ids())})")


def task_spec(task: str) -> TaskSpec:
    """The spec of ``task`` (an id or alias; ConfigError for an unknown one)."""
    task = canonical_task(check_task(task))
    if task in TASKS:
        return TASKS[task]
    return _source_specs(_source_of(task))[task]  # type: ignore[arg-type] - check_task found its source


def _config_file(task: str, kind: str) -> Path:
    name = getattr(task_spec(task), f"{kind}_file")
    if name is None:
        raise ConfigError(f"task '{task}' ({task_source(task)}) has no {kind.replace('_', ' ')} file under config/")
    return config_dir() / name


def env_cfg_path(task: str) -> Path:
    return _config_file(task, "env_cfg")


def agent_cfg_path(task: str) -> Path:
    return _config_file(task, "agent_cfg")


def sweep_cfg_path(task: str) -> Path:
    return _config_file(task, "sweep")


def env_cfg_source(task: str) -> str:
    """Where ``task``'s env config values come from, as error lines name it (its YAML file, else its source)."""
    spec = task_spec(task)
    return str(env_cfg_path(task)) if spec.env_cfg_values is None else f"{task} env config ({spec.source})"


def bytes_per_env(task: str) -> int:
    """Host memory one env of ``task`` costs, conservatively."""
    return task_spec(task).bytes_per_env


def load_env_cfg(task: str, path: str | Path | None = None) -> Any:
    """The env config of ``task`` from its YAML file (or ``path``; a task source's: its values), strictly checked."""
    spec = task_spec(task)
    if path is None and spec.env_cfg_values is not None:
        values, source = spec.env_cfg_values(), env_cfg_source(task)
    else:
        path = Path(path) if path is not None else env_cfg_path(task)
        values, source = load_yaml(path), str(path)
    cfg = dataclass_from_dict(_load(spec.env_cfg), values, source=source)
    cfg.check(source=source)
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


def override_agent_cfg(task: str, agent_cfg: dict[str, Any], overrides: tuple[str, ...]) -> dict[str, Any]:
    """``agent_cfg`` with the ``agent.`` overrides of a task source's task applied; ConfigError for this package's
    tasks, whose values live in their YAML files."""
    source = _source_of(canonical_task(task))
    if source is None:
        check_overrides_apply(task, overrides)
        return agent_cfg
    return source.override_agent_cfg(task.partition(":")[2], agent_cfg, overrides)


def check_overrides_apply(task: str, overrides: tuple[str, ...]) -> None:
    """ConfigError when ``overrides`` are given for one of this package's tasks (they configure a source's)."""
    if overrides and _source_of(canonical_task(task)) is None:
        raise ConfigError(
            f"key=value overrides ({overrides[0]}) apply to a task source's tasks "
            f"({', '.join(f'{p}:<id>' for p in SOURCES)}); {task} takes its values from its YAML files under "
            "config/ and the flags"
        )


def load_agent_cfg(task: str, path: str | Path | None = None) -> dict[str, Any]:
    """The raw SB3 agent config of ``task`` (YAML mapping; a task source's: from its own registry)."""
    spec = task_spec(task)
    if path is None and spec.agent_cfg_values is not None:
        return spec.agent_cfg_values()
    return load_yaml(path if path is not None else agent_cfg_path(task))


def make_task_env(task: str, cfg: Any = None, render_mode: str | None = None, stage: Any = None, **overrides: Any):
    """gymnasium's entry point of every task: its env class built from ``cfg`` (default: the task's
    YAML), with keyword overrides of that config (``num_envs=16, device="cpu"``)."""
    if cfg is None:
        cfg = load_env_cfg(task)
    cfg = override_env_cfg(cfg, **overrides)
    return env_class(task)(cfg, render_mode=render_mode, stage=stage)


def make_env(task: str, cfg: Any, render_mode: str | None = None, stage: Any = None) -> gym.Env:
    """``task``'s env built from ``cfg``: this package's tasks through gymnasium, a task source's through its env
    class directly (gymnasium would read ``isaaclab:<id>`` as ``<module>:<id>``)."""
    task = canonical_task(task)
    if task_spec(task).source == OWN_SOURCE:
        return gym.make(task, cfg=cfg, render_mode=render_mode, stage=stage)
    return make_task_env(task, cfg=cfg, render_mode=render_mode, stage=stage)


def env_class(task: str) -> type:
    """The env class of ``task`` (imported, not built)."""
    return _load(task_spec(task).env)


register_task_source(_ISAACLAB)
