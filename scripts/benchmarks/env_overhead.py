"""1. Env overhead: the vectorized env's step() vs stepping the raw Newton solver.

Ours: ``env.step(actions)`` of Isaac-Cartpole-v0 with random actions (pre-drawn, so the RNG is not
timed). Raw: the engine alone, ``decimation`` substeps per env step, nothing else (no actions,
dones, rewards, resets or observations), two ways:

* raw engine: ``env.unwrapped.backend.step()``, i.e. exactly the engine work the env's step does
  (replay of the captured Warp graph of one Featherstone substep);
* raw ``solver.step()``: the same model, solver and control stepped the usual Newton way
  (``state.clear_forces(); solver.step(s_in, s_out, control, None, dt)``, Python kernel launches)
  on two fresh states.

Ratio = raw-engine seconds / env seconds for the same number of env steps (1.0 = no overhead).
"""

from __future__ import annotations

import time
from typing import Any

import torch
from common import interleaved, line, make_task_env, median, paired_ratio

NAME = "env_overhead"


def _backend_stepper(env) -> Any:
    """A function running ``k`` env steps' worth of bare ``backend.step()`` calls."""
    be = env.unwrapped.backend
    decimation = env.unwrapped.cfg.decimation

    def run(k: int) -> float:
        t = time.perf_counter()
        for _ in range(k * decimation):
            be.step()
        return time.perf_counter() - t

    return run


def _raw_stepper(env) -> tuple[Any, int]:
    """A function running ``k`` env steps' worth of bare ``solver.step()`` calls, and the decimation."""
    be = env.unwrapped.backend
    model, solver, control, dt = be.model, be.solver, be.control, be.physics_dt
    decimation = env.unwrapped.cfg.decimation
    states = [model.state(), model.state()]
    states[0].joint_q.assign(be.state.joint_q)
    states[0].joint_qd.assign(be.state.joint_qd)

    def run(k: int) -> float:
        t = time.perf_counter()
        for _ in range(k * decimation):
            s_in, s_out = states
            s_in.clear_forces()
            solver.step(s_in, s_out, control, None, dt)
            states.reverse()
        return time.perf_counter() - t

    return run, decimation


def measure(num_envs: int, steps: int, repeats: int) -> dict[str, Any]:
    env = make_task_env(num_envs)
    uw = env.unwrapped
    env.reset()
    gen = torch.Generator().manual_seed(0)
    actions = [torch.rand(num_envs, 1, generator=gen) * 2 - 1 for _ in range(steps)]
    raw, decimation = _raw_stepper(env)
    engine = _backend_stepper(env)

    def ours() -> float:
        t = time.perf_counter()
        for a in actions:
            uw.step(a)
        return time.perf_counter() - t

    ours(), raw(steps), engine(steps)  # warm-up (kernel loads, first allocations)
    times = interleaved({"ours": ours, "engine": lambda: engine(steps), "raw": lambda: raw(steps)}, repeats)
    env.close()
    ratio = paired_ratio(times["engine"], times["ours"])
    return {
        "num_envs": num_envs,
        "env_steps_timed": steps,
        "substeps_per_env_step": decimation,
        "ours_env_steps_per_s": num_envs * steps / median(times["ours"]),
        "engine_env_steps_per_s": num_envs * steps / median(times["engine"]),
        "raw_env_steps_per_s": num_envs * steps / median(times["raw"]),
        "ours_ms_per_step": 1e3 * median(times["ours"]) / steps,
        "engine_ms_per_step": 1e3 * median(times["engine"]) / steps,
        "raw_ms_per_step": 1e3 * median(times["raw"]) / steps,
        "ratio_ours_over_raw": ratio,
        "ratio_ours_over_raw_solver_step": paired_ratio(times["raw"], times["ours"]),
    }


def run(quick: bool) -> dict[str, Any]:
    sizes = {64: 200, 1024: 40, 4096: 10} if not quick else {64: 60, 1024: 15, 4096: 4}
    repeats = 5 if not quick else 3
    rows = [measure(n, k, repeats) for n, k in sizes.items()]
    r1024 = next(r["ratio_ours_over_raw"] for r in rows if r["num_envs"] == 1024)
    detail = "  ".join(f"{r['num_envs']}: {r['ratio_ours_over_raw']:.2f}" for r in rows)
    return {
        "rows": rows,
        "ratio": r1024,
        "target": ">= 0.8 at 1024 envs",
        "met": r1024 >= 0.8,
        "line": line("1 env overhead", f"env.step() vs raw engine, ours/raw throughput: {detail}; at 1024", r1024),
    }


def markdown(res: dict[str, Any]) -> str:
    from common import md_table

    rows = [
        [
            r["num_envs"],
            r["ours_ms_per_step"],
            r["engine_ms_per_step"],
            r["raw_ms_per_step"],
            r["ours_env_steps_per_s"],
            r["engine_env_steps_per_s"],
            f"**{r['ratio_ours_over_raw']:.2f}**",
            f"{r['ratio_ours_over_raw_solver_step']:.2f}",
        ]
        for r in res["rows"]
    ]
    return md_table(
        [
            "num_envs",
            "env.step() ms",
            "raw engine ms",
            "raw solver.step() ms",
            "env steps/s (ours)",
            "env steps/s (raw engine)",
            "ours / raw engine",
            "ours / raw solver.step()",
        ],
        rows,
    )
