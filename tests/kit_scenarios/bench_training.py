"""Benchmark 9 inside real Kit (scripts/benchmarks/kit_loop.py): start-to-first-training-frame, then timed
training at No rendering driven by Kit's update loop, every app.update() timed as Kit's run loop sees it.

Settings (carb, given by the benchmark): /bench/num_envs, /bench/total_timesteps, /bench/warmup_timesteps,
/bench/torch_threads (the benchmark process's own, so both sides compute alike), /bench/clear_profile_hook
(diagnostic: ``sys.setprofile(None)`` before the timed run, which removes the C-level profile function that
Kit 110.4's ``carb.profiler`` Python binding sets on Kit's main thread, so that the benchmark can say what that
hook costs; Kit itself never runs so).

Besides the timing, each run measures what the process's CPU time went to: the learner (``run_frame``: env
steps and PPO), the rest of each ``app.update()`` (Kit's own per-frame work, the extension's handler, the
panel state), Kit's other threads by name (``/proc/self/task``), and, at its end, what the profile hook
costs a plain Python call (the same loop timed before and after ``sys.setprofile(None)``).
"""

from __future__ import annotations

import gc
import os
import resource
import sys
import time

import carb.settings
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import call_ns  # noqa: E402

MAX_FRAMES = 1_000_000


def _thread_cpu_s() -> dict[str, tuple[str, float]]:
    """CPU seconds of each of this process's threads so far: ``{tid: (name, seconds)}`` (Linux /proc; Kit's
    main thread, the one running this scenario and the update loop, is named ``main``)."""
    tick, main = os.sysconf("SC_CLK_TCK"), str(os.getpid())
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        out[tid] = ("main" if tid == main else name, (int(fields[11]) + int(fields[12])) / tick)  # utime + stime
    return out


def _threads_cpu_since(before: dict[str, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds per thread name since ``before`` (threads of the same name summed)."""
    spent: dict[str, float] = {}
    for tid, (name, cpu) in _thread_cpu_s().items():
        spent[name] = spent.get(name, 0.0) + cpu - before.get(tid, (name, 0.0))[1]
    return {name: s for name, s in sorted(spent.items(), key=lambda kv: -kv[1]) if s > 0}


def _state(ext) -> str:
    session = ext.view_model.session
    return "IDLE" if session is None else session.status.state.value


def _train(kit, ext, num_envs: int, total: int) -> float:
    """Build, Start at No rendering; returns perf_counter() at Start."""
    standins, win = kit.standins, ext.window
    standins.choose(win.render_combo, 0)  # No rendering
    win.num_envs_model.set_value(num_envs)
    standins.click("Build")
    assert _state(ext) == "BUILT", ext.view_model.refresh().status_line
    win.total_model.set_value(str(total))
    start = time.perf_counter()
    standins.click("Start")
    assert _state(ext) == "TRAINING", ext.view_model.refresh().status_line
    return start


def scenario(kit) -> None:
    settings = carb.settings.get_settings()
    num_envs = int(settings.get("/bench/num_envs"))
    total = int(settings.get("/bench/total_timesteps"))
    warmup = int(settings.get("/bench/warmup_timesteps"))
    torch.set_num_threads(int(settings.get("/bench/torch_threads")))
    res = kit.result
    ext = kit.extension()

    # start-to-first-training-frame: from before KitApp() to the first update whose training advanced
    _train(kit, ext, num_envs, warmup)
    kit.update_until(lambda: ext.view_model.session.status.timesteps > 0, max_frames=MAX_FRAMES)
    res["first_training_frame_s"] = time.perf_counter() - kit.t0
    kit.update_until(lambda: _state(ext) == "DONE", max_frames=MAX_FRAMES)
    # the warm-up session's garbage (cycles through its env, model and widgets) is collected now, not during
    # the timed run; the benchmark does the same before each timed direct run
    ext.view_model.close_session()
    gc.collect()

    # timed run: Start -> DONE, each app.update() timed (full collections counted, as benchmark 4 does)
    full = [0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "stop" and info["generation"] == 2:
            full[0] += 1

    update_ms, update_cpu_ms, with_gc, steps_at = [], [], [], []
    if settings.get("/bench/clear_profile_hook"):
        sys.setprofile(None)
    start = _train(kit, ext, num_envs, total)
    learner_cpu = _time_learner(ext.view_model.session._learner)
    threads = _thread_cpu_s()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    in_standins, in_solver = kit.standins.world.call_s, kit.standins.simulate_s
    gc.callbacks.append(on_gc)
    try:
        while _state(ext) == "TRAINING":
            g, t, c = full[0], time.perf_counter(), time.thread_time()
            kit.update()
            update_ms.append(1e3 * (time.perf_counter() - t))
            update_cpu_ms.append(1e3 * (time.thread_time() - c))
            with_gc.append(full[0] > g)
            steps_at.append(ext.view_model.session.status.timesteps)
    finally:
        gc.callbacks.remove(on_gc)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    threads_cpu = _threads_cpu_since(threads)
    in_standins, in_solver = kit.standins.world.call_s - in_standins, kit.standins.simulate_s - in_solver
    process_cpu_s = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    status = ext.view_model.session.status
    assert status.state.value == "DONE", status.error
    slowest = sorted(range(len(update_ms)), key=update_ms.__getitem__)[-5:]
    res.update(
        slowest_updates=[(i, update_ms[i], update_cpu_ms[i], steps_at[i]) for i in slowest],
        update_cpu_ms=update_cpu_ms,
        main_thread_cpu_s=sum(update_cpu_ms) / 1e3,
        process_cpu_s=process_cpu_s,
        standin_s=in_standins,
        solver_s=in_solver,
        seconds=seconds,
        timesteps=status.timesteps,
        update_ms=update_ms,
        update_with_full_gc=with_gc,
        frame_budget_ms=ext.view_model.session.frame_budget_s * 1e3,
        learner_cpu_s=learner_cpu[0],
        threads_cpu_s=threads_cpu,
    )
    # the profile hook's price, measured last (clearing it cannot touch the timed run any more)
    res["call_ns_as_run"] = call_ns()
    sys.setprofile(None)
    res["call_ns_without_hook"] = call_ns()


def _time_learner(learner) -> list[float]:
    """Wrap ``learner.run_frame`` so that its thread CPU seconds add up in the returned one-item list."""
    spent, run_frame = [0.0], learner.run_frame

    def timed(*args, **kwargs):
        t = time.thread_time()
        try:
            return run_frame(*args, **kwargs)
        finally:
            spent[0] += time.thread_time() - t

    learner.run_frame = timed
    return spent
