"""Run the benchmark comparisons and write docs/benchmarks.json and the results block of docs/benchmarks.md.

./isaaclab.sh -p scripts/benchmarks/run.py            # full run (about 10 min on 2 cores, plus about 50 min for 8)
./isaaclab.sh -p scripts/benchmarks/run.py --quick    # smaller budgets, < 5 min; prints one line per comparison
./isaaclab.sh -p scripts/benchmarks/run.py --only 1,4 # some comparisons; the others' results are kept

1 env_overhead, 2 training_throughput, 3 time_to_solve, 4 panel_path, 5 scaling, 6 profile_fixes (before/after),
7 browser_panel, 8 seeds (about 50 min: 20 trainings of the default command, two at a time),
9 kit_loop (real Kit 110.4; Python 3.12 only),
10 evaluate_run, 11 locomotion (Ant and Humanoid: solver tables, env overhead),
12 ant_training (Ant and Humanoid: PPO steps/s against gymnasium's MuJoCo Ant-v5 / Humanoid-v5 in DummyVecEnv /
SubprocVecEnv),
13 isaaclab_training (Isaac Lab 3.0's own Isaac-Cartpole: its `isaaclab train --rl_library sb3` vs train.py vs the
panel's session; needs ./isaaclab.sh -i isaaclab, Python 3.12, so only where Isaac Lab is installed).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import torch  # noqa: E402

MODULES = {
    1: "env_overhead",
    2: "training_throughput",
    3: "time_to_solve",
    4: "panel_path",
    5: "scaling",
    6: "profile_fixes",
    7: "browser_panel",
    8: "seeds",
    9: "kit_loop",
    10: "evaluate_run",
    11: "locomotion",
    12: "ant_training",
    13: "isaaclab_training",
}
TITLES = {
    1: "Env overhead: env.step() vs the raw Newton solver",
    2: "Training throughput: ours vs gymnasium CartPole-v1 in DummyVecEnv",
    3: "Time to solve (rollout mean return >= 4.75)",
    4: "Panel path: TrainingSession.update() vs train.py",
    5: "Scaling with num_envs",
    6: "Profile-driven fixes: before / after",
    7: "Browser panel (panel.py): No rendering vs train.py, Full-rendering loop rate",
    8: "Seeds 0-19: what the default command leaves to play",
    9: "Real Kit 110.4 update loop vs train.py; app.update() p99 / max; start to first training frame",
    10: "Evaluate: train.py while a panel evaluates its run at Full rendering vs alone; checkpoint-to-frame delay",
    11: "Locomotion (Isaac-Ant-v0, Isaac-Humanoid-v0): Newton solver tables, env.step() vs raw stepping",
    12: "Training throughput (Isaac-Ant-v0, Isaac-Humanoid-v0): ours vs gymnasium's MuJoCo Ant-v5 / Humanoid-v5 "
    "in DummyVecEnv / SubprocVecEnv",
    13: "Isaac Lab's own env (isaaclab:Isaac-Cartpole): isaaclab train --rl_library sb3 vs train.py vs the panel",
}


def main() -> None:
    p = argparse.ArgumentParser(prog="run.py", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small budgets (< 5 min on 2 cores)")
    p.add_argument("--only", type=str, default=None, help="comma-separated comparison numbers, e.g. 1,3")
    p.add_argument("--out", type=Path, default=common.DOCS / "benchmarks.json", help="JSON results file")
    p.add_argument("--md", type=Path, default=common.DOCS / "benchmarks.md", help="markdown file to update")
    p.add_argument("--no-md", action="store_true", help="do not touch the markdown file")
    p.add_argument(
        "--torch_threads",
        type=int,
        default=1,
        help="torch intra-op threads for both sides of every comparison (0: torch's default)",
    )
    args = p.parse_args()
    # the default run leaves out comparison 9 where real Kit cannot start (it needs Python 3.12), and 13 where
    # Isaac Lab is not installed (./isaaclab.sh -i isaaclab)
    from isaaclab_trainer.tasks.isaaclab import installed_version

    runnable = {9: sys.version_info[:2] == (3, 12), 13: installed_version() is not None}
    default = [n for n in sorted(MODULES) if runnable.get(n, True)]
    only = default if args.only is None else [int(x) for x in args.only.split(",")]
    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)

    import importlib

    import isaaclab_trainer  # noqa: F401  (registers the tasks)

    common.quiet_stdout_of_warp()
    data = common.load_json(args.out)
    data["machine"] = common.machine()
    data.setdefault("results", {})
    cmd = f"{common.python_cmd()}{' --quick' if args.quick else ''}"
    for n in only:
        mod = importlib.import_module(MODULES[n])
        t = time.perf_counter()
        res = mod.run(args.quick)
        res["wall_s"] = time.perf_counter() - t
        res["quick"] = args.quick
        res["command"] = f"{cmd} --only {n}"
        res["date"] = time.strftime("%Y-%m-%d %H:%M")
        res["torch_threads"] = torch.get_num_threads()
        data["results"][MODULES[n]] = res
        print(res["line"], flush=True)
        common.write_json(args.out, data)
    if not args.no_md:
        common.write_markdown_section(args.md, render(data))


def render(data: dict) -> str:
    import importlib

    m = data.get("machine", {})
    parts = [
        f"Machine: {m.get('cores')} cores ({m.get('cpu')}), load average {m.get('load_avg_1m_at_start')} at start; "
        f"torch {m.get('torch')}, warp {m.get('warp')}, SB3 {m.get('sb3')}. Raw numbers in `docs/benchmarks.json`."
    ]
    for n, name in MODULES.items():
        res = data.get("results", {}).get(name)
        if res is None:
            continue
        mod = importlib.import_module(name)
        try:
            body = mod.markdown(res)
        except KeyError as exc:  # a results file written before the module's current format
            body = f"(stored results lack {exc}; rerun `--only {n}`)"
        met = res.get("met")
        verdict = "" if met is None else f" — target {res['target']}: **{'met' if met else 'not met'}**"
        parts.append(
            f"### {n}. {TITLES[n]}\n\n`{res['command']}` ({res['date']}, {res['wall_s']:.0f} s, "
            f"torch threads {res['torch_threads']}{', quick budgets' if res['quick'] else ''}){verdict}\n\n"
            f"{body}\n\n`{res['line']}`"
        )
    return "\n\n".join(parts)


if __name__ == "__main__":
    main()
