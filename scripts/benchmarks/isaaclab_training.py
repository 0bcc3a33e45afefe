"""13. Isaac Lab's own env trained by Isaac Lab's own SB3 pipeline vs by ours (train.py) vs by the panel's
``TrainingSession`` at NO_RENDERING, all on ``Isaac-Cartpole`` (Isaac Lab 3.0's manager-based cartpole), 64 envs,
CPU, kitless Newton (``physics=newton_mjwarp``), our cartpole USD substituted (``env.scene.robot.spawn.usd_path``,
``env.scene.ground=None``: Isaac Lab's own asset is on NVIDIA's asset server).

- theirs: ``isaaclab train --rl_library sb3`` (``isaaclab.cli.train``, which runs
  ``isaaclab_rl.entrypoints.backends.train_sb3``: Isaac Lab's ``Sb3VecEnvWrapper``, VecNormalize when the config
  asks, its progress bar and checkpoint callbacks) with ``--device cpu --max_iterations N``;
- ours: ``train.py --task isaaclab:Isaac-Cartpole --max_iterations N`` (our wrapper and callbacks);
- panel: ``TrainingSession("isaaclab:Isaac-Cartpole", overrides=...)`` driven by ``update()`` at NO_RENDERING in
  a plain loop standing in for the app's update event (as comparison 4).

Each run is a fresh Python process (Isaac Lab keeps one simulation context per process), started in turn A B C C B A
...; each times SB3's ``learn()`` (wall clock, timesteps it ran), so process start and scene building count for no
side. The same agent config (Isaac Lab's ``sb3_ppo_cfg.yaml``: n_steps 16, batch 4096, 20 epochs) and budget on
every side. Inside each process the same class-level timers split ``learn()`` into: Isaac Lab's ``env.step()``
(``ManagerBasedRLEnv`` / ``DirectRLEnv``), the wrapper (SB3's ``VecEnv.step()`` less the env's step: torch-numpy
conversion, infos, VecNormalize), callbacks (the outermost ``CallbackList.on_step``), SB3's update
(``PPO.train()``) and the rest of SB3's rollout (policy forward pass, rollout buffer). Ratios: ours / theirs,
panel / ours (medians of the rounds' ratios).

./isaaclab.sh -p scripts/benchmarks/run.py --only 13    # needs ./isaaclab.sh -i isaaclab (Python 3.12)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

NAME = "isaaclab_training"
TASK = "Isaac-Cartpole"
NUM_ENVS = 64
SEED = 42
N_STEPS = 16  # Isaac Lab's cartpole sb3_ppo_cfg.yaml
SIDES = ("theirs", "ours", "panel")
TARGETS = {"ours/theirs": 1.0, "panel/ours": 0.95}
#: the categories of learn()'s wall time, in the order the tables show them
PARTS = ("env_step", "wrapper", "callbacks", "sb3_rollout", "sb3_update")
PART_TITLES = {
    "env_step": "Isaac Lab env.step()",
    "wrapper": "wrapper (VecEnv.step less env.step)",
    "callbacks": "callbacks",
    "sb3_rollout": "SB3 rollout (policy, buffer)",
    "sb3_update": "SB3 update (PPO.train)",
}
SCRIPTS = Path(__file__).resolve().parents[1] / "reinforcement_learning" / "sb3"


def overrides(usd: str) -> list[str]:
    return ["physics=newton_mjwarp", f"env.scene.robot.spawn.usd_path={usd}", "env.scene.ground=None"]


# -- inside one run's process ---------------------------------------------------------------------------------


class Timers:
    """Seconds spent in methods patched at class level; a method re-entered (a nested wrapper) counts once."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.timesteps = 0
        self._depth: dict[str, int] = {}

    def patch(self, cls: type, method: str, key: str) -> None:
        original = getattr(cls, method)
        self.seconds.setdefault(key, 0.0)
        self._depth.setdefault(key, 0)

        def timed(*args: Any, **kwargs: Any) -> Any:
            self._depth[key] += 1
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self._depth[key] -= 1
                if self._depth[key] == 0:
                    self.seconds[key] += time.perf_counter() - t

        setattr(cls, method, timed)

    def patch_learn(self) -> None:
        from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

        original = OnPolicyAlgorithm.learn

        def learn(algo: Any, *args: Any, **kwargs: Any) -> Any:
            n, t, c = algo.num_timesteps, time.perf_counter(), time.process_time()
            try:
                return original(algo, *args, **kwargs)
            finally:
                self.seconds["learn"] = self.seconds.get("learn", 0.0) + time.perf_counter() - t
                self.seconds["learn_cpu"] = self.seconds.get("learn_cpu", 0.0) + time.process_time() - c
                self.timesteps += algo.num_timesteps - n

        OnPolicyAlgorithm.learn = learn

    def install(self) -> None:
        from isaaclab.envs import DirectRLEnv, ManagerBasedRLEnv
        from stable_baselines3 import PPO
        from stable_baselines3.common.callbacks import CallbackList
        from stable_baselines3.common.vec_env import VecEnv

        self.patch_learn()
        self.patch(ManagerBasedRLEnv, "step", "env_step")
        self.patch(DirectRLEnv, "step", "env_step")
        self.patch(VecEnv, "step", "vec_step")
        self.patch(CallbackList, "on_step", "callbacks")
        self.patch(PPO, "train", "sb3_update")

    def result(self) -> dict[str, Any]:
        s = self.seconds
        parts = {
            "env_step": s["env_step"],
            "wrapper": s["vec_step"] - s["env_step"],
            "callbacks": s["callbacks"],
            "sb3_update": s["sb3_update"],
        }
        parts["sb3_rollout"] = s["learn"] - s["vec_step"] - s["callbacks"] - s["sb3_update"]
        return {"timesteps": self.timesteps, "learn_s": s["learn"], "learn_cpu_s": s["learn_cpu"], "parts_s": parts}


def run_theirs(usd: str, iterations: int) -> None:
    from isaaclab.cli import cli  # the ``isaaclab`` console script (its Hydra overrides are read from sys.argv)

    sys.argv = [
        "isaaclab", "train", "--rl_library", "sb3", "--task", TASK, "--num_envs", str(NUM_ENVS), "--seed", str(SEED),
        "--device", "cpu", "--max_iterations", str(iterations), *overrides(usd),
    ]  # fmt: skip
    cli()


def run_ours(usd: str, iterations: int) -> None:
    import runpy

    sys.path.insert(0, str(SCRIPTS))
    sys.argv = [
        "train.py", "--task", f"isaaclab:{TASK}", "--num_envs", str(NUM_ENVS), "--seed", str(SEED),
        "--device", "cpu", "--headless", "--max_iterations", str(iterations), *overrides(usd),
    ]  # fmt: skip
    try:
        runpy.run_path(str(SCRIPTS / "train.py"), run_name="__main__")
    except SystemExit as exc:  # a script's sys.exit(0) ends the run, not the worker
        if exc.code:
            raise


def run_panel(usd: str, iterations: int) -> None:
    from isaaclab_trainer.session import RenderMode, SessionState, TrainingSession

    s = TrainingSession(
        f"isaaclab:{TASK}", num_envs=NUM_ENVS, seed=SEED, device="cpu", log_root="logs/sb3", overrides=overrides(usd)
    )
    s.build()
    s.set_render_mode(RenderMode.NO_RENDERING)
    s.start_training(total_timesteps=iterations * N_STEPS * NUM_ENVS)
    while s.status.state == SessionState.TRAINING:
        s.update()
    if s.status.state != SessionState.DONE:
        raise RuntimeError(f"session ended in {s.status.state}: {s.status.error}")
    s.close()


RUNS: dict[str, Callable[[str, int], None]] = {"theirs": run_theirs, "ours": run_ours, "panel": run_panel}


def worker(side: str, usd: str, iterations: int, threads: int, out: str) -> None:
    import torch

    if threads > 0:
        torch.set_num_threads(threads)
    timers = Timers()
    timers.install()
    RUNS[side](usd, iterations)
    Path(out).write_text(json.dumps(timers.result()))


# -- the comparison -----------------------------------------------------------------------------------------


def one_run(side: str, usd: str, iterations: int, results: dict[str, list[dict]]) -> Callable[[], float]:
    """A fresh process training ``side``; its learn() steps/s (its timers are kept in ``results``)."""

    def go() -> float:
        import torch

        with tempfile.TemporaryDirectory(prefix=f"bench_il_{side}_") as cwd:
            out = Path(cwd) / "result.json"
            cmd = [sys.executable, __file__, "--worker", side, "--usd", usd, "--iterations", str(iterations)]
            cmd += ["--threads", str(torch.get_num_threads()), "--out", str(out)]
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
            proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
            if proc.returncode != 0 or not out.is_file():
                raise RuntimeError(f"{side} run failed ({proc.returncode}): {(proc.stderr or proc.stdout)[-2000:]}")
            res = json.loads(out.read_text())
        res["load_avg_1m"] = os.getloadavg()[0]
        results[side].append(res)
        return res["timesteps"] / res["learn_s"]

    return go


def run(quick: bool) -> dict[str, Any]:
    from common import interleaved, line, machine, median, paired_ratio

    from isaaclab_trainer.sim.cartpole import write_cartpole_usd
    from isaaclab_trainer.tasks.isaaclab import check_installed

    check_installed()
    iterations = 12 if quick else 40
    repeats = 2 if quick else 4
    usd = write_cartpole_usd(str(Path(tempfile.mkdtemp(prefix="bench_il_usd_")) / "cartpole.usda"))
    results: dict[str, list[dict]] = {side: [] for side in SIDES}
    load = [os.getloadavg()[0]]
    rates = interleaved({side: one_run(side, usd, iterations, results) for side in SIDES}, repeats, alternate=True)
    load.append(os.getloadavg()[0])
    ratios = {
        "ours/theirs": paired_ratio(rates["ours"], rates["theirs"]),
        "panel/ours": paired_ratio(rates["panel"], rates["ours"]),
    }
    # env steps per CPU second of the process: what the other jobs on a shared machine take moves it less
    cpu_rates = {side: [r["timesteps"] / r["learn_cpu_s"] for r in results[side]] for side in SIDES}
    cpu_ratios = {
        "ours/theirs": paired_ratio(cpu_rates["ours"], cpu_rates["theirs"]),
        "panel/ours": paired_ratio(cpu_rates["panel"], cpu_rates["ours"]),
    }
    res: dict[str, Any] = {
        # its own venv (Isaac Lab pins torch, warp and Newton), not the one of the other comparisons
        "machine": machine(),
        "num_envs": NUM_ENVS,
        "iterations": iterations,
        "timesteps_per_run": iterations * N_STEPS * NUM_ENVS,
        "rounds": repeats,
        "load_avg_1m": [round(x, 2) for x in (*load, *(r["load_avg_1m"] for rs in results.values() for r in rs))],
        "ratios": ratios,
        "cpu_ratios": cpu_ratios,
        "ratio": ratios["ours/theirs"],
        "target": ", ".join(f"{k} >= {v}" for k, v in TARGETS.items()),
        "met": all(ratios[k] >= v for k, v in TARGETS.items()),
    }
    for side in SIDES:
        runs = results[side]
        res[side] = {
            "steps_per_s": median(rates[side]),
            "all": rates[side],
            "steps_per_cpu_s": median(cpu_rates[side]),
            # per 1,000 timesteps, median over the rounds: comparable across sides whatever their budgets
            "ms_per_1k_steps": {
                part: median([1e6 * r["parts_s"][part] / r["timesteps"] for r in runs]) for part in PARTS
            },
            "learn_ms_per_1k_steps": median([1e6 * r["learn_s"] / r["timesteps"] for r in runs]),
        }
    summary = line(
        "13 isaaclab training",
        f"Isaac-Cartpole {NUM_ENVS} envs CPU: theirs (isaaclab train sb3) {res['theirs']['steps_per_s']:,.0f}, "
        f"ours (train.py) {res['ours']['steps_per_s']:,.0f}, panel {res['panel']['steps_per_s']:,.0f} steps/s; "
        f"panel/ours {ratios['panel/ours']:.2f}; per CPU second ours/theirs {cpu_ratios['ours/theirs']:.2f}, "
        f"panel/ours {cpu_ratios['panel/ours']:.2f} (ours/theirs)",
        ratios["ours/theirs"],
    )
    return {**res, "line": summary}


def markdown(res: dict[str, Any]) -> str:
    from common import md_table

    names = {
        "theirs": "Isaac Lab: `isaaclab train --rl_library sb3`",
        "ours": "ours: `train.py --task isaaclab:Isaac-Cartpole`",
        "panel": "panel: `TrainingSession.update()` NO_RENDERING",
    }
    a = md_table(
        ["pipeline (same env, config, budget)", "env steps/s (median)", "all rounds", "ratio", "per CPU second"],
        [
            [
                names[s],
                res[s]["steps_per_s"],
                ", ".join(f"{x:,.0f}" for x in res[s]["all"]),
                {"theirs": "1.00", "ours": f"**{res['ratios']['ours/theirs']:.2f}** ours/theirs"}.get(
                    s, f"**{res['ratios']['panel/ours']:.2f}** panel/ours"
                ),
                f"{res[s]['steps_per_cpu_s']:,.0f} steps/s"
                + {"theirs": "", "ours": f" ({res['cpu_ratios']['ours/theirs']:.2f})"}.get(
                    s, f" ({res['cpu_ratios']['panel/ours']:.2f})"
                ),
            ]
            for s in SIDES
        ],
    )
    b = md_table(
        ["ms per 1,000 env steps", *(names[s].split(":")[0] for s in SIDES)],
        [[PART_TITLES[p], *(f"{res[s]['ms_per_1k_steps'][p]:.1f}" for s in SIDES)] for p in PARTS]
        + [["learn() total", *(f"{res[s]['learn_ms_per_1k_steps']:.1f}" for s in SIDES)]],
    )
    m = res["machine"]
    return (
        f"Python {m['python']}, torch {m['torch']}, warp {m['warp']}, SB3 {m['sb3']} (Isaac Lab's venv). "
        f"Isaac Lab 3.0's `Isaac-Cartpole`, {res['num_envs']} envs, CPU, kitless Newton (`physics=newton_mjwarp`), "
        f"our cartpole USD; {res['timesteps_per_run']:,} timesteps ({res['iterations']} PPO iterations) per run, "
        f"{res['rounds']} alternating rounds, one process per run; load average (1 min) "
        f"{min(res['load_avg_1m']):.1f}-{max(res['load_avg_1m']):.1f} during the runs.\n\n{a}\n\n"
        f"Where learn()'s time goes (median over the rounds):\n\n{b}"
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description="one run of comparison 13 (run.py --only 13 runs the comparison)")
    p.add_argument("--worker", choices=SIDES, required=True)
    p.add_argument("--usd", required=True)
    p.add_argument("--iterations", type=int, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    worker(a.worker, a.usd, a.iterations, a.threads, a.out)
