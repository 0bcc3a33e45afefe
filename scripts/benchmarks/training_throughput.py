"""2. Training throughput: SB3 PPO on Isaac-Cartpole-v0 through our wrapper vs on gymnasium's
CartPole-v1 in SB3's DummyVecEnv, both 64 envs and the cartpole PPO config
(config/agents/sb3_ppo_cartpole.yaml: n_steps 16, batch 4096, 20 epochs, [32, 32] ELU).

Ours is built by the package's ``make_env`` + ``setup_training`` (as train.py); the alternative by
``make_vec_env(..., vec_env_cls=DummyVecEnv)`` + ``PPO(**same kwargs)``. Each side's ``learn()`` is
timed by the same callback, in alternating rounds. Ratio = ours steps/s / alternative steps/s.
"""

from __future__ import annotations

from typing import Any

from common import Clock, agent_cfg, interleaved, line, median, paired_ratio, setup_ours

NAME = "training_throughput"
NUM_ENVS = 64


def ours_rate(total: int, seed: int = 42) -> float:
    clock = Clock()
    setup = setup_ours(NUM_ENVS, total, seed, callbacks=[clock])
    setup.agent.learn(total_timesteps=total, callback=setup.callbacks, reset_num_timesteps=True)
    setup.vec_env.close()
    return clock.steps_per_s


def gym_rate(total: int, seed: int = 42) -> float:
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv

    from isaaclab_trainer.train.sb3_cfg import process_sb3_cfg

    settings = process_sb3_cfg(agent_cfg(seed), NUM_ENVS)
    venv = make_vec_env("CartPole-v1", n_envs=NUM_ENVS, seed=seed, vec_env_cls=DummyVecEnv)
    agent = PPO(settings.policy, venv, verbose=0, **settings.ppo_kwargs)
    clock = Clock()
    agent.learn(total_timesteps=total, callback=clock)
    venv.close()
    return clock.steps_per_s


def run(quick: bool) -> dict[str, Any]:
    rollout = 16 * NUM_ENVS
    total = rollout * (12 if quick else 60)
    repeats = 2 if quick else 3
    rates = interleaved({"ours": lambda: ours_rate(total), "gym": lambda: gym_rate(total)}, repeats)
    ratio = paired_ratio(rates["ours"], rates["gym"])
    ours, gym = median(rates["ours"]), median(rates["gym"])
    return {
        "num_envs": NUM_ENVS,
        "timesteps_per_run": total,
        "rounds": repeats,
        "ours_steps_per_s": ours,
        "gym_dummyvecenv_steps_per_s": gym,
        "ours_all": rates["ours"],
        "gym_all": rates["gym"],
        "ratio": ratio,
        "target": ">= 1.0",
        "met": ratio >= 1.0,
        "line": line(
            "2 training throughput",
            f"PPO 64 envs: ours {ours:,.0f} steps/s vs CartPole-v1 DummyVecEnv {gym:,.0f} steps/s (ours/gym)",
            ratio,
        ),
    }


def markdown(res: dict[str, Any]) -> str:
    from common import md_table

    return md_table(
        ["setup (64 envs, same PPO settings)", "env steps/s", "ratio"],
        [
            [
                "SB3 PPO + Sb3VecEnvWrapper, Isaac-Cartpole-v0 (Newton)",
                res["ours_steps_per_s"],
                f"**{res['ratio']:.2f}**",
            ],
            ["SB3 PPO + DummyVecEnv, gymnasium CartPole-v1", res["gym_dummyvecenv_steps_per_s"], "1.00"],
        ],
    )
