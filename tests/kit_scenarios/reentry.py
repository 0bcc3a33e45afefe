"""An env step that runs Kit's update from inside the extension's update observer (as Isaac Lab 3.0's Kit visualizer
and PhysX manager call ``omni.kit.app.get_app().update()``): what Kit does, and that the session refuses it.

First Kit alone: an update observer that calls ``omni.kit.app.get_app().update()`` gets the nested update
dispatched to it (and every observer) in full. Then Build 8 envs, Start, and make every physics step call Kit's
update: the extension's observer runs nothing of the panel in the nested update (a queued click waits for the
next top-level one), the session logs one error line, ends training (model.zip) and shows the line; Kit goes on.
"""

from __future__ import annotations

import os
import sys

import carb.eventdispatcher
import omni.kit.app

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import build_and_start, state  # noqa: E402

NUM_ENVS = 8
MAX_FRAMES = 2000


def kit_nests_updates(kit) -> dict:
    """Call Kit's update from an update observer once; the depths the observer saw, and the update numbers."""
    app, depths, numbers = omni.kit.app.get_app(), [], []
    depth = [0]

    def on_update(_event) -> None:
        depth[0] += 1
        depths.append(depth[0])
        if len(depths) == 2:
            numbers.append(app.get_update_number())
            app.update()
            numbers.append(app.get_update_number())
        depth[0] -= 1

    sub = carb.eventdispatcher.get_eventdispatcher().observe_event(
        event_name=omni.kit.app.GLOBAL_EVENT_UPDATE, on_event=on_update, observer_name="reentry.probe"
    )
    kit.update(3)
    sub.reset()
    return {"depths": depths, "update_numbers": numbers}


def scenario(kit) -> None:
    res = kit.result
    res["kit"] = kit_nests_updates(kit)

    ext = kit.extension()
    build_and_start(kit, ext, NUM_ENVS, 10_000_000)
    session = ext.view_model.session
    backend = session.env.unwrapped.backend
    real_step, counts = backend.step, {"steps": 0, "nested": 0}

    def count_nested(_event) -> None:  # Kit dispatches each update to every observer: this one sees the nested ones
        counts["nested"] += ext._in_update

    sub = carb.eventdispatcher.get_eventdispatcher().observe_event(
        event_name=omni.kit.app.GLOBAL_EVENT_UPDATE, on_event=count_nested, observer_name="reentry.count"
    )

    def step_that_updates_kit() -> None:  # Isaac Lab's KitVisualizer.step() / PhysxManager.wait_for_playing()
        counts["steps"] += 1
        omni.kit.app.get_app().update()
        real_step()

    backend.step = step_that_updates_kit
    clicks = []
    ext.actions.post(lambda: clicks.append(session.stepping))  # a browser click queued meanwhile
    frames = kit.update_until(lambda: state(ext) == "ERROR", max_frames=MAX_FRAMES)
    status = session.status
    res["frames_to_error"] = frames
    res["steps"], res["nested_updates"] = counts["steps"], counts["nested"]
    res["error"] = status.error
    res["model_zip"] = os.path.isfile(os.path.join(status.run_dir, "model.zip"))
    res["status_line"] = ext.view_model.refresh().status_line
    res["clicks_ran_while_stepping"] = clicks
    steps = counts["steps"]
    kit.update(10)  # Kit and the panel go on; nothing steps
    res["steps_after"] = counts["steps"] - steps
    res["frames_after"] = ext._frame
    sub.reset()
