"""What the real-Kit scenarios share: the panel's widgets, Kit's own observers, what a disable must release."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

EXTENSION = "isaaclab_trainer"
#: the observer name the extension gives its GLOBAL_EVENT_UPDATE subscription
UPDATE_OBSERVER = "isaaclab_trainer.kit.extension._on_update"
#: calls of a trivial function timed to price a profile hook on a Python call
HOOK_PROBE_CALLS = 200_000
TIMELINE_SUB = "omni.timeline.get_timeline_interface().get_timeline_event_stream().create_subscription_to_pop_by_type"


def update_observers() -> list[str]:
    """Names of the observers of Kit's update event that belong to the extension (Kit's own list)."""
    import carb.eventdispatcher
    import omni.kit.app

    observers = carb.eventdispatcher.get_eventdispatcher().get_observers([omni.kit.app.GLOBAL_EVENT_UPDATE])
    return [o.name for o in observers if o.name.startswith(EXTENSION)]


def open_files(root: str) -> list[str]:
    """Files under ``root`` this process holds open (``/proc/self/fd``)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(root):
            found.append(target)
    return sorted(found)


def snapshot(kit: Any) -> dict[str, Any]:
    """What exists before the extension makes anything: threads, update observers, recorded windows/menus."""
    world = kit.standins.world
    return {
        "threads": set(threading.enumerate()),
        "windows": len(world.calls_to("omni.ui.Window")),
        "menus": len(world.calls_to("omni.kit.menu.utils.add_menu_items")),
    }


def disable(kit: Any) -> None:
    """Disable the extension through Kit's extension manager and let a few frames pass."""
    assert kit.ext_manager.set_extension_enabled_immediate(EXTENSION, False)
    kit.update(3)
    assert not kit.ext_manager.is_extension_enabled(EXTENSION)


def enable(kit: Any) -> Any:
    """Enable the extension again through Kit's extension manager; returns the new extension object."""
    assert kit.ext_manager.set_extension_enabled_immediate(EXTENSION, True)
    kit.update(3)
    ext = kit.extension()
    assert ext is not None, "enabled again, but no extension object"
    return ext


def leftovers(kit: Any, log_root: str, threads_before: set) -> dict[str, Any]:
    """What the disabled extension left behind (all empty when nothing)."""
    world = kit.standins.world
    added = [id(args[0]) for args, _ in world.calls_to("omni.kit.menu.utils.add_menu_items")]
    removed = [id(args[0]) for args, _ in world.calls_to("omni.kit.menu.utils.remove_menu_items")]
    show_fns = world.calls_to("omni.ui.Workspace.set_show_window_fn")
    windows = len(world.calls_to("omni.ui.Window")) - len(world.calls_to("omni.ui.Window().destroy"))
    for _ in range(600):  # a finishing thread gets frames to end in; one that never ends is reported
        if not set(threading.enumerate()) - threads_before:
            break
        kit.update()
    return {
        "update_observers": update_observers(),
        "threads": sorted(t.name for t in set(threading.enumerate()) - threads_before),
        "windows_not_destroyed": windows,
        "menus_not_removed": sorted(set(added) - set(removed)),
        "show_window_fn_kept": bool(show_fns) and show_fns[-1][0][1] is not None,
        "timeline_subscriptions": len(world.alive(f"{TIMELINE_SUB}()")),
        "open_files": open_files(log_root),
        "extension_object": kit.extension() is not None,
    }


def assert_nothing_left(kit: Any, log_root: str, threads_before: set) -> dict[str, Any]:
    """:func:`leftovers`, failing the run (AssertionError) on anything left behind; returns them."""
    found = leftovers(kit, log_root, threads_before)
    left = {name: value for name, value in found.items() if value}
    assert not left, f"the disabled extension left behind: {left}"
    return found


def state(ext: Any) -> str:
    """The panel's session state ("IDLE" before a Build)."""
    session = ext.view_model.session
    return "IDLE" if session is None else session.status.state.value


def build(kit: Any, ext: Any, num_envs: int) -> None:
    """Build ``num_envs`` envs, clicking the window as a user does."""
    ext.window.num_envs_model.set_value(num_envs)
    kit.standins.click("Build")
    assert state(ext) == "BUILT", ext.view_model.refresh().status_line


def build_and_start(kit: Any, ext: Any, num_envs: int, total: int) -> None:
    """Build ``num_envs`` envs and Start training ``total`` timesteps, clicking the window as a user does."""
    build(kit, ext, num_envs)
    ext.window.total_model.set_value(str(total))
    kit.standins.click("Start")
    kit.update_until(lambda: state(ext) == "TRAINING", max_frames=10)


def update_for(
    kit: Any, predicate: Callable[[], bool], seconds: float, what: str, shown: Callable[[], str] = lambda: ""
) -> None:
    """App updates until ``predicate()`` holds; AssertionError naming ``what`` (and ``shown()``, what the app shows
    then) once ``seconds`` of wall time passed: for what another process does, at its own pace, not the app's."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"not within {seconds:.0f} s: {what} {shown()}"
        kit.update()


def call_ns() -> float:
    """Thread CPU nanoseconds of one call of a trivial Python function (best of 3 loops): what a profile
    function on the calling thread (Kit 110.4's carb.profiler hook) adds to every Python call."""

    def f(x: int) -> int:
        return x + 1

    best = float("inf")
    for _ in range(3):
        n, t = 0, time.thread_time_ns()
        for _ in range(HOOK_PROBE_CALLS):
            n = f(n)
        best = min(best, (time.thread_time_ns() - t) / HOOK_PROBE_CALLS)
    return best
