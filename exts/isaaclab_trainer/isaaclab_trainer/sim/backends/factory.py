"""Choose and construct a physics backend by name.

Newton is built in. Isaac Sim's engines are registered by the Kit shell (``isaaclab_trainer.kit.backends``)
when Isaac Sim loads it, with :func:`register_backend`; a registered name replaces the built-in one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pxr import Usd

    from .base import PhysicsBackend

BACKENDS = ("auto", "newton", "physx")

#: ``factory(stage, num_envs=, physics_dt=, device=)`` builds a backend over the envs authored in ``stage``
BackendFactory = Callable[..., "PhysicsBackend"]
_REGISTERED: dict[str, BackendFactory] = {}
_AUTO: list[str] = []  # the last backend registered with auto=True is what "auto" means


def register_backend(name: str, factory: BackendFactory, *, auto: bool = False) -> None:
    """Make :func:`make_backend` build ``name`` with ``factory``; ``auto`` makes ``"auto"`` resolve to it."""
    if name not in BACKENDS or name == "auto":
        raise ValueError(f"cannot register physics backend '{name}'; accepted names: newton, physx")
    _REGISTERED[name] = factory
    if auto:
        _AUTO.append(name)


def running_in_kit() -> bool:
    """True inside an Isaac Sim / Kit process (the Kit app module is loaded)."""
    return "omni.kit.app" in sys.modules


def resolve_backend(name: str) -> str:
    """Map ``auto`` to the registered choice (PhysX inside Isaac Sim, Newton elsewhere); reject unknown names."""
    if name not in BACKENDS:
        raise ValueError(f"unknown physics backend '{name}'; accepted: {', '.join(BACKENDS)}")
    if name == "auto":
        if _AUTO:
            return _AUTO[-1]
        return "physx" if running_in_kit() else "newton"
    if name == "physx" and name not in _REGISTERED and not running_in_kit():
        raise ValueError("backend 'physx' needs Isaac Sim (run inside it, e.g. './isaaclab.sh -s'); use 'newton' here")
    return name


def make_backend(name: str, stage: Usd.Stage, num_envs: int, physics_dt: float, device: str) -> PhysicsBackend:
    """Build the backend ``name`` over the envs already authored in ``stage``."""
    resolved = resolve_backend(name)
    kwargs: dict[str, Any] = {"num_envs": num_envs, "physics_dt": physics_dt, "device": device}
    if resolved in _REGISTERED:
        return _REGISTERED[resolved](stage, **kwargs)
    if resolved == "physx":
        raise ValueError("backend 'physx' is not registered: Isaac Sim's Kit shell (isaaclab_trainer.kit) registers it")
    from .newton_backend import NewtonBackend

    return NewtonBackend(stage, **kwargs)
