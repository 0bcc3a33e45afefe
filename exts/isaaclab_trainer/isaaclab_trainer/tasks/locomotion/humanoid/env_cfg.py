"""Configuration of Isaac-Humanoid-v0: plain data, loaded from ``config/tasks/Isaac-Humanoid-v0.yaml`` (the values
and the table comparing them with Isaac Lab 3.0's ``humanoid_manager_env_cfg.py`` are there)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from isaaclab_trainer.sim.humanoid import JOINTS
from isaaclab_trainer.tasks.locomotion.env_cfg import LocomotionEnvCfg


@dataclass
class HumanoidEnvCfg(LocomotionEnvCfg):
    """The Humanoid's settings (fields: :class:`LocomotionEnvCfg`)."""

    joint_names: ClassVar[tuple[str, ...]] = JOINTS
