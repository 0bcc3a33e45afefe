"""Configuration of Isaac-Ant-v0: plain data, loaded from ``config/tasks/Isaac-Ant-v0.yaml`` (the values and the
table comparing them with Isaac Lab 3.0's ``ant_manager_env_cfg.py`` are there)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from isaaclab_trainer.sim.ant import DEFAULT_JOINT_POS
from isaaclab_trainer.tasks.locomotion.env_cfg import LocomotionEnvCfg

#: the ant's 8 dofs, in the observation's and the action's order
JOINTS: tuple[str, ...] = tuple(DEFAULT_JOINT_POS)


@dataclass
class AntEnvCfg(LocomotionEnvCfg):
    """The Ant's settings (fields: :class:`LocomotionEnvCfg`)."""

    joint_names: ClassVar[tuple[str, ...]] = JOINTS
