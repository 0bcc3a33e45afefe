"""12. Training throughput (Isaac-Ant-v0): SB3 PPO on our Ant vs on gymnasium's MuJoCo Ant-v5, the choice of a
CPU user without Isaac Lab, in SB3's DummyVecEnv and SubprocVecEnv.

Ours is ``make_env`` + ``setup_training`` as train.py builds it (64 envs, Newton's MuJoCo Warp, the task's
agent config ``config/agents/sb3_ppo_ant.yaml``: n_steps 16, batch 512, 4 epochs, [256, 256] ReLU). Ant-v5 gets
``PPO(**the same kwargs)``: in a DummyVecEnv of the same 64 envs, and in a SubprocVecEnv of one worker per core
with ``n_steps`` raised so that a rollout holds the same 1024 samples (so the same gradient steps per env step;
64 worker processes on 2 cores would measure the scheduler, not the env). Each ``learn()`` is timed by the
same callback, sides in alternating rounds; ratio = ours steps/s / theirs.

Where the time goes: each side's env alone (random actions through the same VecEnv interface, no policy), so
the rest of a training step is SB3's (policy forward passes in the rollout, the PPO update), which both sides
share up to the observation width (ours 60, Ant-v5 105 with its contact forces).
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
from common import Clock, agent_cfg, interleaved, line, md_table, median, paired_ratio, setup_ours

NAME = "ant_training"
TASK = "Isaac-Ant-v0"
GYM_ID = "Ant-v5"
NUM_ENVS = 64


def _gym_venv(kind: str, seed: int):
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    if kind == "dummy":
        return make_vec_env(GYM_ID, n_envs=NUM_ENVS, seed=seed, vec_env_cls=DummyVecEnv)
    return make_vec_env(GYM_ID, n_envs=len(os.sched_getaffinity(0)), seed=seed, vec_env_cls=SubprocVecEnv)


def ours_rate(total: int, seed: int = 42) -> float:
    clock = Clock()
    setup = setup_ours(NUM_ENVS, total, seed, callbacks=[clock], task=TASK)
    setup.agent.learn(total_timesteps=total, callback=setup.callbacks, reset_num_timesteps=True)
    setup.vec_env.close()
    return clock.steps_per_s


def gym_rate(kind: str, total: int, seed: int = 42) -> float:
    from stable_baselines3 import PPO

    from isaaclab_trainer.train.sb3_cfg import process_sb3_cfg

    settings = process_sb3_cfg(agent_cfg(seed, TASK), NUM_ENVS)
    kwargs = dict(settings.ppo_kwargs)
    venv = _gym_venv(kind, seed)
    kwargs["n_steps"] = kwargs["n_steps"] * NUM_ENVS // venv.num_envs  # the same samples per rollout
    agent = PPO(settings.policy, venv, verbose=0, **kwargs)
    clock = Clock()
    agent.learn(total_timesteps=total, callback=clock)
    venv.close()
    return clock.steps_per_s


def env_only_rate(venv, steps: int, seed: int = 0) -> float:
    """Env steps/s of ``venv`` under uniform random actions in [-1, 1] (the policy's clipped range)."""
    rng = np.random.default_rng(seed)
    actions = [rng.uniform(-1, 1, (venv.num_envs, *venv.action_space.shape)).astype(np.float32) for _ in range(steps)]
    venv.reset()
    for a in actions[:3]:  # warm
        venv.step(a)
    t = time.perf_counter()
    for a in actions:
        venv.step(a)
    rate = venv.num_envs * steps / (time.perf_counter() - t)
    venv.close()
    return rate


def ours_env_rate(steps: int) -> float:
    from common import env_cfg

    from isaaclab_trainer.train.trainer import make_env
    from isaaclab_trainer.wrappers.sb3 import Sb3VecEnvWrapper

    return env_only_rate(Sb3VecEnvWrapper(make_env(TASK, env_cfg(NUM_ENVS, 42, TASK))), steps)


def run(quick: bool) -> dict[str, Any]:
    load = os.getloadavg()[0]
    rollout = 16 * NUM_ENVS
    total = rollout * (6 if quick else 20)
    repeats = 2 if quick else 3
    rates = interleaved(
        {
            "ours": lambda: ours_rate(total),
            "dummy": lambda: gym_rate("dummy", total),
            "subproc": lambda: gym_rate("subproc", total),
        },
        repeats,
        alternate=True,
    )
    env_steps = 40 if quick else 120
    env_rates = interleaved(
        {
            "ours": lambda: ours_env_rate(env_steps),
            "dummy": lambda: env_only_rate(_gym_venv("dummy", 42), env_steps),
            "subproc": lambda: env_only_rate(_gym_venv("subproc", 42), env_steps * 32),
        },
        repeats,
        alternate=True,
    )
    r_dummy = paired_ratio(rates["ours"], rates["dummy"])
    r_sub = paired_ratio(rates["ours"], rates["subproc"])
    return {
        "num_envs": NUM_ENVS,
        "subproc_workers": len(os.sched_getaffinity(0)),
        "timesteps_per_run": total,
        "rounds": repeats,
        "load_avg_1m_at_start": load,
        "load_avg_1m_at_end": os.getloadavg()[0],
        "train_steps_per_s": {k: median(v) for k, v in rates.items()},
        "train_all": rates,
        "env_steps_per_s": {k: median(v) for k, v in env_rates.items()},
        "env_all": env_rates,
        "ratio_vs_dummy": r_dummy,
        "ratio_vs_subproc": r_sub,
        "ratio": min(r_dummy, r_sub),
        "target": ">= 1.0 against both",
        "met": min(r_dummy, r_sub) >= 1.0,
        "line": line(
            "12 ant training",
            f"PPO {NUM_ENVS} envs: ours {median(rates['ours']):,.0f} steps/s vs Ant-v5 DummyVecEnv "
            f"{median(rates['dummy']):,.0f} ({r_dummy:.2f}x), SubprocVecEnv {median(rates['subproc']):,.0f} "
            f"({r_sub:.2f}x); the lower",
            min(r_dummy, r_sub),
        ),
    }


def markdown(res: dict[str, Any]) -> str:
    train, env = res["train_steps_per_s"], res["env_steps_per_s"]
    workers = res["subproc_workers"]
    rows = [
        ["SB3 PPO + Sb3VecEnvWrapper, Isaac-Ant-v0 (Newton, MuJoCo Warp), 64 envs", "ours", "1.00"],
        ["SB3 PPO + DummyVecEnv, gymnasium Ant-v5 (MuJoCo C), 64 envs", "dummy", f"**{res['ratio_vs_dummy']:.2f}**"],
        [
            f"SB3 PPO + SubprocVecEnv, gymnasium Ant-v5, {workers} workers, n_steps x{64 // workers}",
            "subproc",
            f"**{res['ratio_vs_subproc']:.2f}**",
        ],
    ]
    table = md_table(
        ["setup (same PPO settings, 1024 samples a rollout)", "training steps/s", "env alone steps/s", "ours / this"],
        [[name, train[k], env[k], ratio] for name, k, ratio in rows],
    )
    return (
        f"Load average {res['load_avg_1m_at_start']:.1f} at start, {res['load_avg_1m_at_end']:.1f} at the end "
        f"(other jobs on the cores). {res['rounds']} rounds of {res['timesteps_per_run']:,} steps a side.\n\n{table}"
    )
