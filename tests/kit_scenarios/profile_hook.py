"""Probe scenario (not a test; ``scripts/benchmarks/kit_profile_hook.py`` runs it): can the profile hook that Kit
110.4's ``carb.profiler`` binding sets on Kit's main thread be put back once ``sys.setprofile(None)`` has removed
it? docs/benchmarks.md, comparison 9's section.

On Kit's main thread it removes the hook, then runs every ``carb.profiler`` binding call that could put it back,
each followed by a reading: the thread state's profile function (read through ctypes: CPython 3.12's
``PyThreadState`` layout, checked at start against ``sys.setprofile``; a probe, never product code) named with
``dladdr``, and the thread CPU nanoseconds of a trivial Python call (``common.call_ns``, as benchmark 9 prices the
hook). Then the same on a fresh thread, what a capture records of the main thread's Python calls with and without
the hook, and what another live thread holding the hook costs the main thread's calls.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import call_ns  # noqa: E402

#: CPython 3.12's PyThreadState: offsets of c_profilefunc and c_profileobj (x86_64)
FUNC_OFFSET, OBJ_OFFSET = 64, 80


class _DlInfo(ctypes.Structure):
    _fields_ = [
        ("fname", ctypes.c_char_p),
        ("fbase", ctypes.c_void_p),
        ("sname", ctypes.c_char_p),
        ("saddr", ctypes.c_void_p),
    ]


def _thread_state() -> int:
    get = ctypes.pythonapi.PyThreadState_Get
    get.restype = ctypes.c_void_p
    return int(get())


def hook() -> str | None:
    """The calling thread's C-level profile function as ``library+offset`` (None: no profile function)."""
    func = ctypes.c_void_p.from_address(_thread_state() + FUNC_OFFSET).value
    if not func:
        return None
    info = _DlInfo()
    if not ctypes.CDLL(None).dladdr(ctypes.c_void_p(func), ctypes.byref(info)):
        return hex(func)
    return f"{Path((info.fname or b'').decode()).name}+{func - (info.fbase or 0):#x}"


def check_layout() -> None:
    """The offsets are this interpreter's: on a thread of its own (``sys.setprofile`` would replace the hook on
    this one), ``sys.setprofile(f)`` puts ``f`` at OBJ_OFFSET."""
    found: list[int | None] = []

    def probe(*_: Any) -> None:
        return None

    def worker() -> None:
        sys.setprofile(probe)
        found.append(ctypes.c_void_p.from_address(_thread_state() + OBJ_OFFSET).value)
        sys.setprofile(None)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert found == [id(probe)], f"PyThreadState layout differs from CPython 3.12's ({sys.version})"


def _marker(x: int) -> int:
    return x + 1


def _zone_names(events: Any, out: set[str]) -> set[str]:
    for event in events:
        out.add(str(event.get("name", "")))
        _zone_names(event.get("children", ()) or (), out)
    return out


def _capture(kit: Any, profiler: Any, monitor: Any, python_profiling: bool) -> dict[str, Any]:
    """What a capture (mask all ones) with ``python_profiling`` records of 50 ``_marker`` calls on this thread:
    whether they are there, and how many zone names it holds in all."""
    profiler.set_python_profiling_enabled(python_profiling)
    old = profiler.set_capture_mask(0xFFFF_FFFF_FFFF_FFFF)
    kit.update(1)  # in this probe, no zone was recorded before an app update had run with the new mask
    monitor.mark_frame_end()
    for i in range(50):
        _marker(i)
    monitor.mark_frame_end()
    events = monitor.get_last_profile_events()
    profiler.set_capture_mask(old)
    profiler.set_python_profiling_enabled(False)
    names: set[str] = set()
    for tid in events.get_profile_thread_ids():
        _zone_names(events.get_profile_events(tid), names)
    return {"marker_calls_seen": any(_marker.__name__ in name for name in names), "zone_names": len(names)}


def scenario(kit: Any) -> None:
    import importlib

    import carb.profiler as cp

    check_layout()
    res, p = kit.result, cp.acquire_profiler_interface()
    monitor = cp.acquire_profile_monitor_interface()
    main: list[dict[str, Any]] = []

    def read(after: str, into: list[dict[str, Any]] = main) -> None:
        into.append({"after": after, "hook": hook(), "call_ns": round(call_ns(), 1)})

    # what the hook is for: a capture records the main thread's Python calls only with Python profiling on
    res["capture_records_python_calls"] = {
        "hook, Python profiling off": _capture(kit, p, monitor, False),
        "hook, Python profiling on": _capture(kit, p, monitor, True),
    }
    read("as Kit runs")
    sys.setprofile(None)
    read("sys.setprofile(None)")
    kit.update(3)
    read("3 app updates")
    cp.begin(1, "probe")
    cp.end(1)
    read("carb.profiler.begin() / end()")
    cp.begin_with_location(1, "probe", "f", "f.py", 1)
    cp.end(1)
    read("begin_with_location() / end()")
    p.ensure_thread()
    read("IProfiler.ensure_thread()")
    p.begin(1, "probe")
    p.end(1)
    read("IProfiler.begin() / end()")
    p.set_python_profiling_enabled(True)
    p.ensure_thread()
    kit.update(3)
    read("set_python_profiling_enabled(True), ensure_thread(), 3 app updates")
    old = p.set_capture_mask(0xFFFF_FFFF_FFFF_FFFF)
    kit.update(3)
    cp.begin(1, "probe")
    cp.end(1)
    read("set_capture_mask(all ones), 3 app updates, begin() / end()")
    p.set_capture_mask(old)
    p.set_python_profiling_enabled(False)
    read("capture mask back, Python profiling off")
    p.frame(1, "probe")
    p.instant(1, cp.InstantType.THREAD, "probe")
    p.value_float(1, 1.0, "probe")
    read("frame(), instant(), value_float()")
    cp.acquire_profiler_interface().ensure_thread()
    read("a new acquire_profiler_interface().ensure_thread()")
    importlib.reload(cp)
    read("importlib.reload(carb.profiler)")
    p.startup()
    read("IProfiler.startup()")
    # CPython 3.12 instruments code for the whole interpreter while any thread has a profile function: a live
    # thread that got the hook at a collection (Kit's gc callback opens a zone) makes the main thread's calls
    # dearer too, although the main thread has none
    holding, done = threading.Event(), threading.Event()
    other: list[str | None] = []

    def collector() -> None:
        gc.collect()
        other.append(hook())
        holding.set()
        done.wait()

    thread = threading.Thread(target=collector)
    thread.start()
    holding.wait()
    read(f"another live thread ran gc.collect() (its profile function: {other[0]})")
    done.set()
    thread.join()
    sys.setprofile(None)  # a profile change: CPython works out the instrumentation again
    read("that thread ended, sys.setprofile(None)")
    res["main_thread"] = main
    res["capture_records_python_calls"]["hook removed, Python profiling on"] = _capture(kit, p, monitor, True)

    fresh: list[dict[str, Any]] = []

    def worker() -> None:
        read("a new thread", fresh)
        cp.begin(1, "probe")
        cp.end(1)
        read("carb.profiler.begin() / end()", fresh)
        sys.setprofile(None)
        read("sys.setprofile(None)", fresh)
        cp.begin(1, "probe")
        cp.end(1)
        p.ensure_thread()
        read("begin() / end(), ensure_thread()", fresh)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    res["fresh_thread"] = fresh
