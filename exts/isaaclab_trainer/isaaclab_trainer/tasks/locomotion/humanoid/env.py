"""Isaac-Humanoid-v0 (Isaac Lab 3.0: ``Isaac-Humanoid``): the humanoid runs toward a target 1 km away along +x
(terms: the shared :class:`~isaaclab_trainer.tasks.locomotion.env.LocomotionEnv`; values and the table comparing
them with Isaac Lab 3.0's ``humanoid_manager_env_cfg.py``: ``config/tasks/Isaac-Humanoid-v0.yaml``)."""

from __future__ import annotations

from typing import Any

from isaaclab_trainer.sim.humanoid import FEET, JOINTS, ROOT_HEIGHT
from isaaclab_trainer.sim.scene import build_humanoid_scene
from isaaclab_trainer.tasks.locomotion.env import LocomotionEnv, observation_names, observation_units

from .env_cfg import HumanoidEnvCfg

#: MuJoCo Warp settings of Isaac Lab 3.0's ``HumanoidPhysicsCfg.newton_mjwarp`` (``humanoid_common.py``), except:
#: nconmax 64, not 25: with self collisions on, MuJoCo Warp's broadphase overflowed 25 (and 35) contacts per world
#: within 120 random-action steps of 64 envs (it warns and drops contacts), 45 did not; and no
#: ``update_data_interval=2``: deprecated in Newton 1.8 (it warns), and a skipped sync would drop the joint and
#: root states the resets write between steps
MJWARP_OPTIONS = {"njmax": 80, "nconmax": 64, "cone": "pyramidal", "integrator": "implicitfast", "impratio": 1}


class HumanoidEnv(LocomotionEnv):
    """Isaac-Humanoid-v0: 21 joint efforts in, 87 observations out."""

    joints = JOINTS
    feet = FEET
    root_height = ROOT_HEIGHT
    default_joint_pos = 0.0
    mjwarp_options = MJWARP_OPTIONS
    #: ``NewtonCfg(num_substeps=2)``: two solver steps of 1/240 s per physics step
    newton_substeps = 2
    #: ``HUMANOID_CFG``: ``enabled_self_collisions=True``, ``NewtonArticulationCfg(self_collision_enabled=True)``
    self_collisions = True
    video_frame = ((0.3, 0.0, 0.9), (1.4, 1.1, 0.9))
    observation_dim = 87
    action_dim = 21
    observation_names = observation_names(JOINTS, FEET)
    observation_units = observation_units(JOINTS, FEET, 0.25, 0.1, 0.01)
    action_names = tuple(f"{j}_effort" for j in JOINTS)

    @staticmethod
    def build_scene(stage: Any, cfg: HumanoidEnvCfg) -> None:
        build_humanoid_scene(stage, cfg.num_envs, env_spacing=cfg.env_spacing)
