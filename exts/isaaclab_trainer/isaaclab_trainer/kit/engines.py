"""Which physics engine Isaac Sim runs, and switching it: the one place that tells Isaac Sim 5.1 from 6.x.

Isaac Sim 6.x has several engines (PhysX, Newton) behind ``isaacsim.core.simulation_manager``'s
``SimulationManager``, and the full app's ``isaacsim.physics.newton`` switches to Newton at startup. Isaac
Sim 5.1's ``SimulationManager`` has no engine API: PhysX is the only engine. Everything else in the Kit
shell asks this module instead of checking versions itself.
"""

from __future__ import annotations

from typing import Any

import omni.kit.app
from isaacsim.core.simulation_manager import SimulationManager

PHYSX = "physx"
NEWTON = "newton"
#: engines the trainer has a backend for, in the order the panel offers them
SUPPORTED = (PHYSX, NEWTON)
#: the extension whose tensor backend the Newton backend's views need (an optional dependency)
NEWTON_TENSORS_EXT = "isaacsim.physics.newton.tensors"


def _engine_api() -> Any | None:
    """``SimulationManager`` where it manages engines (Isaac Sim 6.x), else None (5.1: PhysX only)."""
    return SimulationManager if hasattr(SimulationManager, "get_active_physics_engine") else None


def active_engine() -> str:
    """The engine that simulates the stage now: ``"physx"`` or ``"newton"`` (5.1: always ``"physx"``)."""
    api = _engine_api()
    return PHYSX if api is None else str(api.get_active_physics_engine()).lower()


def available_engines() -> list[str]:
    """Engines registered in this Isaac Sim that the trainer can drive, in :data:`SUPPORTED` order
    (Newton only with its tensor extension enabled, which its tensor views need)."""
    api = _engine_api()
    if api is None:
        return [PHYSX]
    registered = {str(name).lower() for name, _active in api.get_available_physics_engines()}
    if not omni.kit.app.get_app().get_extension_manager().is_extension_enabled(NEWTON_TENSORS_EXT):
        registered.discard(NEWTON)
    return [engine for engine in SUPPORTED if engine in registered]


def use_engine(engine: str) -> None:
    """Make ``engine`` the active one (a no-op if it is); ``RuntimeError`` if the trainer cannot drive it here."""
    available = available_engines()
    if engine not in available:
        raise RuntimeError(f"physics engine '{engine}' is not in this Isaac Sim (available: {', '.join(available)})")
    if engine == active_engine():
        return
    api = _engine_api()
    if api is None or not api.switch_physics_engine(engine):
        raise RuntimeError(f"Isaac Sim could not switch the physics engine to '{engine}'")
