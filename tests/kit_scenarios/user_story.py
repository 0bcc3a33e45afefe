"""The user story in one real Kit process (run by tests/test_kit_real.py through tests/kit_harness.py).

enable -> on_startup (menu entry, window, update observer) -> Build 16 envs -> Start -> training on Kit's
update events for >= 300 frames while the rendering mode goes No / Partial / Full -> Pause / Resume -> Stop
(model.zip) -> Load & Play -> disable through Kit's extension manager (nothing left behind) -> enable again
-> training starts again. The driver then quits with post_quit().
"""

from __future__ import annotations

import os
import sys

import carb.settings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (  # noqa: E402
    UPDATE_OBSERVER,
    assert_nothing_left,
    build_and_start,
    disable,
    enable,
    snapshot,
    state,
    update_observers,
)

NUM_ENVS = 16
TRAIN_FRAMES = 300
#: more than TRAIN_FRAMES frames can reach at the session's per-frame budget
TOTAL_TIMESTEPS = 10_000_000
MAX_FRAMES = 2000
#: which of the window's same-label buttons (in the order the window makes them): Training's Stop / Resume,
#: Checkpoints' Stop (of playing), the Runs frame's Resume comes second, the newest checkpoint's Use (then the best's)
STOP_TRAINING, STOP_PLAYING, RESUME_TRAINING, USE_NEWEST = 0, 1, 0, 0
MODULES = ("torch", "numpy", "yaml", "gymnasium", "stable_baselines3", "tensorboard", "greenlet", "pxr", "newton")


def joint_pos(standins):
    """Joint positions of the newest articulation view (the Newton backend behind the omni.physics.tensors stand-in)."""
    return list(standins.articulations.values())[-1].backend.joint_pos().clone()


def scenario(kit) -> None:
    res, standins = kit.result, kit.standins
    world = standins.world
    log_root = carb.settings.get_settings().get("/exts/isaaclab_trainer/log_root")
    before = snapshot(kit)

    # on_startup: menu entry, window (omni.ui stand-in), an observer of Kit's update event
    ext = kit.extension()
    assert ext is not None
    assert [a[1] for a, _ in world.calls_to("omni.kit.menu.utils.add_menu_items")] == ["Window"]
    assert [a[0] for a, _ in world.calls_to("omni.ui.Window")] == ["Isaac Lab"]
    assert update_observers() == [UPDATE_OBSERVER], update_observers()
    res["backends_offered"] = list(ext.view_model.backends)
    # where Kit's Python found the packages: Isaac Sim's own, or the folder pipapi installed into
    res["module_files"] = {name: sys.modules[name].__file__ for name in MODULES if name in sys.modules}

    # Build 16 envs, Start: the extension's update observer trains, one budget of env steps per Kit frame
    build_and_start(kit, ext, NUM_ENVS, TOTAL_TIMESTEPS)
    session = ext.view_model.session
    frames_before, ext_frames_before = kit.frames, ext._frame
    viewport = standins.viewport()
    modes = {}
    for frame in range(TRAIN_FRAMES):
        if frame in (60, 120, 180):  # No rendering, Partial rendering, Full rendering, as a user picks them
            index = (60, 120, 180).index(frame)
            standins.choose(ext.window.render_combo, index)
        kit.update()
        if frame in (61, 121, 181):
            modes[session.status.render_mode.name] = bool(viewport.updates_enabled)
        assert state(ext) == "TRAINING", ext.view_model.refresh().status_line
    res["training_frames"] = kit.frames - frames_before
    res["extension_frames"] = ext._frame - ext_frames_before
    res["timesteps_after_training_frames"] = session.status.timesteps
    res["render_modes"] = modes

    # Pause: Kit keeps updating, training does not advance; Resume: it does again
    standins.click("Pause")
    kit.update(2)
    assert state(ext) == "PAUSED"
    paused_at = session.status.timesteps
    kit.update(30)
    res["timesteps_while_paused"] = session.status.timesteps - paused_at
    standins.click("Resume", nth=RESUME_TRAINING)
    kit.update_until(lambda: session.status.timesteps > paused_at, max_frames=200)
    assert state(ext) == "TRAINING"

    # Stop: learn() returns and writes model.zip
    standins.click("Stop", nth=STOP_TRAINING)
    kit.update_until(lambda: state(ext) == "DONE", max_frames=MAX_FRAMES)
    run_dir = session.status.run_dir
    res["model_zip"] = os.path.isfile(os.path.join(run_dir, "model.zip"))

    # Load & Play the newest checkpoint (the "Use" button fills the path)
    standins.click("Use", nth=USE_NEWEST)
    standins.click("Load & Play")
    kit.update_until(lambda: state(ext) == "PLAYING", max_frames=50)
    pos0 = joint_pos(standins)
    kit.update(60)
    res["playing"] = state(ext) == "PLAYING"
    res["play_moved"] = bool((joint_pos(standins) - pos0).abs().max() > 0)
    standins.click("Stop", nth=STOP_PLAYING)
    kit.update(3)
    session = None

    # disable at runtime through Kit's extension manager: nothing left behind
    del ext
    disable(kit)
    res["leftovers"] = assert_nothing_left(kit, log_root, before["threads"])

    # enable again: a new window, and training starts again
    ext = enable(kit)
    res["update_observers_after_enable"] = update_observers()
    build_and_start(kit, ext, NUM_ENVS, NUM_ENVS * 64)
    start = ext.view_model.session.status.timesteps
    kit.update(20)
    res["retrained_timesteps"] = ext.view_model.session.status.timesteps - start
    standins.click("Stop", nth=STOP_TRAINING)
    kit.update_until(lambda: state(ext) == "DONE", max_frames=MAX_FRAMES)
