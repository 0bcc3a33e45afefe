"""What a task is to the package: its :class:`TaskSpec`, declared in the task's folder."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaskSpec:
    """Everything the package needs to know about one task, without importing its env."""

    #: gym id (``-v0``)
    task_id: str
    #: Isaac Lab 3.0's name of the same task (no ``-v0``)
    alias: str
    #: env class, ``"module:Class"``: builds its scene (``build_scene``), sets its engine (``engine_options``),
    #: describes its action for export (``action_metadata``)
    env: str
    #: env config class, ``"module:Class"`` (a :class:`~isaaclab_trainer.envs.TaskEnvCfg`)
    env_cfg: str
    #: files under ``config/``: env config, SB3 agent config, Ray sweep
    env_cfg_file: str
    agent_cfg_file: str
    sweep_file: str
    #: host memory one env costs, conservatively (measured; see the task's ``__init__``)
    bytes_per_env: int
