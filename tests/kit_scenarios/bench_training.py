"""Benchmark 9 inside real Kit (scripts/benchmarks/kit_loop.py): start-to-first-training-frame, then timed
training at No rendering driven by Kit's update loop, every app.update() timed as Kit's run loop sees it.

Settings (carb, given by the benchmark): /bench/num_envs, /bench/total_timesteps, /bench/warmup_timesteps,
/bench/torch_threads (the benchmark process's own, so both sides compute alike).
"""

from __future__ import annotations

import gc
import resource
import time

import carb.settings
import torch

MAX_FRAMES = 1_000_000


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
    start = _train(kit, ext, num_envs, total)
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
    )
