"""Scene authoring (pxr only) and physics backends. Engine backends are not imported here so that
``import isaaclab_trainer.sim`` works inside Isaac Sim, which has no Newton."""

from .cartpole import CartpoleSpec, add_cartpole, add_ground_light_physics
from .scene import build_scene, grid_positions

__all__ = ["CartpoleSpec", "add_cartpole", "add_ground_light_physics", "build_scene", "grid_positions"]
