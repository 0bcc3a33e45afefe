"""Start Isaac Sim from a standalone script (``train.py --backend physx``).

``isaacsim.SimulationApp`` must be created before any other omni/isaacsim import, so scripts call
:func:`launch_app` first, inside the function that handles ``--backend physx``.
"""

from __future__ import annotations

from typing import Any


def launch_app(headless: bool = True, **config: Any) -> Any:
    """Return a running ``isaacsim.SimulationApp`` (``{"headless": headless, **config}``).

    Call ``app.close()`` when done. Extra keys (e.g. ``width``, ``height``, ``renderer``) are passed to
    the SimulationApp launch config unchanged.
    """
    from isaacsim import SimulationApp

    return SimulationApp({"headless": bool(headless), **config})
