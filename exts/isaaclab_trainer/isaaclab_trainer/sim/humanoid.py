"""The Humanoid robot as UsdPhysics, from the asset Newton ships (``newton/examples/assets/humanoid.usda``), set up
like Isaac Lab's ``HUMANOID_CFG`` (``isaaclab_assets/robots/humanoid.py``).

Newton's ``humanoid.usda`` and Isaac Sim's ``Robots/IsaacSim/Humanoid/humanoid_instanceable.usd`` are both
``nv_humanoid.xml`` (also shipped by Newton) through Isaac Sim's MJCF importer: the same 16 bodies, and the
MJCF hinges of one body merged into one D6 joint (``lower_waist``, ``<side>_thigh``, ``<side>_foot``,
``<side>_upper_arm``), whose free rotation axes are its dofs. Isaac Lab's joint-name tables
(``".*_thigh:1"``) name a multi-axis joint's dofs ``<joint>:<axis index>`` (see
``newton_backend.dof_names``), and every joint after its child body (``pelvis``, ``<side>_shin``,
``<side>_lower_arm``) where Newton's file keeps the MJCF hinge names (``abdomen_x``, ``<side>_knee``,
``<side>_elbow``): the joints are renamed here. What Isaac Lab sets on top is authored here, per dof:

=========================  ==============================================  =================================
setting                    Isaac Lab (``HUMANOID_CFG``)                     here
=========================  ==============================================  =================================
root position              (0, 0, 1.34)                                     the same (``ROOT_HEIGHT``)
articulation root          the robot prim                                   moved there from the torso
joint drive                implicit PD to 0, stiffness / damping per        DriveAPI per axis, the same tables
                           joint name (``STIFFNESS``, ``DAMPING``)          (USD: per degree)
effort limit               150 N m                                          DriveAPI maxForce 150
armature                   0.01                                             ``newton:armature`` /
                                                                            ``physxJoint:armature``
velocity limit             100 rad/s                                        not authored (MuJoCo has none;
                                                                            the policy's joints stay below)
self collisions            on                                               on (the env's engine options)
default joint positions    0                                                0
body density               asset's (1000 kg/m^3)                            the same
=========================  ==============================================  =================================
"""

from __future__ import annotations

from pathlib import Path

from pxr import Usd, UsdPhysics

from isaaclab_trainer.utils import resolve_matching_values

from .assets import copy_asset, newton_asset, set_armature, set_drive

#: Isaac Lab's ``HUMANOID_CFG.init_state.pos`` z [m]
ROOT_HEIGHT = 1.34
EFFORT_LIMIT = 150.0  # N m
ARMATURE = 0.01
#: Isaac Lab's implicit actuator gains, by joint name [N m / rad], [N m s / rad]
STIFFNESS: dict[str, float] = {
    ".*_waist.*": 20.0,
    ".*_upper_arm.*": 10.0,
    "pelvis": 10.0,
    ".*_lower_arm": 2.0,
    ".*_thigh:0": 10.0,
    ".*_thigh:1": 20.0,
    ".*_thigh:2": 10.0,
    ".*_shin": 5.0,
    ".*_foot.*": 2.0,
}
DAMPING: dict[str, float] = {
    ".*_waist.*": 5.0,
    ".*_upper_arm.*": 5.0,
    "pelvis": 5.0,
    ".*_lower_arm": 1.0,
    ".*_thigh:0": 5.0,
    ".*_thigh:1": 5.0,
    ".*_thigh:2": 5.0,
    ".*_shin": 0.1,
    ".*_foot.*": 1.0,
}
#: the 21 dofs, in the order Newton's importer gives them (the observation's and the action's order)
JOINTS: tuple[str, ...] = (
    "left_upper_arm:0",
    "left_upper_arm:1",
    "left_lower_arm",
    "lower_waist:0",
    "lower_waist:1",
    "pelvis",
    "left_thigh:0",
    "left_thigh:1",
    "left_thigh:2",
    "left_shin",
    "left_foot:0",
    "left_foot:1",
    "right_thigh:0",
    "right_thigh:1",
    "right_thigh:2",
    "right_shin",
    "right_foot:0",
    "right_foot:1",
    "right_upper_arm:0",
    "right_upper_arm:1",
    "right_lower_arm",
)
FEET: tuple[str, ...] = ("left_foot", "right_foot")
ROTATION_AXES = ("rotX", "rotY", "rotZ")


def asset_path() -> Path:
    """Newton's bundled ``humanoid.usda``."""
    return newton_asset("humanoid.usda")


def joint_axes(prim: Usd.Prim) -> list[tuple[str, str]]:
    """``(dof name, USD drive axis)`` of each dof of a joint prim: a revolute joint's one, or a D6 joint's free
    rotation axes (a locked axis has its limit's low above its high) in X, Y, Z order, named ``<joint>:<i>``."""
    if prim.IsA(UsdPhysics.RevoluteJoint):
        return [(prim.GetName(), UsdPhysics.Tokens.angular)]
    if not prim.IsA(UsdPhysics.Joint) or prim.IsA(UsdPhysics.FixedJoint):
        return []
    free = []
    for axis in ROTATION_AXES:
        limit = UsdPhysics.LimitAPI(prim, axis)
        low, high = limit.GetLowAttr().Get(), limit.GetHighAttr().Get()
        if not prim.HasAPI(UsdPhysics.LimitAPI, axis) or low is None or high is None or low <= high:
            free.append(axis)
    if len(free) == 1:
        return [(prim.GetName(), free[0])]
    return [(f"{prim.GetName()}:{i}", axis) for i, axis in enumerate(free)]


def add_humanoid(stage: Usd.Stage, prim_path: str, height: float = ROOT_HEIGHT) -> Usd.Prim:
    """Author the humanoid at ``prim_path`` (its parent must exist), root at ``height`` above its parent's origin."""
    root = copy_asset(stage, asset_path(), "/nv_humanoid", prim_path, height)
    # the articulation root on the robot's prim (Newton's file has it on the torso), where every env's
    # articulation is found by one pattern (Kit's /World/envs/*/Robot), as on the Ant
    torso = root.GetChild("torso")
    for schema in ("PhysicsArticulationRootAPI", "PhysxArticulationAPI"):
        torso.RemoveAppliedSchema(schema)
        root.AddAppliedSchema(schema)
    joints = [p for p in Usd.PrimRange(root) if p.IsA(UsdPhysics.Joint)]
    layer = stage.GetEditTarget().GetLayer()
    for prim in joints:  # each joint named after its child body, as Isaac Sim's humanoid names them
        (child,) = UsdPhysics.Joint(prim).GetBody1Rel().GetTargets()
        if prim.GetName() != child.name:
            layer.GetPrimAtPath(stage.GetEditTarget().MapToSpecPath(prim.GetPath())).name = child.name
    dofs = [(prim, name, axis) for prim in Usd.PrimRange(root) for name, axis in joint_axes(prim)]
    names = [name for _, name, _ in dofs]
    stiffness = resolve_matching_values(STIFFNESS, names, 0.0, "humanoid stiffness")
    damping = resolve_matching_values(DAMPING, names, 0.0, "humanoid damping")
    for (prim, _, axis), ke, kd in zip(dofs, stiffness, damping, strict=True):
        set_drive(prim, axis, ke, kd, EFFORT_LIMIT)
        set_armature(prim, ARMATURE)
    return root
