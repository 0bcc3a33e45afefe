"""5. Scaling: env steps/s of the env alone (random actions, as in comparison 1) and of PPO
training (the cartpole config, as in comparison 2) for num_envs 16 ... 4096, plus a PNG plot, and
the seconds to author the USD scene (``build_scene`` on an in-memory stage) at each size.

Each size's raw-solver rate is measured alongside (comparison 1's ``measure``), so the last column
stays a ratio taken side by side. Ratio printed: training steps/s at 4096 / at 64 envs.
"""

from __future__ import annotations

import time
from typing import Any

from common import DOCS, Clock, line, md_table, setup_ours
from env_overhead import measure

NAME = "scaling"


def training_rate(num_envs: int, rollouts: int) -> float:
    total = 16 * num_envs * rollouts
    clock = Clock()
    setup = setup_ours(num_envs, total, callbacks=[clock])
    setup.agent.learn(total_timesteps=total, callback=setup.callbacks, reset_num_timesteps=True)
    setup.vec_env.close()
    return clock.steps_per_s


def scene_build_s(num_envs: int) -> float:
    """Seconds to author ``num_envs`` cartpoles into a new in-memory USD stage."""
    from pxr import Usd

    from isaaclab_trainer.sim import build_scene

    t = time.perf_counter()
    build_scene(Usd.Stage.CreateInMemory(), num_envs)
    return time.perf_counter() - t


def run(quick: bool) -> dict[str, Any]:
    sizes = [16, 64, 256, 1024, 4096] if not quick else [16, 64, 256, 1024]
    rows = []
    for n in sizes:
        env_steps = max(4, min(200, 20_000 // n))
        m = measure(n, env_steps, repeats=3 if not quick else 2)
        rollouts = 3 if not quick else 2
        rows.append(
            {
                "num_envs": n,
                "env_steps_per_s": m["ours_env_steps_per_s"],
                "raw_env_steps_per_s": m["engine_env_steps_per_s"],
                "env_over_raw": m["ratio_ours_over_raw"],
                "train_steps_per_s": training_rate(n, rollouts),
                "scene_build_s": scene_build_s(n),
            }
        )
    by_n = {r["num_envs"]: r for r in rows}
    top = max(sizes)
    ratio = by_n[top]["train_steps_per_s"] / by_n[64]["train_steps_per_s"]
    plot(rows, DOCS / "scaling.png")
    best = max(rows, key=lambda r: r["train_steps_per_s"])
    return {
        "rows": rows,
        "plot": "docs/scaling.png",
        "best_training_num_envs": best["num_envs"],
        "ratio": ratio,
        "line": line(
            "5 scaling",
            "training steps/s "
            + "  ".join(f"{r['num_envs']}: {r['train_steps_per_s']:,.0f}" for r in rows)
            + f"; env-only at {top}: {by_n[top]['env_steps_per_s']:,.0f}; training at {top} / at 64",
            ratio,
        ),
    }


def plot(rows: list[dict[str, Any]], path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # the `bench` extra is not installed
        print("[scaling] matplotlib missing (pip install -e 'exts/isaaclab_trainer[bench]'): no PNG written")
        return
    n = [r["num_envs"] for r in rows]
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    ax.plot(n, [r["raw_env_steps_per_s"] for r in rows], "o:", label="raw engine (backend.step, 2 substeps)")
    ax.plot(n, [r["env_steps_per_s"] for r in rows], "o-", label="env.step() (random actions)")
    ax.plot(n, [r["train_steps_per_s"] for r in rows], "s-", label="SB3 PPO training")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("num_envs")
    ax.set_ylabel("env steps / s")
    ax.set_title("Isaac-Cartpole-v0 on Newton (Warp CPU), 2 cores")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def markdown(res: dict[str, Any]) -> str:
    rows = [
        [
            r["num_envs"],
            r["raw_env_steps_per_s"],
            r["env_steps_per_s"],
            f"{r['env_over_raw']:.2f}",
            r["train_steps_per_s"],
            f"{r['scene_build_s']:.2f}",
        ]
        for r in res["rows"]
    ]
    return (
        md_table(
            [
                "num_envs",
                "raw engine env steps/s",
                "env.step() env steps/s",
                "env / raw",
                "PPO training env steps/s",
                "USD scene authoring s",
            ],
            rows,
        )
        + "\n\n![scaling](scaling.png)"
    )
