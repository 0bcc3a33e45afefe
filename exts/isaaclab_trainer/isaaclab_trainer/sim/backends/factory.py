"""Choose and construct a physics backend by name."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pxr import Usd

    from .base import PhysicsBackend

BACKENDS = ("auto", "newton", "physx")


def running_in_kit() -> bool:
    """True inside an Isaac Sim / Kit process (the Kit app module is loaded)."""
    return "omni.kit.app" in sys.modules


def resolve_backend(name: str) -> str:
    """Map ``auto`` to ``physx`` inside Isaac Sim and ``newton`` elsewhere; reject unknown names."""
    if name not in BACKENDS:
        raise ValueError(f"unknown physics backend '{name}'; accepted: {', '.join(BACKENDS)}")
    if name == "auto":
        return "physx" if running_in_kit() else "newton"
    if name == "physx" and not running_in_kit():
        raise ValueError("backend 'physx' needs Isaac Sim (run inside it, e.g. './isaaclab.sh -s'); use 'newton' here")
    return name


def make_backend(name: str, stage: Usd.Stage, num_envs: int, physics_dt: float, device: str) -> PhysicsBackend:
    """Build the backend ``name`` over the envs already authored in ``stage``."""
    resolved = resolve_backend(name)
    if resolved == "physx":
        from isaaclab_trainer.kit.physx_backend import PhysxBackend

        return PhysxBackend(stage, num_envs=num_envs, physics_dt=physics_dt, device=device)
    from .newton_backend import NewtonBackend

    return NewtonBackend(stage, num_envs=num_envs, physics_dt=physics_dt, device=device)
