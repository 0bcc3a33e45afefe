"""Configuration of the locomotion tasks (Ant, Humanoid): plain data, loaded from ``config/tasks/<task>.yaml``
(the values and the table comparing them with Isaac Lab 3.0's ``<robot>_manager_env_cfg.py`` are there).

Joint settings take a number (every joint) or a table ``{joint-name regex: value}``, as Isaac Lab's
``JointEffortActionCfg.scale`` / ``clip`` and its ``gear_ratio`` tables do; a multi-axis joint's dofs are
``<joint>:<axis index>``. Each table is resolved against the task's dofs (``joint_names``) when the config is
checked, so a pattern that matches nothing fails before any scene is built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from isaaclab_trainer.envs.env_cfg import TaskEnvCfg
from isaaclab_trainer.utils import ConfigError, is_number, resolve_matching_values

#: Newton solvers the tasks run on (``NewtonBackend.SOLVERS``); Isaac Sim's engines ignore the choice
NEWTON_SOLVERS = ("mujoco", "xpbd", "featherstone")
#: joint settings: (field, value of a joint no pattern matches, as Isaac Lab leaves it)
JOINT_TABLES = (("action_scale", 1.0), ("effort_clip", float("inf")), ("joint_gear", 1.0))


@dataclass
class LocomotionEnvCfg(TaskEnvCfg):
    """Action, observation, reward, termination and reset settings (scene and timing: TaskEnvCfg)."""

    newton_solver: str
    # actions: joint effort = clamp(action * action_scale, -effort_clip, effort_clip) [N m], per joint
    action_scale: float | dict[str, float]
    effort_clip: float | dict[str, float]
    joint_gear: float | dict[str, float]
    # observation scales
    joint_vel_scale: float
    feet_force_scale: float
    # the walk target [m] in the env's frame
    target: tuple[float, float, float]
    # terminations
    termination_height: float
    # reward weights and thresholds
    rew_progress: float
    rew_alive: float
    rew_upright: float
    upright_threshold: float
    rew_move_to_target: float
    move_to_target_threshold: float
    rew_action_l2: float
    rew_energy: float
    rew_joint_limits: float
    joint_limits_threshold: float
    rew_terminated: float
    # reset: uniform offsets from the default joint state
    reset_joint_pos: tuple[float, float]
    reset_joint_vel: tuple[float, float]
    # observation scale of the base angular velocity (1.0 is Isaac Lab's Ant; a default, so Ant runs written
    # before the field existed still load their params/env.yaml)
    base_ang_vel_scale: float = 1.0

    range_fields: ClassVar[tuple[str, ...]] = ("reset_joint_pos", "reset_joint_vel")
    #: the task's dofs, which the joint tables are resolved against (the task's config class names them)
    joint_names: ClassVar[tuple[str, ...]] = ()

    def joint_values(self, key: str) -> list[float]:
        """The joint setting ``key`` (``action_scale``, ``effort_clip``, ``joint_gear``), one value per dof."""
        default = dict(JOINT_TABLES)[key]
        return resolve_matching_values(getattr(self, key), self.joint_names, default, f"'{key}'")

    def check(self, source: str = "env config") -> None:
        super().check(source)
        if self.newton_solver not in NEWTON_SOLVERS:
            raise self.bad("newton_solver", f"one of {', '.join(NEWTON_SOLVERS)}", source)
        for key in ("joint_limits_threshold", "upright_threshold", "move_to_target_threshold"):
            if not 0 < getattr(self, key) < 1:
                raise self.bad(key, "a number between 0 and 1 (exclusive)", source)
        for key, _ in JOINT_TABLES:
            table = getattr(self, key)
            entries = table.items() if isinstance(table, dict) else ()
            if not all(isinstance(k, str) and is_number(v) and math.isfinite(v) for k, v in entries):
                raise self.bad(key, "a number or a mapping of joint-name patterns to finite numbers", source)
            try:
                values = self.joint_values(key)
            except ConfigError as exc:
                raise ConfigError(f"{source}: {exc}") from None
            if key != "action_scale" and not all(v > 0 for v in values):
                raise self.bad(key, "a number > 0 for every joint", source)
