"""Runs inside Kit's Python (started by ``tests/kit_harness.py``): start Kit, run one scenario, write what happened.

``python kit_driver.py RESULT_JSON SCENARIO_PY -- KIT_ARGS...``. Starts Kit headless from Python
(``omni.kit_app.KitApp``, the way ``omniverse-kit`` documents it), records every error-level log event
(``GLOBAL_EVENT_ERROR_LOG`` with ``level >= 1``), checks that each ``--enable`` extension is enabled, calls the
scenario's ``scenario(kit)`` with a :class:`Kit`, quits through ``post_quit()`` and writes the outcome as JSON.
The process exits with Kit's exit code.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

#: frames the driver runs after post_quit() before it calls shutdown() anyway
QUIT_FRAMES = 100
#: in the working directory (the run's): its existence ends Kit.serve() (kit_harness.STOP_FILE)
STOP_FILE = "stop"


class Kit:
    """What a scenario gets: the running app and ways to let frames pass, as Kit's run loop would."""

    def __init__(self, app: Any, result: dict[str, Any]) -> None:
        import omni.kit.app

        self.app = app
        self.kit_app = omni.kit.app.get_app()
        self.ext_manager = self.kit_app.get_extension_manager()
        #: JSON-serialisable facts the scenario reports back to the test
        self.result = result["scenario"]
        self.frames = 0

    @property
    def standins(self) -> Any:
        """The stand-ins' shared :class:`kit_standins.StandInKit` (None when the stand-ins are not enabled)."""
        module = sys.modules.get("isaaclab_trainer_standins")
        return None if module is None else module.KIT

    def update(self, n: int = 1) -> None:
        """Run ``n`` app updates (each dispatches Kit's update events to every observer)."""
        for _ in range(n):
            self.app.update()
            self.frames += 1

    def update_until(self, predicate: Callable[[], bool], max_frames: int) -> int:
        """App updates until ``predicate()`` holds; the number of updates run. ``AssertionError`` after
        ``max_frames`` updates."""
        for n in range(max_frames + 1):
            if predicate():
                return n
            self.update()
        raise AssertionError(f"not reached within {max_frames} app updates: {getattr(predicate, '__doc__', '')}")

    def serve(self, max_frames: int) -> int:
        """App updates until the test asks to stop (``KitProcess.request_stop``); the number run.
        ``AssertionError`` after ``max_frames`` updates."""
        return self.update_until(lambda: os.path.exists(STOP_FILE), max_frames)

    def extension(self) -> Any:
        """The running ``IsaacLabTrainerExtension`` (None while it is disabled)."""
        module = sys.modules.get("isaaclab_trainer.kit.extension")
        return None if module is None else module.get_instance()


def _enabled_names(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--enable"]


def main() -> int:
    result_path, scenario_path, sep, *kit_args = sys.argv[1:]
    assert sep == "--", "usage: kit_driver.py RESULT_JSON SCENARIO_PY -- KIT_ARGS..."
    result: dict[str, Any] = {"errors": [], "missing": [], "exception": None, "scenario": {}, "timings": {}}

    def write() -> None:
        with open(result_path, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1, default=str)

    t0 = time.perf_counter()
    import omni.kit_app
    from omni.kit_app import KitApp

    app_file = os.path.join(os.path.dirname(omni.kit_app.__file__), "apps", "omni.app.empty.kit")
    app = KitApp()
    app.startup([app_file, *kit_args])
    result["timings"]["startup_s"] = time.perf_counter() - t0

    import carb.eventdispatcher
    import omni.kit.app

    def on_error(event: Any) -> None:
        payload = event.payload.get_dict() if hasattr(event.payload, "get_dict") else dict(event.payload)
        if int(payload.get("level", 0)) >= 1:
            result["errors"].append({k: str(v) for k, v in payload.items()})

    error_sub = carb.eventdispatcher.get_eventdispatcher().observe_event(
        event_name=omni.kit.app.GLOBAL_EVENT_ERROR_LOG, on_event=on_error, observer_name="kit_driver.on_error"
    )
    manager = omni.kit.app.get_app().get_extension_manager()
    result["missing"] = [name for name in _enabled_names(kit_args) if not manager.is_extension_enabled(name)]
    kit = Kit(app, result)
    kit.t0 = t0  # type: ignore[attr-defined]
    try:
        if not result["missing"]:
            runpy.run_path(scenario_path)["scenario"](kit)
    except BaseException as exc:  # noqa: BLE001 - reported to the test, which fails on it
        result["exception"] = "".join(traceback.format_exception(exc))
    if kit.standins is not None:
        result["violations"] = list(kit.standins.world.violations)
    kit.kit_app.post_quit()
    for _ in range(QUIT_FRAMES):
        if not app.is_running():
            break
        app.update()
    result["still_running_after_post_quit"] = app.is_running()
    write()
    rc = app.shutdown()
    error_sub = None  # noqa: F841 - the observer lives until here
    result["exit_code"] = rc
    write()
    return int(rc)


if __name__ == "__main__":
    sys.exit(main())
