"""Start Isaac Sim from a standalone script (``train.py`` / ``play.py --backend physx``).

``isaacsim.SimulationApp`` must be created before any other omni/isaacsim import, so scripts call
:func:`launch_app` first, inside the function that handles ``--backend physx``.
"""

from __future__ import annotations

from typing import Any

from stable_baselines3.common.callbacks import BaseCallback


def launch_app(headless: bool = True, **config: Any) -> tuple[Any, Any]:
    """Start ``isaacsim.SimulationApp`` (``{"headless": headless, **config}``); returns ``(app, stage)``.

    ``stage`` is the app's open USD stage (a new one if none is open), where the envs are built. Isaac
    Sim's engines are registered as backends (``--backend physx`` builds PhysX, also in Isaac Sim 6.x where
    Newton may be the active engine at startup). Call ``app.close()`` when done.
    """
    from isaacsim import SimulationApp

    app = SimulationApp({"headless": bool(headless), **config})
    import omni.usd

    from .backends import register_kit_backends

    register_kit_backends()
    context = omni.usd.get_context()
    if context.get_stage() is None:
        context.new_stage()
    return app, context.get_stage()


class AppUpdateCallback(BaseCallback):
    """Refresh the Isaac Sim window once per env step while a script trains with the GUI."""

    def __init__(self, app: Any):
        super().__init__()
        self.app = app

    def _on_step(self) -> bool:
        self.app.update()
        return self.app.is_running()
