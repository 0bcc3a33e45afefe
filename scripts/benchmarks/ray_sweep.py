"""A 4-trial Ray Tune sweep (--max_concurrent 2) against the same 4 configs as sequential train.py runs.

./isaaclab.sh -p scripts/benchmarks/ray_sweep.py [--timesteps 32768] [--num_envs 64]

Both sides run the same four agent configs (learning rates 1e-4, 3e-4, 1e-3, 3e-3; everything else
the task's config) for the same timesteps, as separate processes in a scratch folder: the sweep as one
``tune.py`` command with a FIFO scheduler (no early stopping, so both sides do the same work), the
other as four ``train.py --agent`` runs, one after the other. Prints a markdown table and writes
``docs/benchmarks_ray.json``.

Ray's own cost is measured apart, on the same local Ray as tune.py starts: ``ray.init`` (once per
sweep), and the seconds per trial of four trials that do nothing, one at a time (Tune launching a
worker process, Ray/Tune set-up in it, the result round trip). For comparison, each train.py run's
start-up is timed from launching the process to its ``command.txt`` (written once the env and the
agent exist).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
TRAIN = REPO / "scripts" / "reinforcement_learning" / "sb3" / "train.py"
TUNE = REPO / "scripts" / "reinforcement_learning" / "ray" / "tune.py"
TASK = "Isaac-Cartpole-v0"
RATES = [1.0e-4, 3.0e-4, 1.0e-3, 3.0e-3]


def _noop_trial(config: dict) -> None:
    """A trial that does nothing: what remains of its wall time is Ray's and Tune's."""
    from ray import tune

    tune.report({"i": config["i"]})


def ray_costs(work: Path, trials: int = 4) -> dict:
    """``ray.init`` of a local instance as tune.py starts it, and Tune's seconds per (empty) trial."""
    import ray
    from ray import tune

    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=128 * 1024**2, logging_level=logging.WARNING)
    init = time.perf_counter() - t0
    t0 = time.perf_counter()
    tune.Tuner(
        tune.with_resources(_noop_trial, {"cpu": 1}),
        param_space={"i": tune.grid_search(list(range(trials)))},
        tune_config=tune.TuneConfig(max_concurrent_trials=1),
        run_config=tune.RunConfig(storage_path=str(work / "noop"), verbose=0),
    ).fit()
    per_trial = (time.perf_counter() - t0) / trials
    ray.shutdown()
    return {"ray_init_s": init, "per_trial_s": per_trial}


def sequential(work: Path, timesteps: int, num_envs: int) -> dict:
    """Four train.py runs, one after the other; total wall and each run's start-up seconds."""
    from isaaclab_trainer.tasks import load_agent_cfg

    startups, t0 = [], time.perf_counter()
    for rate in RATES:
        cfg = load_agent_cfg(TASK)
        cfg.update(learning_rate=rate, n_timesteps=timesteps)
        agent = work / f"agent_{rate:g}.yaml"
        agent.write_text(yaml.safe_dump(cfg, sort_keys=False))
        before = set((work / "logs" / "sb3" / TASK).glob("*")) if (work / "logs").exists() else set()
        launched = time.time()
        args = [sys.executable, str(TRAIN), "--task", TASK, "--agent", str(agent), "--num_envs", str(num_envs)]
        subprocess.run([*args, "--headless"], cwd=work, check=True, capture_output=True)
        (run,) = set((work / "logs" / "sb3" / TASK).glob("*")) - before
        startups.append((run / "command.txt").stat().st_mtime - launched)
    return {"wall_s": time.perf_counter() - t0, "startup_s": startups}


def sweep(work: Path, timesteps: int, num_envs: int) -> dict:
    """One tune.py sweep over the four rates, two trials at a time."""
    sweep_file = work / "bench_sweep.yaml"
    space = {"learning_rate": {"grid": RATES}}
    sweep_file.write_text(yaml.safe_dump({"space": space, "scheduler": {"name": "fifo"}}))
    args = [sys.executable, str(TUNE), "--task", TASK, "--sweep", str(sweep_file), "--max_concurrent", "2"]
    args += ["--num_envs", str(num_envs), "--stop_timesteps", str(timesteps), "--num_cpus", "2"]
    t0 = time.perf_counter()
    subprocess.run(args, cwd=work, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    (folder,) = (work / "logs" / "ray" / TASK).iterdir()
    with open(folder / "trials.csv") as f:
        rows = list(csv.DictReader(f))
    return {"wall_s": wall, "trial_wall_s": [float(r["wall_s"]) for r in rows], "status": [r["status"] for r in rows]}


def main() -> None:
    p = argparse.ArgumentParser(prog="ray_sweep.py", description=__doc__.splitlines()[0])
    p.add_argument("--timesteps", type=int, default=32768, help="timesteps per run")
    p.add_argument("--num_envs", type=int, default=64)
    p.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks_ray.json")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_ray_") as tmp:
        work = Path(tmp)
        result = {
            "timesteps": args.timesteps,
            "num_envs": args.num_envs,
            "cores": os.cpu_count(),
            "load_avg_start": os.getloadavg()[0],
            "ray": ray_costs(work),
            "sweep": sweep(work, args.timesteps, args.num_envs),
            "sequential": sequential(work, args.timesteps, args.num_envs),
            "load_avg_end": os.getloadavg()[0],
        }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    s, q, r = result["sweep"], result["sequential"], result["ray"]
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    print(f"| 4 runs x {args.timesteps:,} timesteps, {args.num_envs} envs | total wall |")
    print("|---|---|")
    print(f"| tune.py --max_concurrent 2 | {s['wall_s']:.1f} s |")
    print(f"| 4 x train.py, one after the other | {q['wall_s']:.1f} s |")
    ratio = s["wall_s"] / q["wall_s"]
    print(f"sweep / sequential = {ratio:.2f}; trial wall (Tune) mean {mean(s['trial_wall_s']):.1f} s")
    print(f"ray.init {r['ray_init_s']:.1f} s once; Tune per empty trial {r['per_trial_s']:.1f} s")
    print(f"train.py start-up (launch -> env and agent built) mean {mean(q['startup_s']):.1f} s")
    print(f"load average {result['load_avg_start']:.2f} at start, {result['load_avg_end']:.2f} at end")


if __name__ == "__main__":
    main()
