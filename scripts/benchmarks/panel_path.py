"""4. Panel path: training driven by ``TrainingSession.update()`` at NO_RENDERING (a plain
``while`` loop standing in for Kit's update event) vs train.py's direct path (``make_env`` +
``setup_training`` + ``run_learning``), same seed and budget, alternating rounds.

Both are timed from creating the agent (``start_training`` / ``setup_training``) to the end of
learning (state DONE / ``run_learning`` returned). Ratio = session steps/s / direct steps/s. Every
``update()`` call is timed too: its max and p99 against the session's frame budget.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from common import FRAME_BUDGET_MS, agent_cfg, env_cfg, interleaved, line, md_table, median, paired_ratio, pct

NAME = "panel_path"
NUM_ENVS = 64
SEED = 42


def direct(total: int) -> tuple[float, int]:
    from isaaclab_trainer.train.trainer import make_env, run_learning, setup_training

    cfg, acfg = env_cfg(NUM_ENVS, SEED), agent_cfg(SEED)
    env = make_env("Isaac-Cartpole-v0", cfg)
    run_dir = Path(tempfile.mkdtemp(prefix="bench_direct_"))
    t = time.perf_counter()
    setup = setup_training(env, "Isaac-Cartpole-v0", cfg, acfg, run_dir, total_timesteps=total, summary_write=None)
    run_learning(setup)
    sec = time.perf_counter() - t
    env.close()
    return sec, setup.agent.num_timesteps


def session(total: int, update_ms: list[float]) -> tuple[float, int]:
    from isaaclab_trainer.session import RenderMode, SessionState, TrainingSession

    s = TrainingSession(
        "Isaac-Cartpole-v0",
        num_envs=NUM_ENVS,
        seed=SEED,
        log_root=tempfile.mkdtemp(prefix="bench_session_"),
        frame_budget_ms=FRAME_BUDGET_MS,
    )
    s.build()
    s.set_render_mode(RenderMode.NO_RENDERING)
    t = time.perf_counter()
    s.start_training(total_timesteps=total)
    while s.status.state in (SessionState.TRAINING,):
        u = time.perf_counter()
        s.update()
        update_ms.append(1e3 * (time.perf_counter() - u))
    sec = time.perf_counter() - t
    st = s.status
    if st.state != SessionState.DONE:
        raise RuntimeError(f"session ended in {st.state}: {st.error}")
    s.close()
    return sec, st.timesteps


def run(quick: bool) -> dict[str, Any]:
    total = 16 * NUM_ENVS * (12 if quick else 60)
    repeats = 2 if quick else 3
    update_ms: list[float] = []
    steps: dict[str, int] = {}

    def timed(name, fn):
        def go() -> float:
            sec, n = fn()
            steps[name] = n
            return n / sec

        return go

    rates = interleaved(
        {
            "session": timed("session", lambda: session(total, update_ms)),
            "direct": timed("direct", lambda: direct(total)),
        },
        repeats,
    )
    ratio = paired_ratio(rates["session"], rates["direct"])
    over = sum(1 for u in update_ms if u > FRAME_BUDGET_MS)
    res = {
        "num_envs": NUM_ENVS,
        "timesteps_per_run": total,
        "timesteps_done": steps,
        "rounds": repeats,
        "session_steps_per_s": median(rates["session"]),
        "direct_steps_per_s": median(rates["direct"]),
        "session_all": rates["session"],
        "direct_all": rates["direct"],
        "ratio": ratio,
        "frame_budget_ms": FRAME_BUDGET_MS,
        "update_calls": len(update_ms),
        "update_ms_median": median(update_ms),
        "update_ms_p99": pct(update_ms, 99),
        "update_ms_max": max(update_ms),
        "update_calls_over_budget": over,
        "target": "ratio >= 0.95",
        "met": ratio >= 0.95,
    }
    res["line"] = line(
        "4 panel path",
        f"TrainingSession.update() NO_RENDERING {res['session_steps_per_s']:,.0f} vs train.py path "
        f"{res['direct_steps_per_s']:,.0f} steps/s; update() p99 {res['update_ms_p99']:.1f} ms, "
        f"max {res['update_ms_max']:.1f} ms (budget {FRAME_BUDGET_MS:.0f} ms) (session/direct)",
        ratio,
    )
    return res


def markdown(res: dict[str, Any]) -> str:
    a = md_table(
        ["path (64 envs, seed 42)", "env steps/s", "ratio"],
        [
            ["TrainingSession.update() loop, NO_RENDERING", res["session_steps_per_s"], f"**{res['ratio']:.2f}**"],
            ["train.py path (make_env + setup_training + run_learning)", res["direct_steps_per_s"], "1.00"],
        ],
    )
    b = md_table(
        ["update() calls", "median ms", "p99 ms", "max ms", "frame budget ms", "calls over budget"],
        [
            [
                res["update_calls"],
                f"{res['update_ms_median']:.1f}",
                f"{res['update_ms_p99']:.1f}",
                f"{res['update_ms_max']:.1f}",
                f"{res['frame_budget_ms']:.0f}",
                res["update_calls_over_budget"],
            ]
        ],
    )
    return a + "\n\nTime per single `update()` call (all rounds):\n\n" + b
