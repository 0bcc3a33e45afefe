"""9. Real Kit's update loop: training driven by Kit 110.4's own update events (the extension enabled by Kit's
extension manager, ``tests/kit_harness.py``, stand-ins for the Kit SDK extensions, Newton behind the tensor
views) at No rendering vs train.py's direct path (``make_env`` + ``setup_training`` + ``run_learning``, in this
process), same seed, env count and budget, alternating rounds (Kit, direct, direct, Kit ...).

Each Kit round is a fresh Kit process: it starts, Build and Start are clicked at once (a warm-up run, which
also gives the start-to-first-training-frame time: from before ``KitApp()`` to the first app update whose
training advanced), then the timed run, from Start to DONE, with every ``app.update()`` timed as Kit's run
loop sees it (the session's frame budget of env steps plus Kit's own work). The direct side gets one untimed
warm-up in this process. Both sides start their timed run after a full garbage collection. Ratio = Kit
steps/s / direct steps/s. Needs Python 3.12 (the Kit kernel wheel).

The Kit side runs Kit as Isaac Sim ships it: Isaac Sim's app files (``isaacsim.exp.base.kit``,
``isaacsim.exp.base.python.kit``) set no profiler setting and ``SimulationApp`` passes ``/app/profilerBackend``
only when its ``profiler_backend`` list names tracy or nvtx (default ``[]``), so the kernel's default backend
(``mux`` over ``cpu``, compiled into ``libomni.kit.app.plugin.so``) loads, with its ``Profiler processing``
thread. A third, diagnostic side runs the same Kit round without Kit's profiler: ``--/app/profilerBackend=``
(explicitly empty: "Not loading a profiler due to explicitly empty setting key `/app/profilerBackend`", the
kernel's own message; a user can pass it, e.g. in SimulationApp's ``extra_args``) and the profile function that
Kit 110.4's ``carb.profiler`` Python binding sets on Kit's main thread removed (``sys.setprofile(None)`` before
the timed run; no setting removes it). The side says how much of the gap Kit's profiler is. Each Kit round also
reports where its process's CPU time went (the learner, the rest of ``app.update()``, Kit's other threads by
name) and what the hook costs one Python call.
"""

from __future__ import annotations

import gc
import os
import resource
import sys
import tempfile
from pathlib import Path
from typing import Any

import common
import torch
from common import interleaved, line, md_table, median, paired_ratio, pct, steps_per_s
from panel_path import NUM_ENVS, direct

TESTS = Path(__file__).resolve().parents[2] / "tests"
sys.path.insert(0, str(TESTS))
import kit_harness  # noqa: E402

NAME = "kit_loop"
TARGET_RATIO = 0.9
SCENARIO = TESTS / "kit_scenarios" / "bench_training.py"
#: the name (Linux comm, 15 characters) of Kit 110.4's carb profiler thread ("Profiler processing", started by
#: carb.profiler-cpu.plugin, which Kit's default /app/profilerBackend loads), which runs whatever the capture mask
PROFILER_THREAD = "Profiler proces"
#: Kit's settings for the diagnostic side: no profiler backend loaded (the empty value is Kit's documented way,
#: logged by the kernel as "Not loading a profiler due to explicitly empty setting key `/app/profilerBackend`")
NO_PROFILER = {"/app/profilerBackend": ""}
#: ns of a trivial call without the main thread's hook above which another thread still holds one (about 50 ns
#: when none does, about 100 ns while one does)
HOOK_HELD_NS = 80


def direct_round(total: int, cpu_s: list[float]) -> tuple[float, int]:
    """train.py's path after a full garbage collection (earlier runs' garbage is not collected inside the timed
    run; the Kit side does the same after its warm-up); its process CPU seconds are appended to ``cpu_s``."""
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF)
    sec, steps = direct(total)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return sec, steps


def kit_round(
    python: Path, total: int, warmup: int, rounds: list[dict[str, Any]], no_profiler: bool = False
) -> tuple[float, int]:
    """One Kit process: warm-up run, then the timed run; its facts are appended to ``rounds``
    (``no_profiler``: the diagnostic side, see the module docstring)."""
    run = kit_harness.run_kit(
        python,
        SCENARIO,
        Path(tempfile.mkdtemp(prefix="bench_kit_")),
        settings={
            "/bench/num_envs": NUM_ENVS,
            "/bench/total_timesteps": total,
            "/bench/warmup_timesteps": warmup,
            "/bench/torch_threads": torch.get_num_threads(),
            "/bench/clear_profile_hook": no_profiler,
            **(NO_PROFILER if no_profiler else {}),
        },
    )
    run.check()
    res = run.scenario
    rounds.append({**res, "startup_s": run.timings["startup_s"]})
    return res["seconds"], res["timesteps"]


def run(quick: bool) -> dict[str, Any]:
    reason = kit_harness.kit_skip_reason()
    if reason is not None:
        raise RuntimeError(f"comparison 9 needs real Kit: {reason}")
    python = kit_harness.ensure_kit_python()
    load_at_start = os.getloadavg()[0]
    total = 16 * NUM_ENVS * (12 if quick else 40)
    warmup = 16 * NUM_ENVS
    repeats = 2 if quick else 4
    steps: dict[str, int] = {}
    rounds: list[dict[str, Any]] = []
    no_profiler_rounds: list[dict[str, Any]] = []
    direct_cpu: list[float] = []
    direct(warmup)  # warm-up: first-use costs count for neither side
    rates = interleaved(
        {
            "kit": steps_per_s("kit", lambda: kit_round(python, total, warmup, rounds), steps),
            "direct": steps_per_s("direct", lambda: direct_round(total, direct_cpu), steps),
            "kit_no_profiler": steps_per_s(
                "kit_no_profiler", lambda: kit_round(python, total, warmup, no_profiler_rounds, no_profiler=True), steps
            ),
        },
        repeats,
        alternate=True,
    )
    update_ms = [u for r in rounds for u in r["update_ms"]]
    with_gc = [g for r in rounds for g in r["update_with_full_gc"]]
    ratio = paired_ratio(rates["kit"], rates["direct"])
    first = [r["first_training_frame_s"] for r in rounds]
    # env steps per CPU second of the whole process (Kit's own threads included): what the work costs, which a
    # loaded machine's scheduling does not change the way it changes wall time
    kit_per_cpu = [r["timesteps"] / r["process_cpu_s"] for r in rounds]
    direct_per_cpu = [total / c for c in direct_cpu]
    cpu_ratio = paired_ratio(kit_per_cpu, direct_per_cpu)
    no_profiler_per_cpu = [r["timesteps"] / r["process_cpu_s"] for r in no_profiler_rounds]
    res = {
        "num_envs": NUM_ENVS,
        "timesteps_per_run": total,
        "timesteps_done": steps,
        "rounds": repeats,
        "kit": kit_harness.KIT_REQUIREMENT,
        "kit_steps_per_s": median(rates["kit"]),
        "direct_steps_per_s": median(rates["direct"]),
        "kit_all": rates["kit"],
        "direct_all": rates["direct"],
        "ratio": ratio,
        # wall seconds of the timed Kit runs inside stand-in calls, and of those in Newton's solver steps (the
        # physics the direct side does too): the rest of the stand-in time is the doubles' and the Kit shell's
        # tensor-view path (clones, full-buffer writes), which in Isaac Sim are NVIDIA's PhysX tensor API
        "kit_seconds_all": [r["seconds"] for r in rounds],
        "standin_s_all": [r["standin_s"] for r in rounds],
        "solver_s_all": [r["solver_s"] for r in rounds],
        "kit_steps_per_cpu_s": median(kit_per_cpu),
        "direct_steps_per_cpu_s": median(direct_per_cpu),
        "cpu_ratio": cpu_ratio,
        "kit_no_profiler_steps_per_s": median(rates["kit_no_profiler"]),
        "kit_no_profiler_all": rates["kit_no_profiler"],
        "ratio_no_profiler": paired_ratio(rates["kit_no_profiler"], rates["direct"]),
        "kit_no_profiler_steps_per_cpu_s": median(no_profiler_per_cpu),
        "cpu_ratio_no_profiler": paired_ratio(no_profiler_per_cpu, direct_per_cpu),
        # CPU seconds of one timed run (medians over the Kit rounds as Kit runs, and of the direct runs)
        "cpu_split_s": cpu_split(rounds),
        "cpu_split_no_profiler_s": cpu_split(no_profiler_rounds),
        "direct_cpu_s": median(direct_cpu),
        "call_ns_as_run": median([r["call_ns_as_run"] for r in rounds]),
        "call_ns_without_hook": median([r["call_ns_without_hook"] for r in rounds]),
        "frame_budget_ms": rounds[0]["frame_budget_ms"],
        "update_calls": len(update_ms),
        "update_ms_median": median(update_ms),
        "update_ms_p99": pct(update_ms, 99),
        "update_ms_max": max(update_ms),
        "update_calls_with_full_gc": sum(with_gc),
        "update_ms_max_without_full_gc": max((u for u, g in zip(update_ms, with_gc, strict=True) if not g), default=0),
        "kit_startup_s_median": median([r["startup_s"] for r in rounds]),
        "first_training_frame_s_median": median(first),
        "first_training_frame_s_all": first,
        "machine": common.machine(),  # Python 3.12, unlike the other comparisons' runs
        "load_avg_1m_at_start": load_at_start,
        "load_avg_1m_at_end": os.getloadavg()[0],
        "target": f"ratio >= {TARGET_RATIO}",
        "met": ratio >= TARGET_RATIO,
    }
    res["line"] = line(
        "9 kit loop",
        f"real Kit 110.4 update loop No rendering {res['kit_steps_per_s']:,.0f} vs train.py path "
        f"{res['direct_steps_per_s']:,.0f} steps/s; app.update() p99 {res['update_ms_p99']:.1f} / max "
        f"{res['update_ms_max']:.1f} ms (budget {res['frame_budget_ms']:.0f}); Kit start to first training frame "
        f"{res['first_training_frame_s_median']:.1f} s; per CPU second {cpu_ratio:.2f} (kit/direct)",
        ratio,
    )
    return res


def cpu_split(rounds: list[dict[str, Any]]) -> dict[str, float]:
    """Median CPU seconds of a timed Kit run by where they went: the learner (env steps, PPO), the rest of
    ``app.update()`` on the main thread, Kit's profiler thread, every other thread, and the whole process."""

    def other(r: dict[str, Any]) -> float:
        return sum(s for name, s in r["threads_cpu_s"].items() if name not in ("main", PROFILER_THREAD))

    return {
        "learner": median([r["learner_cpu_s"] for r in rounds]),
        "rest of app.update()": median([r["main_thread_cpu_s"] - r["learner_cpu_s"] for r in rounds]),
        "Kit's profiler thread": median([r["threads_cpu_s"].get(PROFILER_THREAD, 0.0) for r in rounds]),
        "other threads": median([other(r) for r in rounds]),
        "process": median([r["process_cpu_s"] for r in rounds]),
    }


def markdown(res: dict[str, Any]) -> str:
    a = md_table(
        [f"path ({res['num_envs']} envs, seed 42, No rendering)", "env steps/s", "ratio"],
        [
            [
                "real Kit 110.4: extension's update observer, Kit's app.update()",
                res["kit_steps_per_s"],
                f"**{res['ratio']:.2f}**",
            ],
            ["train.py path (make_env + setup_training + run_learning)", res["direct_steps_per_s"], "1.00"],
            [
                "diagnostic: real Kit 110.4 without its profiler (``--/app/profilerBackend=``, profile hook removed)",
                res["kit_no_profiler_steps_per_s"],
                f"{res['ratio_no_profiler']:.2f}",
            ],
        ],
    )
    share = md_table(
        ["timed Kit runs, wall s", "total", "inside stand-in calls", "of which Newton's solver steps"],
        [
            [
                "median over rounds",
                f"{median(res['kit_seconds_all']):.1f}",
                f"{median(res['standin_s_all']):.1f}",
                f"{median(res['solver_s_all']):.1f}",
            ]
        ],
    )
    cpu = md_table(
        ["same runs, per CPU second of the whole process", "env steps / CPU s", "ratio"],
        [
            ["real Kit 110.4 (Kit's own threads included)", res["kit_steps_per_cpu_s"], f"**{res['cpu_ratio']:.2f}**"],
            ["train.py path", res["direct_steps_per_cpu_s"], "1.00"],
            [
                "diagnostic: Kit without its profiler",
                res["kit_no_profiler_steps_per_cpu_s"],
                f"{res['cpu_ratio_no_profiler']:.2f}",
            ],
        ],
    )
    cols = list(res["cpu_split_s"])
    direct_cpu = f"{res['direct_cpu_s']:.2f}"
    split = md_table(
        ["CPU s of one timed run (median over rounds)", *cols],
        [
            ["real Kit 110.4", *(f"{res['cpu_split_s'][k]:.2f}" for k in cols)],
            ["Kit without its profiler (diagnostic)", *(f"{res['cpu_split_no_profiler_s'][k]:.2f}" for k in cols)],
            ["train.py path (one thread does it all)", direct_cpu, "", "", "", direct_cpu],
        ],
    )
    held = (
        "; about 100 ns rather than 50 while another Python thread in Kit holds the hook, as the runs-list scanner "
        "does after a collection: CPython keeps the code instrumented while any thread has a profile function"
        if res["call_ns_without_hook"] > HOOK_HELD_NS
        else ""
    )
    hook = (
        f"A call of a trivial Python function on Kit's main thread costs {res['call_ns_as_run']:.0f} ns of CPU as "
        f"Kit runs it and {res['call_ns_without_hook']:.0f} ns once ``sys.setprofile(None)`` has removed the "
        f"main thread's profile hook (median over the Kit rounds, measured after each timed run{held})."
    )
    b = md_table(
        [
            "app.update() as Kit's loop sees it",
            "median ms",
            "p99 ms",
            "max ms",
            "max without full GC ms",
            "calls with a full GC",
            "env steps per call",
        ],
        [
            [
                f"{res['update_calls']} calls, frame budget {res['frame_budget_ms']:.0f} ms",
                f"{res['update_ms_median']:.1f}",
                f"**{res['update_ms_p99']:.1f}**",
                f"**{res['update_ms_max']:.1f}**",
                f"{res['update_ms_max_without_full_gc']:.1f}",
                res["update_calls_with_full_gc"],
                f"{res['rounds'] * res['timesteps_per_run'] / res['update_calls']:.0f}",
            ]
        ],
    )
    c = md_table(
        ["Kit start", "median s", "all rounds s"],
        [
            ["KitApp.startup() (extensions enabled, imports)", f"{res['kit_startup_s_median']:.1f}", ""],
            [
                "start to first training frame (KitApp() -> Build 64 -> Start -> first update that trained)",
                f"**{res['first_training_frame_s_median']:.1f}**",
                ", ".join(f"{s:.1f}" for s in res["first_training_frame_s_all"]),
            ],
        ],
    )
    load = (
        f"Load average (1 min) {res['load_avg_1m_at_start']:.1f} at the start of this comparison, "
        f"{res['load_avg_1m_at_end']:.1f} at its end, on {os.cpu_count()} cores; Python "
        f"{res['machine']['python']}, torch {res['machine']['torch']} on both sides."
    )
    note = (
        "The Kit side trains through the Kit shell's PhysX backend (``kit/backends.py``: tensor views, a clone per "
        "read, full-buffer writes per reset) over the ``omni.physics.tensors`` stand-in, which steps this "
        "project's Newton backend; the direct side steps the same Newton backend through zero-copy views. The "
        "ratio therefore holds Kit's loop, the shell's tensor-view path and the stand-ins, against train.py."
    )
    return "\n\n".join([load, a, cpu, split, hook, share, note, b, c])
