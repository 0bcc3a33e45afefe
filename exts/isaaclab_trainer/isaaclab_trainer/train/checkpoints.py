"""Loading SB3 checkpoints without running code from the file.

An SB3 zip stores some entries of its ``data`` JSON with cloudpickle; ``PPO.load`` would unpickle
them, and a crafted file would run its payload. Every such entry is supplied here from our own
task and agent config through ``custom_objects``, so SB3 never unpickles anything.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecEnv

from .sb3_cfg import AgentSettings


def _serialized_keys(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("data"))
    return [k for k, v in data.items() if isinstance(v, dict) and ":serialized:" in v]


def safe_custom_objects(path: Path, env: VecEnv, settings: AgentSettings) -> dict[str, Any]:
    """A value for every cloudpickled entry of ``path``'s data, built from our config (None if unknown)."""
    template = PPO(settings.policy, env, verbose=0, **{**settings.ppo_kwargs, "device": "cpu", "seed": None})
    known = {
        "policy_class": template.policy_class,
        "observation_space": env.observation_space,
        "action_space": env.action_space,
        "lr_schedule": template.lr_schedule,
        "learning_rate": template.learning_rate,
        "clip_range": template.clip_range,
        "clip_range_vf": template.clip_range_vf,
        "policy_kwargs": template.policy_kwargs,
    }
    return {key: known.get(key) for key in _serialized_keys(path)}


def load_agent(path: str | os.PathLike, env: VecEnv, settings: AgentSettings) -> PPO:
    """Load a PPO checkpoint for ``env`` with every pickled entry replaced by our own objects."""
    path = Path(path)
    custom = safe_custom_objects(path, env, settings)
    device = settings.ppo_kwargs.get("device", "auto")
    return PPO.load(path, env=env, device=device, custom_objects=custom)
