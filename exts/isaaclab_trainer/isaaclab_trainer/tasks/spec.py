"""What a task is to the package: its :class:`TaskSpec`, declared in the task's folder, and the
:class:`TaskSource` protocol through which tasks from elsewhere (Isaac Lab's own registry) join the list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

#: :attr:`TaskSpec.source` of this package's own tasks
OWN_SOURCE = "isaaclab_trainer"


@dataclass(frozen=True)
class TaskSpec:
    """Everything the package needs to know about one task, without importing its env."""

    #: gym id (``-v0``), or ``<prefix>:<id>`` for a task of a :class:`TaskSource`
    task_id: str
    #: Isaac Lab 3.0's name of the same task (no ``-v0``); empty for a task source's tasks
    alias: str
    #: env class, ``"module:Class"``: builds its scene (``build_scene``), sets its engine (``engine_options``),
    #: describes its action for export (``action_metadata``)
    env: str
    #: env config class, ``"module:Class"`` (a :class:`~isaaclab_trainer.envs.TaskEnvCfg`)
    env_cfg: str
    #: files under ``config/``: env config, SB3 agent config, Ray sweep (None: the task has no such file)
    env_cfg_file: str | None
    agent_cfg_file: str | None
    sweep_file: str | None
    #: host memory one env costs, conservatively (measured; see the task's ``__init__``)
    bytes_per_env: int
    #: where the task comes from, shown beside it in help texts and the panel's task list
    source: str = OWN_SOURCE
    #: the env config's values and the SB3 agent config, for a task whose configs are not files under ``config/``
    env_cfg_values: Callable[[], dict[str, Any]] | None = None
    agent_cfg_values: Callable[[], dict[str, Any]] | None = None
    #: why the task's runs keep no ``model_best.zip`` (its evaluation envs cannot be built); None: they keep one
    no_best_model: str | None = None


class TaskSource(Protocol):
    """Tasks from outside this package, offered as ``<prefix>:<id>`` (the task registry's extension point)."""

    #: the ids' prefix, e.g. ``isaaclab``
    prefix: str
    #: one line for help texts: what the source is and what it needs
    description: str

    def specs(self) -> list[TaskSpec]:
        """The source's tasks; ConfigError (one line) when the source cannot be used here."""
        ...

    def why_not(self, name: str) -> str | None:
        """One line saying why ``name`` (without prefix), a task the source knows, is not offered; else None."""
        ...

    def override_agent_cfg(self, name: str, agent_cfg: dict[str, Any], overrides: tuple[str, ...]) -> dict[str, Any]:
        """``agent_cfg`` of task ``name`` with the ``agent.`` entries of ``overrides`` applied (keys checked)."""
        ...
