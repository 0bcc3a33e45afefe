"""Isaac-Ant-v0 (Isaac Lab 3.0: ``Isaac-Ant``): the ant runs toward a target 1 km away along +x (terms: the
shared :class:`~isaaclab_trainer.tasks.locomotion.env.LocomotionEnv`; values and the table comparing them with
Isaac Lab 3.0's ``ant_manager_env_cfg.py``: ``config/tasks/Isaac-Ant-v0.yaml``)."""

from __future__ import annotations

from typing import Any

from isaaclab_trainer.sim.ant import DEFAULT_JOINT_POS, FEET, ROOT_HEIGHT
from isaaclab_trainer.sim.scene import build_ant_scene
from isaaclab_trainer.tasks.locomotion.env import LocomotionEnv, observation_names, observation_units

from .env_cfg import JOINTS, AntEnvCfg

#: MuJoCo Warp settings of Isaac Lab 3.0's ``AntPhysicsCfg.newton_mjwarp`` (``ant_common.py``)
MJWARP_OPTIONS = {"njmax": 45, "nconmax": 25, "cone": "pyramidal", "integrator": "implicitfast", "impratio": 1}


class AntEnv(LocomotionEnv):
    """Isaac-Ant-v0: 8 joint efforts in, 60 observations out."""

    joints = JOINTS
    feet = FEET
    root_height = ROOT_HEIGHT
    default_joint_pos = DEFAULT_JOINT_POS
    mjwarp_options = MJWARP_OPTIONS
    video_frame = ((0.5, 0.0, 0.3), (1.5, 1.2, 0.4))
    observation_dim = 60
    action_dim = 8
    observation_names = observation_names(JOINTS, FEET)
    observation_units = observation_units(JOINTS, FEET, 1.0, 0.2, 0.1)
    action_names = tuple(f"{j}_effort" for j in JOINTS)

    @staticmethod
    def build_scene(stage: Any, cfg: AntEnvCfg) -> None:
        build_ant_scene(stage, cfg.num_envs, env_spacing=cfg.env_spacing)
