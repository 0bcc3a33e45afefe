"""USD authoring of the cartpole scene (pxr only, no physics engine needed)."""

from __future__ import annotations

import itertools
import math

import pytest
from pxr import Gf, Usd, UsdGeom, UsdLux, UsdPhysics

from isaaclab_trainer.sim import CartpoleSpec, build_scene
from isaaclab_trainer.sim.scene import grid_positions


def world_pos(stage: Usd.Stage, path: str) -> Gf.Vec3d:
    return UsdGeom.Xformable(stage.GetPrimAtPath(path)).ComputeLocalToWorldTransform(0).ExtractTranslation()


def test_grid_layout_square_centered_spacing_4():
    stage = Usd.Stage.CreateInMemory()
    paths = build_scene(stage, 16)
    assert paths == [f"/World/envs/env_{i}" for i in range(16)]
    pos = [world_pos(stage, p) for p in paths]
    xs = sorted({round(p[0], 6) for p in pos})
    ys = sorted({round(p[1], 6) for p in pos})
    assert xs == [-6.0, -2.0, 2.0, 6.0] and ys == [-6.0, -2.0, 2.0, 6.0]
    assert all(p[2] == 0.0 for p in pos)
    assert min((a - b).GetLength() for a, b in itertools.combinations(pos, 2)) == pytest.approx(4.0)
    # robots sit 2 m above their env origin
    for i, p in enumerate(pos):
        assert world_pos(stage, f"{paths[i]}/Robot") == Gf.Vec3d(p[0], p[1], 2.0)


@pytest.mark.parametrize("n", [1, 2, 5, 10, 4096])
def test_grid_positions_count_rows_and_center(n: int):
    pos = grid_positions(n, 4.0)
    assert len(pos) == n and len(set(pos)) == n
    per_row = math.ceil(math.sqrt(n))
    assert len({p[1] for p in pos}) == min(n, per_row)  # columns
    xs = sorted({p[0] for p in pos})
    assert xs[0] == pytest.approx(-xs[-1])  # centered rows
    assert all(b - a == pytest.approx(4.0) for a, b in itertools.pairwise(xs))


def test_articulation_joints_masses_drives():
    spec = CartpoleSpec()
    stage = Usd.Stage.CreateInMemory()
    build_scene(stage, 2)
    root = stage.GetPrimAtPath("/World/envs/env_1/Robot")
    assert root.HasAPI(UsdPhysics.ArticulationRootAPI)
    for body, mass in (("slider", spec.rail_mass), ("cart", spec.cart_mass), ("pole", spec.pole_mass)):
        prim = root.GetChild(body)
        assert prim.HasAPI(UsdPhysics.RigidBodyAPI)
        assert UsdPhysics.MassAPI(prim).GetMassAttr().Get() == pytest.approx(mass)
        # nothing on the robot can collide (with the ground or itself)
        assert not any(p.HasAPI(UsdPhysics.CollisionAPI) for p in Usd.PrimRange(prim))
    inertia = UsdPhysics.MassAPI(root.GetChild("pole")).GetDiagonalInertiaAttr().Get()
    assert inertia[1] == pytest.approx(spec.pole_mass * (spec.pole_length**2 + spec.pole_width**2) / 12, rel=1e-6)

    fixed = UsdPhysics.FixedJoint(root.GetChild("root_joint"))
    assert fixed and not fixed.GetBody0Rel().GetTargets()
    assert fixed.GetBody1Rel().GetTargets() == [root.GetChild("slider").GetPath()]
    # world-anchored frame sits where the rail is (env_1 origin + 2 m)
    assert Gf.Vec3d(fixed.GetLocalPos0Attr().Get()) == world_pos(stage, str(root.GetChild("slider").GetPath()))

    slider = UsdPhysics.PrismaticJoint(root.GetChild("slider_to_cart"))
    assert slider and slider.GetAxisAttr().Get() == "X"
    assert (slider.GetLowerLimitAttr().Get(), slider.GetUpperLimitAttr().Get()) == (-4.0, 4.0)
    assert slider.GetBody0Rel().GetTargets() == [root.GetChild("slider").GetPath()]
    assert slider.GetBody1Rel().GetTargets() == [root.GetChild("cart").GetPath()]
    drive = UsdPhysics.DriveAPI(slider.GetPrim(), "linear")
    assert (drive.GetStiffnessAttr().Get(), drive.GetDampingAttr().Get(), drive.GetMaxForceAttr().Get()) == (
        0.0,
        10.0,
        400.0,
    )

    pole = UsdPhysics.RevoluteJoint(root.GetChild("cart_to_pole"))
    assert pole and pole.GetAxisAttr().Get() == "Y"
    assert not pole.GetLowerLimitAttr().HasAuthoredValue() and not pole.GetUpperLimitAttr().HasAuthoredValue()
    assert pole.GetBody1Rel().GetTargets() == [root.GetChild("pole").GetPath()]
    drive = UsdPhysics.DriveAPI(pole.GetPrim(), "angular")
    assert (drive.GetDampingAttr().Get(), drive.GetMaxForceAttr().Get()) == (0.0, 400.0)


def test_global_prims_and_stage_metadata():
    stage = Usd.Stage.CreateInMemory()
    build_scene(stage, 3)
    assert UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.z
    assert UsdGeom.GetStageMetersPerUnit(stage) == 1.0
    scene = UsdPhysics.Scene(stage.GetPrimAtPath("/World/physicsScene"))
    assert scene and scene.GetGravityMagnitudeAttr().Get() == pytest.approx(9.81)
    assert tuple(scene.GetGravityDirectionAttr().Get()) == (0.0, 0.0, -1.0)
    assert UsdLux.DomeLight(stage.GetPrimAtPath("/World/DomeLight")).GetIntensityAttr().Get() == 500.0
    assert stage.GetPrimAtPath("/World/ground/plane").HasAPI(UsdPhysics.CollisionAPI)


def test_rebuild_replaces_envs():
    stage = Usd.Stage.CreateInMemory()
    build_scene(stage, 9)
    build_scene(stage, 4)
    envs = stage.GetPrimAtPath("/World/envs").GetChildren()
    assert [p.GetName() for p in envs] == [f"env_{i}" for i in range(4)]
    assert len([p for p in stage.Traverse() if p.IsA(UsdPhysics.Scene)]) == 1


def test_stage_on_disk_roundtrip(tmp_path):
    path = str(tmp_path / "cartpole_scene.usda")
    stage = Usd.Stage.CreateNew(path)
    build_scene(stage, 4)
    stage.Save()
    reopened = Usd.Stage.Open(path)
    assert len(reopened.GetPrimAtPath("/World/envs").GetChildren()) == 4
    assert UsdPhysics.PrismaticJoint(reopened.GetPrimAtPath("/World/envs/env_3/Robot/slider_to_cart"))
    # authoring into an opened (non in-memory) stage works too
    build_scene(reopened, 2)
    assert len(reopened.GetPrimAtPath("/World/envs").GetChildren()) == 2


def test_4096_envs_are_all_authored():
    """Every one of 4096 envs is complete (its time to author is benchmark 5's, not a test's)."""
    stage = Usd.Stage.CreateInMemory()
    paths = build_scene(stage, 4096)
    assert len(paths) == 4096
    last = stage.GetPrimAtPath("/World/envs/env_4095/Robot/cart_to_pole")
    assert UsdPhysics.RevoluteJoint(last).GetBody0Rel().GetTargets() == ["/World/envs/env_4095/Robot/cart"]
