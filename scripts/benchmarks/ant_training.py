"""12. Training throughput (Isaac-Ant-v0, Isaac-Humanoid-v0): SB3 PPO on our task vs on gymnasium's MuJoCo
Ant-v5 / Humanoid-v5, the choice of a CPU user without Isaac Lab, in SB3's DummyVecEnv and SubprocVecEnv.

Per task, ours is ``make_env`` + ``setup_training`` as train.py builds it (64 envs, Newton's MuJoCo Warp, the
task's agent config: Ant ``config/agents/sb3_ppo_ant.yaml``, n_steps 16, batch 512, 4 epochs, [256, 256] ReLU;
Humanoid ``sb3_ppo_humanoid.yaml``, n_steps 32, 4 minibatches, 5 epochs, [400, 200, 100] ELU). The gymnasium
task gets ``PPO(**the same kwargs)``: in a DummyVecEnv of the same 64 envs, and in a SubprocVecEnv of one worker
per core with ``n_steps`` raised so that a rollout holds the same samples (1024 / 2048; so the same gradient
steps per env step; 64 worker processes on 2 cores would measure the scheduler, not the env). Each ``learn()``
is timed by the same callback, sides in alternating rounds; ratio = ours steps/s / theirs.

Where the time goes: each side's env alone (random actions within the action space SB3 clips to, through the
same VecEnv interface, no policy), so the rest of a training step is SB3's (policy forward passes in the
rollout, the PPO update), which both sides share up to the observation width (Ant: ours 60, Ant-v5 105 with its
contact forces; Humanoid: ours 87, Humanoid-v5 348).
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
from common import Clock, agent_cfg, interleaved, line, md_table, median, paired_ratio, setup_ours

NAME = "ant_training"
#: each task and what a CPU user would train instead: gymnasium's MuJoCo task of the same robot
TASKS = {"Isaac-Ant-v0": "Ant-v5", "Isaac-Humanoid-v0": "Humanoid-v5"}
NUM_ENVS = 64


def _gym_venv(task: str, kind: str, seed: int):
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    if kind == "dummy":
        return make_vec_env(TASKS[task], n_envs=NUM_ENVS, seed=seed, vec_env_cls=DummyVecEnv)
    return make_vec_env(TASKS[task], n_envs=len(os.sched_getaffinity(0)), seed=seed, vec_env_cls=SubprocVecEnv)


def _ppo_kwargs(task: str, seed: int = 42) -> dict[str, Any]:
    from isaaclab_trainer.train.sb3_cfg import process_sb3_cfg

    settings = process_sb3_cfg(agent_cfg(seed, task), NUM_ENVS)
    return {"policy": settings.policy, **settings.ppo_kwargs}


def ours_rate(task: str, total: int, seed: int = 42) -> float:
    clock = Clock()
    setup = setup_ours(NUM_ENVS, total, seed, callbacks=[clock], task=task)
    setup.agent.learn(total_timesteps=total, callback=setup.callbacks, reset_num_timesteps=True)
    setup.vec_env.close()
    return clock.steps_per_s


def gym_rate(task: str, kind: str, total: int, seed: int = 42) -> float:
    from stable_baselines3 import PPO

    kwargs = _ppo_kwargs(task, seed)
    venv = _gym_venv(task, kind, seed)
    kwargs["n_steps"] = kwargs["n_steps"] * NUM_ENVS // venv.num_envs  # the same samples per rollout
    agent = PPO(env=venv, verbose=0, **kwargs)
    clock = Clock()
    agent.learn(total_timesteps=total, callback=clock)
    venv.close()
    return clock.steps_per_s


def env_only_rate(venv, steps: int, seed: int = 0) -> float:
    """Env steps/s of ``venv`` under uniform random actions within its action space (SB3 clips the policy's to it)."""
    rng = np.random.default_rng(seed)
    low, high = venv.action_space.low, venv.action_space.high
    actions = [rng.uniform(low, high, (venv.num_envs, *low.shape)).astype(np.float32) for _ in range(steps)]
    venv.reset()
    for a in actions[:3]:  # warm
        venv.step(a)
    t = time.perf_counter()
    for a in actions:
        venv.step(a)
    rate = venv.num_envs * steps / (time.perf_counter() - t)
    venv.close()
    return rate


def ours_env_rate(task: str, steps: int) -> float:
    from common import env_cfg

    from isaaclab_trainer.train.trainer import make_env
    from isaaclab_trainer.wrappers.sb3 import Sb3VecEnvWrapper

    return env_only_rate(Sb3VecEnvWrapper(make_env(task, env_cfg(NUM_ENVS, 42, task))), steps)


def task_run(task: str, quick: bool) -> dict[str, Any]:
    """One task's comparison: training steps/s of the three sides in alternating rounds, then their envs alone."""
    rollout = _ppo_kwargs(task)["n_steps"] * NUM_ENVS
    total = rollout * (6 if quick else 20)
    repeats = 2 if quick else 3
    workers = len(os.sched_getaffinity(0))
    rates = interleaved(
        {
            "ours": lambda: ours_rate(task, total),
            "dummy": lambda: gym_rate(task, "dummy", total),
            "subproc": lambda: gym_rate(task, "subproc", total),
        },
        repeats,
        alternate=True,
    )
    env_steps = 40 if quick else 120
    env_rates = interleaved(
        {
            "ours": lambda: ours_env_rate(task, env_steps),
            "dummy": lambda: env_only_rate(_gym_venv(task, "dummy", 42), env_steps),
            "subproc": lambda: env_only_rate(_gym_venv(task, "subproc", 42), env_steps * NUM_ENVS // workers),
        },
        repeats,
        alternate=True,
    )
    r_dummy = paired_ratio(rates["ours"], rates["dummy"])
    r_sub = paired_ratio(rates["ours"], rates["subproc"])
    return {
        "gym_id": TASKS[task],
        "rollout": rollout,
        "timesteps_per_run": total,
        "rounds": repeats,
        "train_steps_per_s": {k: median(v) for k, v in rates.items()},
        "train_all": rates,
        "env_steps_per_s": {k: median(v) for k, v in env_rates.items()},
        "env_all": env_rates,
        "ratio_vs_dummy": r_dummy,
        "ratio_vs_subproc": r_sub,
    }


def run(quick: bool) -> dict[str, Any]:
    load = os.getloadavg()[0]
    tasks = {task: task_run(task, quick) for task in TASKS}
    ratio = min(min(r["ratio_vs_dummy"], r["ratio_vs_subproc"]) for r in tasks.values())
    detail = "; ".join(
        f"{task} {r['train_steps_per_s']['ours']:,.0f} steps/s vs {r['gym_id']} DummyVecEnv "
        f"{r['train_steps_per_s']['dummy']:,.0f} ({r['ratio_vs_dummy']:.2f}x), SubprocVecEnv "
        f"{r['train_steps_per_s']['subproc']:,.0f} ({r['ratio_vs_subproc']:.2f}x)"
        for task, r in tasks.items()
    )
    return {
        "num_envs": NUM_ENVS,
        "subproc_workers": len(os.sched_getaffinity(0)),
        "load_avg_1m_at_start": load,
        "load_avg_1m_at_end": os.getloadavg()[0],
        "tasks": tasks,
        "ratio": ratio,
        "target": ">= 1.0 against both, every task",
        "met": ratio >= 1.0,
        "line": line("12 locomotion training", f"PPO {NUM_ENVS} envs: {detail}; the lowest", ratio),
    }


def markdown(res: dict[str, Any]) -> str:
    workers, parts = res["subproc_workers"], []
    for task, r in res["tasks"].items():
        train, env, gym_id = r["train_steps_per_s"], r["env_steps_per_s"], r["gym_id"]
        rows = [
            [f"SB3 PPO + Sb3VecEnvWrapper, {task} (Newton, MuJoCo Warp), {NUM_ENVS} envs", "ours", "1.00"],
            [
                f"SB3 PPO + DummyVecEnv, gymnasium {gym_id} (MuJoCo C), {NUM_ENVS} envs",
                "dummy",
                f"**{r['ratio_vs_dummy']:.2f}**",
            ],
            [
                f"SB3 PPO + SubprocVecEnv, gymnasium {gym_id}, {workers} workers, n_steps x{NUM_ENVS // workers}",
                "subproc",
                f"**{r['ratio_vs_subproc']:.2f}**",
            ],
        ]
        table = md_table(
            [
                f"{task}: setup (same PPO settings, {r['rollout']} samples a rollout)",
                "training steps/s",
                "env alone steps/s",
                "ours / this",
            ],
            [[name, train[k], env[k], ratio] for name, k, ratio in rows],
        )
        parts.append(f"{r['rounds']} rounds of {r['timesteps_per_run']:,} steps a side.\n\n{table}")
    return (
        f"Load average {res['load_avg_1m_at_start']:.1f} at start, {res['load_avg_1m_at_end']:.1f} at the end "
        "(other jobs on the cores). " + "\n\n".join(parts)
    )
