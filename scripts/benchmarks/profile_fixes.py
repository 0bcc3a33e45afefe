"""6. Before/after of the profile-driven hot-path fixes, measured side by side in one run.

"before" switches the fixes off on a freshly built env (NewtonBackend without its captured
substep graphs, i.e. ~15 Python ``wp.launch`` calls per substep, and with an eager ``eval_fk``
launch in every reset), "after" is the shipped code. Both give bit-identical trajectories
(checked here on the observations of every step). Ratio printed: training steps/s after / before.
"""

from __future__ import annotations

import time
from typing import Any

import torch
from common import Clock, interleaved, line, make_task_env, md_table, median, paired_ratio, setup_ours

NAME = "profile_fixes"


def disable_fixes(env) -> None:
    be = env.unwrapped.backend
    be._graphs = None  # Python launches through solver.step() every substep
    be.solver_name = "featherstone (eager fk)"  # write_joint_state runs eval_fk at once, as before


def env_ms(num_envs: int, steps: int, repeats: int) -> dict[str, Any]:
    envs = {"after": make_task_env(num_envs), "before": make_task_env(num_envs)}
    disable_fixes(envs["before"])
    gen = torch.Generator().manual_seed(0)
    actions = [torch.rand(num_envs, 1, generator=gen) * 2 - 1 for _ in range(steps)]
    identical = True
    obs = {k: e.reset()[0]["policy"] for k, e in envs.items()}
    identical &= torch.equal(obs["after"], obs["before"])
    for a in actions:  # warm-up and identity check
        out = {k: e.unwrapped.step(a) for k, e in envs.items()}
        identical &= torch.equal(out["after"][0]["policy"], out["before"][0]["policy"])

    def timer(env):
        def go() -> float:
            t = time.perf_counter()
            for a in actions:
                env.unwrapped.step(a)
            return 1e3 * (time.perf_counter() - t) / steps

        return go

    ms = interleaved({k: timer(e) for k, e in envs.items()}, repeats)
    for e in envs.values():
        e.close()
    return {
        "num_envs": num_envs,
        "before_ms": median(ms["before"]),
        "after_ms": median(ms["after"]),
        "speedup": paired_ratio(ms["before"], ms["after"]),
        "bit_identical": bool(identical),
    }


def train_rate(fixes: bool, total: int) -> float:
    clock = Clock()
    setup = setup_ours(64, total, callbacks=[clock])
    if not fixes:
        disable_fixes(setup.vec_env.unwrapped_env)
    setup.agent.learn(total_timesteps=total, callback=setup.callbacks, reset_num_timesteps=True)
    setup.vec_env.close()
    return clock.steps_per_s


def run(quick: bool) -> dict[str, Any]:
    rows = [env_ms(64, 100 if not quick else 40, 5 if not quick else 3), env_ms(1024, 20 if not quick else 8, 3)]
    total = 1024 * (30 if not quick else 10)
    rates = interleaved(
        {"after": lambda: train_rate(True, total), "before": lambda: train_rate(False, total)}, 3 if not quick else 2
    )
    ratio = paired_ratio(rates["after"], rates["before"])
    return {
        "env_rows": rows,
        "train_before_steps_per_s": median(rates["before"]),
        "train_after_steps_per_s": median(rates["after"]),
        "train_all": rates,
        "ratio": ratio,
        "line": line(
            "6 profile fixes",
            f"env.step() at 64 envs {rows[0]['before_ms']:.2f} -> {rows[0]['after_ms']:.2f} ms, at 1024 "
            f"{rows[1]['before_ms']:.1f} -> {rows[1]['after_ms']:.1f} ms (bit-identical: "
            f"{rows[0]['bit_identical'] and rows[1]['bit_identical']}); PPO 64 envs {median(rates['before']):,.0f} -> "
            f"{median(rates['after']):,.0f} steps/s (after/before)",
            ratio,
        ),
    }


def markdown(res: dict[str, Any]) -> str:
    rows = [
        [
            f"env.step(), {r['num_envs']} envs (ms)",
            f"{r['before_ms']:.2f}",
            f"{r['after_ms']:.2f}",
            f"**{r['speedup']:.2f}x**",
            "yes" if r["bit_identical"] else "NO",
        ]
        for r in res["env_rows"]
    ]
    rows.append(
        [
            "PPO training, 64 envs (env steps/s)",
            res["train_before_steps_per_s"],
            res["train_after_steps_per_s"],
            f"**{res['ratio']:.2f}x**",
            "",
        ]
    )
    return md_table(["measure", "before", "after", "speedup", "bit-identical obs"], rows)
