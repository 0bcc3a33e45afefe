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

import importlib.util
import math
from pathlib import Path

from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics

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
    """Newton's bundled ``ant.usda`` (installed with the ``newton`` package, no download; not imported here)."""
    found = importlib.util.find_spec("newton")
    if found is None or found.origin is None:
        raise FileNotFoundError("the Ant scene reads Newton's bundled ant.usda: install newton (the headless extra)")
    return Path(found.origin).parent / "examples" / "assets" / "ant.usda"


def add_ant(stage: Usd.Stage, prim_path: str, height: float = ROOT_HEIGHT) -> Usd.Prim:
    """Author the ant at ``prim_path`` (its parent must exist), root at ``height`` above its parent's origin."""
    src = Sdf.Layer.FindOrOpen(str(asset_path()))
    if src is None:
        raise FileNotFoundError(f"Newton's ant asset is missing: {asset_path()}")
    layer = stage.GetEditTarget().GetLayer()
    dst = stage.GetEditTarget().MapToSpecPath(Sdf.Path(prim_path))
    Sdf.CreatePrimInLayer(layer, dst)
    if not Sdf.CopySpec(src, Sdf.Path("/ant"), layer, dst):  # relationship targets inside /ant follow the copy
        raise RuntimeError(f"Sdf.CopySpec failed for {prim_path}")
    root = stage.GetPrimAtPath(prim_path)
    xf = UsdGeom.Xformable(root)
    xf.ClearXformOpOrder()
    for name in root.GetPropertyNames():
        if name.startswith("xformOp:"):
            root.RemoveProperty(name)
    xf.AddTranslateOp().Set(Gf.Vec3d(0.0, 0.0, height))
    for prim in Usd.PrimRange(root):
        if prim.HasAPI(UsdPhysics.RigidBodyAPI):
            UsdPhysics.MassAPI.Apply(prim).CreateDensityAttr().Set(DENSITY)
        elif prim.IsA(UsdPhysics.RevoluteJoint):
            drive = UsdPhysics.DriveAPI.Apply(prim, UsdPhysics.Tokens.angular)
            drive.CreateStiffnessAttr().Set(0.0)
            drive.CreateDampingAttr().Set(DAMPING * math.pi / 180.0)  # USD angular drives are per degree
            drive.CreateMaxForceAttr().Set(EFFORT_LIMIT)
            drive.CreateTargetPositionAttr().Set(0.0)
            drive.CreateTargetVelocityAttr().Set(0.0)
            for attr in ("newton:armature", "physxJoint:armature"):
                prim.CreateAttribute(attr, Sdf.ValueTypeNames.Float).Set(ARMATURE)
    return root
