"""Locomotion learning benchmark: train the default Isaac-Ant-v0 (or ``--task Isaac-Humanoid-v0``) command for a
wall-clock budget per seed, then play the trained policy and a random one on the same envs; report the mean return
and the mean distance the torso moved toward the target per episode (Ant goal: >= 3 m for every seed; Humanoid:
a return well above the random policy's).

./isaaclab.sh -p scripts/benchmarks/ant_learning.py --seeds 1,2,3 --budget_s 1800
./isaaclab.sh -p scripts/benchmarks/ant_learning.py --task Isaac-Humanoid-v0 --seeds 1 --budget_s 900
./isaaclab.sh -p scripts/benchmarks/ant_learning.py --evaluate logs/sb3/Isaac-Ant-v0/<run>   # a run already made

Training is ``train.py --task <task> --headless --seed <s>`` as a user runs it; at the budget it gets
Ctrl+C (SIGINT), which saves ``model.zip`` like a finished run. Results go to ``docs/benchmarks_ant.json``
(``docs/benchmarks_humanoid.json`` for the Humanoid).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
TRAIN = REPO / "scripts" / "reinforcement_learning" / "sb3" / "train.py"
TASKS = {"Isaac-Ant-v0": "ant", "Isaac-Humanoid-v0": "humanoid"}


def train(task: str, seed: int, budget_s: float, workdir: Path) -> tuple[Path, float]:
    """Run train.py for at most ``budget_s`` seconds; returns the run folder and the seconds it ran."""
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(TRAIN), "--task", task, "--headless", "--seed", str(seed)]
    t = time.monotonic()
    with open(workdir / "train.log", "w") as log:
        # SIGINT back to default in the child: a background job inherits it ignored, and Python keeps that
        proc = subprocess.Popen(
            cmd,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            proc.wait(timeout=budget_s)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)  # saves model.zip
            proc.wait()
    (run,) = sorted((workdir / "logs" / "sb3" / task).iterdir())[-1:]
    return run, time.monotonic() - t


def evaluate(task: str, run: Path | None, episodes: int, num_envs: int = 16, seed: int = 0) -> dict[str, float]:
    """Mean return and torso distance toward the target per episode: the run's model.zip, or random actions."""
    from isaaclab_trainer.tasks import make_task_env
    from isaaclab_trainer.tasks.locomotion import mdp
    from isaaclab_trainer.train.checks import check_checkpoint
    from isaaclab_trainer.train.player import load_policy

    env = make_task_env(task, num_envs=num_envs, seed=seed)
    base = env.unwrapped
    target = base._target.expand(num_envs, 3)
    if run is not None:
        player = load_policy(check_checkpoint(str(run / "model.zip"), task), env, task)
        vec, act = player.vec_env, lambda obs: player.agent.predict(obs, deterministic=True)[0]
    else:
        from isaaclab_trainer.wrappers.sb3 import Sb3VecEnvWrapper

        vec = Sb3VecEnvWrapper(env)
        rng = np.random.default_rng(seed)
        vec.seed(seed)
        act = lambda obs: rng.uniform(-1.0, 1.0, (num_envs, base.action_dim)).astype(np.float32)  # noqa: E731
    obs = vec.reset()
    start = mdp.to_target(base.backend.root_pose()[:, :3], target).norm(dim=-1)
    last = start.clone()
    returns, distances = [], []
    while len(returns) < episodes:
        with torch.inference_mode():
            obs, _, dones, infos = vec.step(act(obs))
        now = mdp.to_target(base.backend.root_pose()[:, :3], target).norm(dim=-1)
        for i in np.flatnonzero(dones):  # the env was reset in the step: its last pose is the one before
            returns.append(float(infos[i]["episode"]["r"]))
            distances.append(float(start[i] - last[i]))
            start[i] = now[i]
        last = now
    env.close()
    return {"mean_return": float(np.mean(returns)), "mean_distance_m": float(np.mean(distances)), "episodes": episodes}


def merge(out: Path, row: dict) -> None:
    """Add one seed's row to the results file as it stands now (other seeds' rows kept; a rerun replaces its seed)."""
    results = json.loads(out.read_text()) if out.is_file() else {"runs": []}
    keep = [r for r in results["runs"] if row["seed"] is None or r["seed"] != row["seed"]]
    results["runs"] = sorted(keep + [row], key=lambda r: (r["seed"] is None, r["seed"] or 0))
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=2) + "\n")
    tmp.replace(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", choices=list(TASKS), default="Isaac-Ant-v0")
    p.add_argument("--seeds", type=str, default="1,2,3")
    p.add_argument("--budget_s", type=float, default=1800.0)
    p.add_argument("--episodes", type=int, default=32)
    p.add_argument("--evaluate", type=Path, default=None, help="evaluate this run folder only (no training)")
    p.add_argument("--workdir", type=Path, default=None, help="default: logs/benchmarks/<robot>_learning")
    p.add_argument("--out", type=Path, default=None, help="default: docs/benchmarks_<robot>.json")
    args = p.parse_args()
    robot = TASKS[args.task]
    args.workdir = args.workdir or Path(f"logs/benchmarks/{robot}_learning")
    args.out = args.out or REPO / "docs" / f"benchmarks_{robot}.json"
    import isaaclab_trainer  # noqa: F401  (registers the tasks)

    random_policy = evaluate(args.task, None, args.episodes)
    runs = []
    if args.evaluate is not None:
        runs.append((args.evaluate, None, None, None))
    else:
        for seed in (int(s) for s in args.seeds.split(",")):
            load = os.getloadavg()[0]
            run, seconds = train(args.task, seed, args.budget_s, args.workdir / f"seed_{seed}")
            runs.append((run, seed, seconds, load))
    for run, seed, seconds, load in runs:
        trained = evaluate(args.task, run, args.episodes)
        row = {
            "run": str(run),
            "task": args.task,
            "seed": seed,
            "train_s": seconds,
            "trained": trained,
            "random": random_policy,
            "load_avg_1m_train_start": load,
            "load_avg_1m": os.getloadavg()[0],
            "date": time.strftime("%Y-%m-%d %H:%M"),
        }
        merge(args.out, row)
        print(
            f"[{robot} learning] seed {seed}: trained return {trained['mean_return']:.1f}, "
            f"{trained['mean_distance_m']:.2f} m toward the target per episode; "
            f"random {random_policy['mean_return']:.1f}, {random_policy['mean_distance_m']:.2f} m",
            flush=True,
        )


if __name__ == "__main__":
    main()
