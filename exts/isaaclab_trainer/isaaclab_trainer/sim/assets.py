"""Newton's bundled robot assets (``newton/examples/assets/*.usda``, installed with the ``newton`` package, no
download) copied into a stage as UsdPhysics, for every engine to read."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics


def newton_asset(name: str) -> Path:
    """The path of Newton's bundled asset ``name`` (e.g. ``ant.usda``); newton is found, not imported."""
    found = importlib.util.find_spec("newton")
    if found is None or found.origin is None:
        raise FileNotFoundError(f"the scene reads Newton's bundled {name}: install newton (the headless extra)")
    return Path(found.origin).parent / "examples" / "assets" / name


def copy_asset(stage: Usd.Stage, asset: Path, src_path: str, prim_path: str, height: float) -> Usd.Prim:
    """Copy the prim ``src_path`` of ``asset`` (with everything under it) to ``prim_path`` (its parent must
    exist), its own transform replaced by a translation to ``height`` above its parent's origin."""
    src = Sdf.Layer.FindOrOpen(str(asset))
    if src is None:
        raise FileNotFoundError(f"Newton's asset is missing: {asset}")
    layer = stage.GetEditTarget().GetLayer()
    dst = stage.GetEditTarget().MapToSpecPath(Sdf.Path(prim_path))
    Sdf.CreatePrimInLayer(layer, dst)
    if not Sdf.CopySpec(src, Sdf.Path(src_path), layer, dst):  # relationship targets inside follow the copy
        raise RuntimeError(f"Sdf.CopySpec failed for {prim_path}")
    root = stage.GetPrimAtPath(prim_path)
    xf = UsdGeom.Xformable(root)
    xf.ClearXformOpOrder()
    for name in root.GetPropertyNames():
        if name.startswith("xformOp:"):
            root.RemoveProperty(name)
    xf.AddTranslateOp().Set(Gf.Vec3d(0.0, 0.0, height))
    return root


def set_drive(prim: Usd.Prim, axis: str, stiffness: float, damping: float, max_force: float) -> None:
    """An implicit PD drive on one axis of a joint (``"angular"`` of a revolute, ``"rotX"`` ... of a D6) toward
    position 0 and velocity 0, gains per radian as Isaac Lab's actuator configs give them (USD angular drives
    are per degree), and the effort limit."""
    drive = UsdPhysics.DriveAPI.Apply(prim, axis)
    drive.CreateStiffnessAttr().Set(stiffness * math.pi / 180.0)
    drive.CreateDampingAttr().Set(damping * math.pi / 180.0)
    drive.CreateMaxForceAttr().Set(max_force)
    drive.CreateTargetPositionAttr().Set(0.0)
    drive.CreateTargetVelocityAttr().Set(0.0)


def set_armature(prim: Usd.Prim, armature: float) -> None:
    """A joint's armature, in the attribute each engine reads (Newton's and PhysX's)."""
    for attr in ("newton:armature", "physxJoint:armature"):
        prim.CreateAttribute(attr, Sdf.ValueTypeNames.Float).Set(armature)
