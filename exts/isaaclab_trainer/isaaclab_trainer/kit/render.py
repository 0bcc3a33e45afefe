"""Apply a :class:`RenderMode` to the Kit viewport (Isaac Lab's ``SimulationContext.set_render_mode``).

* FULL_RENDERING: active viewport ``updates_enabled = True`` and the "Viewport" window visible.
* PARTIAL_RENDERING / NO_RENDERING: ``updates_enabled = False``; the window stays where it is and
  shows its last frame. NO_RENDERING additionally refreshes the panel only every
  ``ui.view_model.ui_refresh_period(mode)`` frames (the extension's update loop does that), so the
  UI stays alive at a lower rate while the session trains.
"""

from __future__ import annotations

import carb
import omni.kit.app
import omni.ui as ui
from omni.kit.viewport.utility import get_active_viewport

from isaaclab_trainer.session.status import RenderMode

from .engines import NEWTON

VIEWPORT_WINDOW = "Viewport"


def apply_render_mode(mode: RenderMode) -> bool:
    """Switch viewport updates for ``mode``; returns the resulting ``updates_enabled`` (False if no viewport)."""
    full = mode == RenderMode.FULL_RENDERING
    viewport = get_active_viewport()
    if viewport is None:
        carb.log_warn("[isaaclab_trainer] no active viewport; rendering mode only affects the panel")
        return False
    viewport.updates_enabled = full
    if full:
        window = ui.Workspace.get_window(VIEWPORT_WINDOW)
        if window is not None:
            window.visible = True
    return bool(viewport.updates_enabled)


def viewport_updates_enabled() -> bool | None:
    viewport = get_active_viewport()
    return None if viewport is None else bool(viewport.updates_enabled)


def flush_physics_to_renderer(engine: str) -> None:
    """Push the engine's results to Fabric for Hydra: PhysX through omni.physx.fabric when it is on (Isaac
    Sim's ``render()`` does this), Newton (Isaac Sim 6.x) through its stage's ``update_fabric()``."""
    if engine == NEWTON:
        import isaacsim.physics.newton

        isaacsim.physics.newton.acquire_stage().update_fabric()
        return
    manager = omni.kit.app.get_app().get_extension_manager()
    if not manager.is_extension_enabled("omni.physx.fabric"):
        return
    from omni.physxfabric import get_physx_fabric_interface

    get_physx_fabric_interface().update(0.0, 0.0)
