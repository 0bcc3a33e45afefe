"""Configuration of Isaac-Ant-v0: plain data, loaded from ``config/tasks/Isaac-Ant-v0.yaml`` (the values and the
table comparing them with Isaac Lab 3.0's ``ant_manager_env_cfg.py`` are there)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from isaaclab_trainer.envs.env_cfg import TaskEnvCfg

#: Newton solvers the task runs on (``NewtonBackend.SOLVERS``); Isaac Sim's engines ignore the choice
NEWTON_SOLVERS = ("mujoco", "xpbd", "featherstone")


@dataclass
class AntEnvCfg(TaskEnvCfg):
    """Action, observation, reward, termination and reset settings of the Ant (scene and timing: TaskEnvCfg)."""

    newton_solver: str
    # actions: joint effort = clamp(action * action_scale, -effort_clip, effort_clip) [N m]
    action_scale: float
    effort_clip: float
    joint_gear: float
    # observations
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

    positive_fields: ClassVar[tuple[str, ...]] = ("sim_dt", "episode_length_s", "effort_clip", "joint_gear")
    range_fields: ClassVar[tuple[str, ...]] = ("reset_joint_pos", "reset_joint_vel")

    def check(self, source: str = "env config") -> None:
        super().check(source)
        if self.newton_solver not in NEWTON_SOLVERS:
            raise self.bad("newton_solver", f"one of {', '.join(NEWTON_SOLVERS)}", source)
        for key in ("joint_limits_threshold", "upright_threshold", "move_to_target_threshold"):
            if not 0 < getattr(self, key) < 1:
                raise self.bad(key, "a number between 0 and 1 (exclusive)", source)
