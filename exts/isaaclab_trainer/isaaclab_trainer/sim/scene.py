"""Multi-env scenes, laid out like Isaac Lab's ``InteractiveScene`` / ``GridCloner``; every backend builds from them.

``/World/envs/env_<i>/Robot`` for every env, plus one ground plane, DomeLight and physics scene.
env_0 is authored once with the USD API; the others are copied at the Sdf layer level
(``Sdf.CopySpec`` inside one ``Sdf.ChangeBlock``), which keeps 4096 envs to a couple of seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom

from .ant import add_ant
from .cartpole import CartpoleSpec, add_cartpole, add_ground_light_physics
from .humanoid import add_humanoid

ENVS_PATH = "/World/envs"


def grid_positions(num_envs: int, env_spacing: float = 4.0) -> list[tuple[float, float, float]]:
    """Env origins on a square grid centered on the world origin (Isaac Sim ``GridCloner`` layout).

    ``num_per_row = ceil(sqrt(N))``; env ``i`` is at row ``i // num_cols``, column ``i % num_cols``,
    with ``x = row_offset - row * spacing`` and ``y = col * spacing - col_offset``.
    """
    if num_envs <= 0:
        return []
    num_per_row = int(math.ceil(math.sqrt(num_envs)))
    num_rows = int(math.ceil(num_envs / num_per_row))
    num_cols = int(math.ceil(num_envs / num_rows))
    row_offset = 0.5 * env_spacing * (num_rows - 1)
    col_offset = 0.5 * env_spacing * (num_cols - 1)
    out = []
    for i in range(num_envs):
        row, col = divmod(i, num_cols)
        out.append((row_offset - row * env_spacing, col * env_spacing - col_offset, 0.0))
    return out


def clone_envs(
    stage: Usd.Stage,
    num_envs: int,
    env_spacing: float,
    add_robot: Callable[[Usd.Stage, str], object],
    physics_dt: float | None = None,
    place_clone: Callable[[Sdf.Layer, Sdf.Path, tuple[float, float, float]], None] | None = None,
) -> list[str]:
    """Author ``num_envs`` envs (+ ground, light, physics scene) into ``stage``; return env prim paths.

    ``add_robot(stage, path)`` authors env_0's robot at ``<env_0>/Robot``; the other envs are Sdf copies of
    env_0 moved to their grid place, and ``place_clone(layer, env spec path, origin)`` fixes what a copy
    cannot carry (world-anchored values). Works on any stage (in-memory, opened from disk, or Isaac Sim's
    live stage): it writes to the stage's current edit target. Calling it again replaces ``/World/envs``.
    """
    add_ground_light_physics(stage, physics_dt=physics_dt)
    if stage.GetPrimAtPath(ENVS_PATH):
        stage.RemovePrim(ENVS_PATH)
    UsdGeom.Xform.Define(stage, ENVS_PATH)
    positions = grid_positions(num_envs, env_spacing)
    env_paths = [f"{ENVS_PATH}/env_{i}" for i in range(num_envs)]
    if num_envs == 0:
        return env_paths

    env0 = UsdGeom.Xform.Define(stage, env_paths[0])
    env0.AddTranslateOp().Set(Gf.Vec3d(*positions[0]))
    add_robot(stage, f"{env_paths[0]}/Robot")

    layer = stage.GetEditTarget().GetLayer()
    src = stage.GetEditTarget().MapToSpecPath(Sdf.Path(env_paths[0]))
    translate = "xformOp:translate"
    with Sdf.ChangeBlock():
        for i in range(1, num_envs):
            dst = stage.GetEditTarget().MapToSpecPath(Sdf.Path(env_paths[i]))
            if not Sdf.CopySpec(layer, src, layer, dst):
                raise RuntimeError(f"Sdf.CopySpec failed for {dst}")
        for i in range(num_envs):
            dst = stage.GetEditTarget().MapToSpecPath(Sdf.Path(env_paths[i]))
            layer.GetAttributeAtPath(dst.AppendProperty(translate)).default = Gf.Vec3d(*positions[i])
            if place_clone is not None:
                place_clone(layer, dst, positions[i])
    return env_paths


def build_scene(
    stage: Usd.Stage,
    num_envs: int,
    env_spacing: float = 4.0,
    spec: CartpoleSpec | None = None,
    physics_dt: float | None = None,
) -> list[str]:
    """The cartpole scene: ``num_envs`` cartpoles on world-fixed rails (see :func:`clone_envs`)."""
    spec = spec or CartpoleSpec()

    def anchor_rail(layer: Sdf.Layer, env: Sdf.Path, origin: tuple[float, float, float]) -> None:
        # the rail's world-anchored fixed joint: localPos0 is in world coordinates
        x, y, z = origin
        joint = env.AppendPath(Sdf.Path("Robot/root_joint")).AppendProperty("physics:localPos0")
        layer.GetAttributeAtPath(joint).default = Gf.Vec3f(x, y, z + spec.root_height)

    return clone_envs(
        stage, num_envs, env_spacing, lambda s, path: add_cartpole(s, path, spec), physics_dt, anchor_rail
    )


def build_ant_scene(stage: Usd.Stage, num_envs: int, env_spacing: float = 5.0, physics_dt: float | None = None):
    """The Ant scene: ``num_envs`` ants (Newton's asset, Isaac Lab's settings) on the ground plane."""
    return clone_envs(stage, num_envs, env_spacing, add_ant, physics_dt)


def build_humanoid_scene(
    stage: Usd.Stage, num_envs: int, env_spacing: float = 5.0, physics_dt: float | None = None
) -> list[str]:
    """The Humanoid scene: ``num_envs`` humanoids (Newton's asset, Isaac Lab's settings) on the ground plane."""
    return clone_envs(stage, num_envs, env_spacing, add_humanoid, physics_dt)


def env_origins(stage: Usd.Stage, env_paths: Sequence[str]) -> np.ndarray:
    """World positions of the env prims at ``env_paths``, ``(len, 3)`` (zeros where a prim is missing)."""
    cache = UsdGeom.XformCache(Usd.TimeCode.Default())
    origins = np.zeros((len(env_paths), 3), dtype=np.float32)
    for i, path in enumerate(env_paths):
        env = stage.GetPrimAtPath(path)
        if env.IsValid() and env.IsA(UsdGeom.Xformable):
            origins[i] = cache.GetLocalToWorldTransform(env).ExtractTranslation()
    return origins
