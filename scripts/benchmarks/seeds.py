"""8. Seeds: what the default command leaves to play, over seeds 0-19.

For each seed, the README's command (``train.py --task Isaac-Cartpole-v0 --num_envs 64 --headless
--seed N``) runs in a folder of its own, then the three checkpoints a user plays are played as
``play.py --num_episodes 20`` plays them (its defaults: 64 envs, the task's seed): ``model.zip``,
the ``--use_last_checkpoint`` pick and ``--checkpoint best``. Two seeds run at a time, so the
per-seed wall times are those of a loaded machine; the default command's own wall time is measured
afterwards, alone, next to the previous agent config (constant learning rate, no best model), back
to back, with the load average before each. Each command runs in a session of its own, as it does
from a terminal: Linux's autogroup scheduler shares the cores between sessions first, so children
of this process's session would split one share between them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml
from common import REPO, TASK, line, md_table, median

NAME = "seeds"
SEEDS = tuple(range(20))
EPISODES = 20
PARALLEL = 2
NUM_ENVS = 64
#: targets: every seed's play mean return for each pick, and their median
WORST_TARGET, MEDIAN_TARGET = 4.5, 4.8
PICKS = {"model.zip": None, "last checkpoint": "latest", "best": "best"}
SB3_SCRIPTS = REPO / "scripts" / "reinforcement_learning" / "sb3"
TRAIN = SB3_SCRIPTS / "train.py"
#: the agent config before the best model, the learning-rate schedule and the stop at a solved evaluation
#: (5e5 timesteps), for the wall-time comparison
PREVIOUS_CONFIG = {"learning_rate": 3e-4, "eval_interval": 0, "n_timesteps": 500_000, "stop_at_eval_return": None}

PLAY_CHILD = """
import json, sys
sys.path.insert(0, {scripts!r})
import isaaclab_trainer
from cli_args import resolve_checkpoint
from isaaclab_trainer.tasks import load_env_cfg
from isaaclab_trainer.train.player import evaluate, load_policy
from isaaclab_trainer.train.trainer import make_env
out = {{}}
for name, selector in {picks!r}.items():
    checkpoint = resolve_checkpoint({task!r}, selector, use_last_checkpoint=False)
    env = make_env({task!r}, load_env_cfg({task!r}))
    returns, lengths = evaluate(load_policy(checkpoint, env, {task!r}), episodes={episodes})
    env.close()
    out[name] = {{"checkpoint": checkpoint.path.name, "mean_return": sum(returns) / len(returns),
                 "min_return": min(returns), "mean_length": sum(lengths) / len(lengths)}}
print("RESULT" + json.dumps(out))
"""


def _train(folder: Path, extra: list[str]) -> tuple[float, str]:
    """Run the default command in ``folder`` (its logs/ go there); its wall seconds and stdout."""
    cmd = [sys.executable, str(TRAIN), "--task", TASK, "--num_envs", str(NUM_ENVS), "--headless", *extra]
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, start_new_session=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"train.py failed in {folder}: {proc.stderr.strip().splitlines()[-1:]}")
    return wall, proc.stdout


def _play(folder: Path) -> dict[str, Any]:
    code = PLAY_CHILD.format(scripts=str(SB3_SCRIPTS), picks=PICKS, task=TASK, episodes=EPISODES)
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, check=True, start_new_session=True
    )
    return json.loads(next(ln[6:] for ln in proc.stdout.splitlines() if ln.startswith("RESULT")))


def _parse(stdout: str) -> dict[str, Any]:
    """The rollout mean returns of the summary lines, train.py's best-model line and where it stopped
    at ``stop_at_eval_return`` (None: it trained the whole budget)."""
    rollout = {}
    best: dict[str, Any] = {}
    stopped = None
    for ln in stdout.splitlines():
        if ln.startswith("[INFO] Stopped at"):
            stopped = int(ln.split()[3].replace(",", ""))
        elif ln.startswith("timesteps:"):
            parts = ln.split()
            rollout[int(parts[1])] = float(parts[-1]) if parts[-1] != "n/a" else None
        elif ln.startswith("[INFO] Best model"):
            # "... (mean return R over N episodes ..., at T timesteps; evaluations took S s, P % of the run): path"
            words = ln.replace(",", "").replace(";", "").split()
            best = {
                "eval_return": float(words[words.index("return") + 1]),
                "timesteps": int(words[words.index("timesteps") - 1]),
                "eval_seconds": float(words[words.index("took") + 1]),
                "eval_percent": float(words[words.index("%") - 1]),
            }
    return {"rollout_mean_return": rollout, "best": best, "stopped_timesteps": stopped}


def one_seed(seed: int, root: Path) -> dict[str, Any]:
    folder = root / f"seed_{seed}"
    folder.mkdir()
    load = os.getloadavg()[0]
    wall, stdout = _train(folder, ["--seed", str(seed)])
    res = {"seed": seed, "train_wall_s": wall, "load_avg_1m_at_start": round(load, 2), **_parse(stdout)}
    res["play"] = _play(folder)
    print(
        f"  seed {seed}: " + ", ".join(f"{k} {v['mean_return']:.3f}" for k, v in res["play"].items()),
        f"({wall:.0f} s)",
        flush=True,
    )
    return res


def alone(root: Path) -> dict[str, Any]:
    """The default command, and the same with the previous agent config, one at a time."""
    from isaaclab_trainer.tasks import load_agent_cfg

    previous = root / "previous_agent.yaml"
    previous.write_text(yaml.safe_dump({**load_agent_cfg(TASK), **PREVIOUS_CONFIG}, sort_keys=False))
    out: dict[str, Any] = {}
    for name, extra in (("default", []), ("previous config", ["--agent", str(previous)])):
        folder = root / f"alone_{name.replace(' ', '_')}"
        folder.mkdir()
        load = os.getloadavg()[0]
        wall, stdout = _train(folder, extra)
        out[name] = {"wall_s": wall, "load_avg_1m_at_start": round(load, 2), **_parse(stdout)}
        print(f"  alone, {name}: {wall:.0f} s (load average {load:.2f})", flush=True)
    out["ratio"] = out["default"]["wall_s"] / out["previous config"]["wall_s"]
    return out


def run(quick: bool) -> dict[str, Any]:
    seeds = SEEDS[:1] if quick else SEEDS
    with tempfile.TemporaryDirectory(prefix="bench_seeds_") as d:
        root = Path(d)
        with ThreadPoolExecutor(PARALLEL) as pool:
            runs = list(pool.map(lambda s: one_seed(s, root), seeds))
        timing = None if quick else alone(root)
    worst = {p: min(runs, key=lambda r: r["play"][p]["mean_return"]) for p in PICKS}
    medians = {p: median([r["play"][p]["mean_return"] for r in runs]) for p in PICKS}
    low = min(worst[p]["play"][p]["mean_return"] for p in PICKS)
    eval_pct = [r["best"]["eval_percent"] for r in runs if r["best"]]
    res = {
        "seeds": runs,
        "episodes": EPISODES,
        "worst": {p: {"seed": w["seed"], "mean_return": w["play"][p]["mean_return"]} for p, w in worst.items()},
        "median": medians,
        "eval_percent_max": max(eval_pct) if eval_pct else None,
        "alone": timing,
        "target": f"worst seed >= {WORST_TARGET} for model.zip, last checkpoint and best; median >= {MEDIAN_TARGET}",
        "met": low >= WORST_TARGET and min(medians.values()) >= MEDIAN_TARGET,
        "ratio": low / WORST_TARGET,
    }
    picks = "; ".join(
        f"{p} worst {w['mean_return']:.3f} (seed {w['seed']}), median {medians[p]:.3f}" for p, w in res["worst"].items()
    )
    wall = "" if timing is None else f"; default command alone {timing['default']['wall_s']:.0f} s"
    res["line"] = line(
        "8 seeds",
        f"{len(runs)} seeds, {EPISODES} episodes each: {picks}{wall}; worst / {WORST_TARGET} target",
        res["ratio"],
    )
    return res


def markdown(res: dict[str, Any]) -> str:
    rows = []
    for r in res["seeds"]:
        best = r["best"]
        rows.append(
            [
                r["seed"],
                *(f"{r['play'][p]['mean_return']:.3f}" for p in PICKS),
                r["play"]["last checkpoint"]["checkpoint"],
                f"{best['timesteps']:,}" if best else "-",
                f"{r['stopped_timesteps']:,}" if r.get("stopped_timesteps") else "-",
                f"{best['eval_percent']:.1f}" if best else "-",
                f"{r['train_wall_s']:.0f}",
            ]
        )
    w, m = res["worst"], res["median"]
    rows.append(["**worst**", *(f"**{w[p]['mean_return']:.3f}** (seed {w[p]['seed']})" for p in PICKS), *[""] * 5])
    rows.append(["**median**", *(f"**{m[p]:.3f}**" for p in PICKS), *[""] * 5])
    text = md_table(
        [
            "seed",
            "model.zip",
            "--use_last_checkpoint",
            "--checkpoint best",
            "last checkpoint",
            "best at timesteps",
            "stopped at timesteps",
            "evaluations % of run",
            "train s (2 at a time)",
        ],
        rows,
    )
    a = res.get("alone")
    if a:
        d, p = a["default"], a["previous config"]
        text += (
            f"\n\nThe default command alone (seed 42): **{d['wall_s']:.0f} s** (load average "
            f"{d['load_avg_1m_at_start']:.2f} at its start); with the previous agent config (constant learning "
            f"rate 3e-4, 5e5 timesteps, no best model, no stop) right after it: {p['wall_s']:.0f} s (load average "
            f"{p['load_avg_1m_at_start']:.2f}); ratio {a['ratio']:.2f}."
        )
    return text
