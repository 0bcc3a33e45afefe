"""Procedural cartpole articulation authored with plain UsdPhysics/UsdGeom schemas.

The asset mirrors Isaac Lab's ``CARTPOLE_CFG`` (bodies ``slider``/``cart``/``pole``, joints
``slider_to_cart``/``cart_to_pole``, effort limit 400, cart damping 10, root at z=2) but is built in
code so that every mass, inertia and length is known exactly and the physics tests can compare
against closed-form answers. Only pxr (usd-core) is needed, so it works in Isaac Sim's live stage
and in a bare Python environment alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from pxr import Gf, Sdf, Usd, UsdGeom, UsdLux, UsdPhysics


@dataclass(frozen=True)
class CartpoleSpec:
    """Dimensions and physical constants of the cartpole (SI units, Z up).

    Geometry: the rail (``slider``) lies along X, fixed to the world. The cart is a box sliding on
    it along X. The pole is a thin box of length ``pole_length`` hinged at its bottom end to the cart
    (pivot at the cart center, offset ``pole_offset_y`` in +Y so it swings in front of the cart),
    about the Y axis, so it swings in the X-Z plane. Joint angle 0 is upright; a positive angle tilts
    the pole tip towards +X.

    Inertias are those of solid boxes about their own center of mass (diagonal, principal axes =
    body axes), written explicitly with MassAPI so no engine has to derive them from geometry.
    """

    root_height: float = 2.0  # Isaac Lab init_state pos z
    # rail: fixed, visual only (its mass never matters but PhysX wants a valid rigid body)
    rail_length: float = 8.0
    rail_thickness: float = 0.03
    rail_mass: float = 1.0
    # cart: solid box
    cart_mass: float = 1.0
    cart_size: tuple[float, float, float] = (0.5, 0.25, 0.2)
    # pole: thin solid box hinged at its bottom end
    pole_mass: float = 0.25
    pole_length: float = 1.0
    pole_width: float = 0.04
    pole_offset_y: float = 0.15  # pivot offset from the cart center (cart half-width + pole half-width + gap)
    # joints
    cart_limit: float = 4.0  # prismatic limits +-4 m
    cart_damping: float = 10.0  # N/(m/s), Isaac Lab cart_actuator damping
    pole_damping: float = 0.0
    effort_limit: float = 400.0  # N and N*m, Isaac Lab effort_limit_sim

    @staticmethod
    def box_inertia(mass: float, size: tuple[float, float, float]) -> tuple[float, float, float]:
        """Principal moments of a solid box ``size = (x, y, z)`` about its center."""
        x, y, z = size
        return (mass * (y * y + z * z) / 12.0, mass * (x * x + z * z) / 12.0, mass * (x * x + y * y) / 12.0)

    @property
    def cart_inertia(self) -> tuple[float, float, float]:
        return self.box_inertia(self.cart_mass, self.cart_size)

    @property
    def pole_size(self) -> tuple[float, float, float]:
        return (self.pole_width, self.pole_width, self.pole_length)

    @property
    def pole_inertia(self) -> tuple[float, float, float]:
        return self.box_inertia(self.pole_mass, self.pole_size)

    @property
    def rail_size(self) -> tuple[float, float, float]:
        return (self.rail_length, self.rail_thickness, self.rail_thickness)

    @property
    def rail_inertia(self) -> tuple[float, float, float]:
        return self.box_inertia(self.rail_mass, self.rail_size)

    @property
    def pole_com_distance(self) -> float:
        """Pivot to pole center of mass, ``d``."""
        return 0.5 * self.pole_length

    @property
    def pole_inertia_cm_hinge_axis(self) -> float:
        """Pole inertia about the hinge (Y) axis through its center of mass, ``I_cm``."""
        return self.pole_inertia[1]


JOINT_NAMES: tuple[str, str] = ("slider_to_cart", "cart_to_pole")


def _rigid_body(
    stage: Usd.Stage,
    path: Sdf.Path,
    pos: tuple[float, float, float],
    mass: float,
    inertia: tuple[float, float, float],
    size: tuple[float, float, float],
    color: tuple[float, float, float],
) -> Usd.Prim:
    """An Xform rigid body with explicit mass properties and a visual-only unit cube scaled to ``size``."""
    xf = UsdGeom.Xform.Define(stage, path)
    xf.ClearXformOpOrder()
    xf.AddTranslateOp().Set(Gf.Vec3d(*pos))
    prim = xf.GetPrim()
    UsdPhysics.RigidBodyAPI.Apply(prim)
    mass_api = UsdPhysics.MassAPI.Apply(prim)
    mass_api.CreateMassAttr(float(mass))
    mass_api.CreateCenterOfMassAttr(Gf.Vec3f(0.0, 0.0, 0.0))
    mass_api.CreateDiagonalInertiaAttr(Gf.Vec3f(*inertia))
    mass_api.CreatePrincipalAxesAttr(Gf.Quatf(1.0, 0.0, 0.0, 0.0))
    # visual only: no CollisionAPI, so nothing can touch the ground or self-collide
    cube = UsdGeom.Cube.Define(stage, path.AppendChild("visual"))
    cube.CreateSizeAttr(1.0)
    cube.AddScaleOp().Set(Gf.Vec3f(*size))
    cube.CreateDisplayColorAttr([Gf.Vec3f(*color)])
    return prim


def _joint_frames(joint: UsdPhysics.Joint, body0: Sdf.Path | None, body1: Sdf.Path, pos0, pos1) -> None:
    if body0 is not None:
        joint.CreateBody0Rel().SetTargets([body0])
    joint.CreateBody1Rel().SetTargets([body1])
    joint.CreateLocalPos0Attr(Gf.Vec3f(*pos0))
    joint.CreateLocalRot0Attr(Gf.Quatf(1.0, 0.0, 0.0, 0.0))
    joint.CreateLocalPos1Attr(Gf.Vec3f(*pos1))
    joint.CreateLocalRot1Attr(Gf.Quatf(1.0, 0.0, 0.0, 0.0))


def add_cartpole(
    stage: Usd.Stage,
    prim_path: str = "/World/envs/env_0/Robot",
    spec: CartpoleSpec | None = None,
    translation: tuple[float, float, float] | None = None,
) -> Usd.Prim:
    """Author the cartpole articulation at ``prim_path`` and return its root prim.

    The root Xform carries ``ArticulationRootAPI`` and is placed at ``translation`` (default
    ``(0, 0, spec.root_height)``) relative to its parent. Body poses are authored relative to the
    root, i.e. for joint positions 0 (cart centered, pole upright).
    """
    spec = spec or CartpoleSpec()
    root_path = Sdf.Path(prim_path)
    if not stage.GetPrimAtPath(root_path.GetParentPath()):
        UsdGeom.Xform.Define(stage, root_path.GetParentPath())
    root = UsdGeom.Xform.Define(stage, root_path)
    root.ClearXformOpOrder()
    root.AddTranslateOp().Set(Gf.Vec3d(*(translation if translation is not None else (0.0, 0.0, spec.root_height))))
    root_prim = root.GetPrim()
    UsdPhysics.ArticulationRootAPI.Apply(root_prim)
    # PhysX articulation flag (plain attribute, no PhysxSchema dependency) also read by Newton's importer
    root_prim.CreateAttribute("physxArticulation:enabledSelfCollisions", Sdf.ValueTypeNames.Bool).Set(False)

    slider = root_path.AppendChild("slider")
    cart = root_path.AppendChild("cart")
    pole = root_path.AppendChild("pole")
    d = spec.pole_com_distance
    _rigid_body(stage, slider, (0.0, 0.0, 0.0), spec.rail_mass, spec.rail_inertia, spec.rail_size, (0.9, 0.6, 0.2))
    _rigid_body(stage, cart, (0.0, 0.0, 0.0), spec.cart_mass, spec.cart_inertia, spec.cart_size, (0.3, 0.5, 0.7))
    _rigid_body(
        stage, pole, (0.0, spec.pole_offset_y, d), spec.pole_mass, spec.pole_inertia, spec.pole_size, (0.1, 0.1, 0.3)
    )

    # fixed base: rail welded to the world. With no body0, localPos0 is a world-space position, so it
    # must equal the rail's world position (see set_root_world_position when the env is moved).
    fixed = UsdPhysics.FixedJoint.Define(stage, root_path.AppendChild("root_joint"))
    world_pos = UsdGeom.Xformable(root_prim).ComputeLocalToWorldTransform(Usd.TimeCode.Default()).ExtractTranslation()
    _joint_frames(fixed, None, slider, tuple(world_pos), (0.0, 0.0, 0.0))

    prismatic = UsdPhysics.PrismaticJoint.Define(stage, root_path.AppendChild("slider_to_cart"))
    _joint_frames(prismatic, slider, cart, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
    prismatic.CreateAxisAttr(UsdPhysics.Tokens.x)
    prismatic.CreateLowerLimitAttr(-spec.cart_limit)
    prismatic.CreateUpperLimitAttr(spec.cart_limit)
    drive = UsdPhysics.DriveAPI.Apply(prismatic.GetPrim(), UsdPhysics.Tokens.linear)
    drive.CreateTypeAttr(UsdPhysics.Tokens.force)
    drive.CreateStiffnessAttr(0.0)
    drive.CreateDampingAttr(spec.cart_damping)
    drive.CreateMaxForceAttr(spec.effort_limit)
    drive.CreateTargetPositionAttr(0.0)
    drive.CreateTargetVelocityAttr(0.0)

    revolute = UsdPhysics.RevoluteJoint.Define(stage, root_path.AppendChild("cart_to_pole"))
    _joint_frames(revolute, cart, pole, (0.0, spec.pole_offset_y, 0.0), (0.0, 0.0, -d))
    revolute.CreateAxisAttr(UsdPhysics.Tokens.y)  # no limits authored -> free rotation
    drive = UsdPhysics.DriveAPI.Apply(revolute.GetPrim(), UsdPhysics.Tokens.angular)
    drive.CreateTypeAttr(UsdPhysics.Tokens.force)
    drive.CreateStiffnessAttr(0.0)
    drive.CreateDampingAttr(spec.pole_damping)
    drive.CreateMaxForceAttr(spec.effort_limit)
    drive.CreateTargetPositionAttr(0.0)
    drive.CreateTargetVelocityAttr(0.0)
    return root_prim


def setup_stage(stage: Usd.Stage) -> None:
    """Set Z-up / meters on a stage that has no opinion yet (never overrides an authored value)."""
    if not stage.HasAuthoredMetadata(UsdGeom.Tokens.metersPerUnit):
        UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    if not stage.HasAuthoredMetadata(UsdGeom.Tokens.upAxis):
        UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    if not stage.HasAuthoredMetadata(UsdPhysics.Tokens.kilogramsPerUnit):
        UsdPhysics.SetStageKilogramsPerUnit(stage, 1.0)


def add_ground_light_physics(
    stage: Usd.Stage,
    physics_dt: float | None = None,
    world_path: str = "/World",
    ground_size: float = 100.0,
) -> None:
    """Author ``/World/physicsScene`` (gravity -Z 9.81), a ground collision plane and a DomeLight (500).

    ``physics_dt`` (optional) is stored as ``physxScene:timeStepsPerSecond`` like Isaac Sim does.
    Re-authoring is harmless: Define() on existing prims just re-sets the same values.
    """
    setup_stage(stage)
    world = Sdf.Path(world_path)
    if not stage.GetPrimAtPath(world):
        UsdGeom.Xform.Define(stage, world)
    scene = UsdPhysics.Scene.Define(stage, world.AppendChild("physicsScene"))
    scene.CreateGravityDirectionAttr(Gf.Vec3f(0.0, 0.0, -1.0))
    scene.CreateGravityMagnitudeAttr(9.81)
    if physics_dt is not None:
        scene.GetPrim().CreateAttribute("physxScene:timeStepsPerSecond", Sdf.ValueTypeNames.UInt).Set(
            int(round(1.0 / physics_dt))
        )

    ground = UsdGeom.Xform.Define(stage, world.AppendChild("ground"))
    plane = UsdGeom.Plane.Define(stage, ground.GetPath().AppendChild("plane"))
    plane.CreateAxisAttr(UsdGeom.Tokens.z)
    plane.CreateWidthAttr(ground_size)
    plane.CreateLengthAttr(ground_size)
    plane.CreateDisplayColorAttr([Gf.Vec3f(0.3, 0.3, 0.3)])
    UsdPhysics.CollisionAPI.Apply(plane.GetPrim())

    light = UsdLux.DomeLight.Define(stage, world.AppendChild("DomeLight"))
    light.CreateIntensityAttr(500.0)


def write_cartpole_usd(path: str) -> str:
    """Write the cartpole alone to a USD file whose default prim is its root (``/Robot``, at the origin), the
    asset Isaac Lab's ``UsdFileCfg`` spawns: ``env.scene.robot.spawn.usd_path=<path>`` runs Isaac Lab's own
    ``Isaac-Cartpole`` without NVIDIA's asset server. Returns ``path``."""
    stage = Usd.Stage.CreateNew(path)
    setup_stage(stage)
    root = add_cartpole(stage, "/Robot", translation=(0.0, 0.0, 0.0))
    stage.SetDefaultPrim(root)
    stage.GetRootLayer().Save()
    return path


if __name__ == "__main__":  # python -m isaaclab_trainer.sim.cartpole cartpole.usda
    import sys

    print(write_cartpole_usd(sys.argv[1] if len(sys.argv) > 1 else "cartpole.usda"))
