"""The Ant robot as UsdPhysics, from the asset Newton ships (``newton/examples/assets/ant.usda``), set up like
Isaac Lab's ``ANT_CFG`` (``isaaclab_assets/robots/ant.py``).

Newton's ``ant.usda`` and Isaac Sim's ``Robots/IsaacSim/Ant/ant_instanceable.usd`` are both MuJoCo's ant
(``nv_ant.xml``, also shipped by Newton): the same bodies (``torso``, ``<leg>_leg``, ``<leg>_foot``), joints,
axes and limits (hips +-40 deg, feet 30..100 deg or -100..-30 deg). What Isaac Lab sets on top is authored
here, so every engine reads it from USD:

=========================  ==========================================  =====================================
setting                    Isaac Lab (``ANT_CFG``)                      here
=========================  ==========================================  =====================================
root position              (0, 0, 0.5)                                  the same (``ROOT_HEIGHT``)
body density               asset's (nv_ant.xml: 5 kg/m^3)              5 (Newton's usda has 1: ``DENSITY``)
joint drive                implicit, stiffness 0, damping 0.1          DriveAPI stiffness 0, damping 0.1 N m s/rad
effort limit               15 N m                                       DriveAPI maxForce 15
armature                   0.05                                         ``newton:armature`` / ``physxJoint:armature``
self collisions            off                                          off
default joint positions    legs 0, feet +-45 deg (sign per foot)       ``DEFAULT_JOINT_POS`` (set by the env)
=========================  ==========================================  =====================================
"""

from __future__ import annotations

from pathlib import Path

from pxr import Usd, UsdPhysics

from .assets import copy_asset, newton_asset, set_armature, set_drive

#: Isaac Lab's ``ANT_CFG.init_state.pos`` z [m]
ROOT_HEIGHT = 0.5
DENSITY = 5.0
DAMPING = 0.1  # N m s / rad
EFFORT_LIMIT = 15.0  # N m
ARMATURE = 0.05
#: Isaac Lab's default joint positions [rad]
DEFAULT_JOINT_POS: dict[str, float] = {
    "front_left_leg": 0.0,
    "front_right_leg": 0.0,
    "left_back_leg": 0.0,
    "right_back_leg": 0.0,
    "front_left_foot": 0.785398,
    "front_right_foot": -0.785398,
    "left_back_foot": -0.785398,
    "right_back_foot": 0.785398,
}
FEET: tuple[str, ...] = ("front_left_foot", "front_right_foot", "left_back_foot", "right_back_foot")


def asset_path() -> Path:
    """Newton's bundled ``ant.usda``."""
    return newton_asset("ant.usda")


def add_ant(stage: Usd.Stage, prim_path: str, height: float = ROOT_HEIGHT) -> Usd.Prim:
    """Author the ant at ``prim_path`` (its parent must exist), root at ``height`` above its parent's origin."""
    root = copy_asset(stage, asset_path(), "/ant", prim_path, height)
    for prim in Usd.PrimRange(root):
        if prim.HasAPI(UsdPhysics.RigidBodyAPI):
            UsdPhysics.MassAPI.Apply(prim).CreateDensityAttr().Set(DENSITY)
        elif prim.IsA(UsdPhysics.RevoluteJoint):
            set_drive(prim, UsdPhysics.Tokens.angular, 0.0, DAMPING, EFFORT_LIMIT)
            set_armature(prim, ARMATURE)
    return root
