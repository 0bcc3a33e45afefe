"""Loading a checkpoint never runs code from it (play.py, the panel's session, resume).

Each crafted file carries a pickled payload that would create a marker file if it were unpickled;
loading must fail cleanly or succeed, and the marker must never appear.
"""

from __future__ import annotations

import base64
import inspect
import io
import json
import pickle
import zipfile
from pathlib import Path

import cloudpickle
import numpy as np
import pytest
import torch
from stable_baselines3 import PPO
from stable_baselines3.common import save_util
from stable_baselines3.common.vec_env import VecNormalize

from isaaclab_trainer.tasks import load_agent_cfg, load_env_cfg
from isaaclab_trainer.train.checkpoints import load_agent, load_vecnormalize_stats, safe_custom_objects
from isaaclab_trainer.train.checks import UsageError, check_checkpoint
from isaaclab_trainer.train.player import load_policy
from isaaclab_trainer.train.runs import vecnormalize_path
from isaaclab_trainer.train.sb3_cfg import process_sb3_cfg
from isaaclab_trainer.train.trainer import make_env
from isaaclab_trainer.wrappers.sb3 import Sb3VecEnvWrapper

TASK = "Isaac-Cartpole-v0"
NUM_ENVS = 4


class Payload:
    """Unpickling this runs ``open(marker, "w")``."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


@pytest.fixture(scope="module")
def env():
    cfg = load_env_cfg(TASK)
    cfg.num_envs = NUM_ENVS
    env = make_env(TASK, cfg)
    yield env
    env.close()


@pytest.fixture(scope="module")
def settings():
    return process_sb3_cfg(load_agent_cfg(TASK), NUM_ENVS)


@pytest.fixture(scope="module")
def checkpoint(env, settings, tmp_path_factory) -> Path:
    """A genuine checkpoint of the task, with VecNormalize statistics beside it."""
    vec = VecNormalize(Sb3VecEnvWrapper(env), norm_reward=False)
    agent = PPO(settings.policy, vec, verbose=0, **settings.ppo_kwargs)
    path = tmp_path_factory.mktemp("ckpt") / "model_64_steps.zip"
    agent.num_timesteps = 64
    agent.save(path)
    vec.reset()
    vec.step(np.zeros((NUM_ENVS, 1), dtype=np.float32))
    vec.save(str(vecnormalize_path(path)))
    return path


def rewrite_zip(src: Path, dst: Path, replace: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, replace.get(name, zin.read(name)))
    return dst


def payload_b64(marker: Path) -> str:
    return base64.b64encode(cloudpickle.dumps(Payload(marker))).decode()


def test_payload_really_runs_when_unpickled(tmp_path):
    """The payload is live: plain unpickling (what SB3 does without custom_objects) creates the marker."""
    marker = tmp_path / "marker"
    cloudpickle.loads(base64.b64decode(payload_b64(marker)))
    assert marker.exists()


def test_serialized_entries_are_never_unpickled(checkpoint, env, settings, tmp_path):
    marker = tmp_path / "pwned"
    with zipfile.ZipFile(checkpoint) as z:
        data = json.loads(z.read("data"))
    serialized = [k for k, v in data.items() if isinstance(v, dict) and ":serialized:" in v]
    assert {"policy_class", "observation_space", "action_space", "lr_schedule", "clip_range"} <= set(serialized)
    for key in serialized:  # every known pickled entry carries the payload ...
        data[key][":serialized:"] = payload_b64(marker)
    data["mystery_entry"] = {
        ":type:": "<class 'object'>",
        ":serialized:": payload_b64(marker),
    }  # ... and an unknown one
    data["policy_kwargs"] = {":serialized:": payload_b64(marker)}
    crafted = rewrite_zip(checkpoint, tmp_path / "model.zip", {"data": json.dumps(data).encode()})

    checked = check_checkpoint(crafted, TASK)
    custom = safe_custom_objects(checked, Sb3VecEnvWrapper(env), settings)
    assert set(serialized) | {"mystery_entry", "policy_kwargs"} <= set(custom)
    agent = load_agent(checked, Sb3VecEnvWrapper(env), settings)
    assert not marker.exists()
    assert agent.num_timesteps == 64
    assert agent.observation_space.shape == (4,)


def test_policy_tensors_use_the_weights_only_loader(checkpoint, env, settings, tmp_path):
    # SB3 2.9's own loader (regression guard if SB3 changes) ...
    assert "weights_only=True" in inspect.getsource(save_util.load_from_zip_file)
    # ... and a policy.pth holding a pickled payload is refused by ours before SB3 sees it
    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    torch.save({"mlp_extractor.policy_net.0.weight": Payload(marker)}, buf)
    crafted = rewrite_zip(checkpoint, tmp_path / "model.zip", {"policy.pth": buf.getvalue()})
    checked = check_checkpoint(crafted, TASK)
    with pytest.raises(UsageError, match="policy weights that cannot be loaded safely"):
        load_agent(checked, Sb3VecEnvWrapper(env), settings)
    assert not marker.exists()
    # and by SB3's own loader too
    with pytest.raises(Exception):  # noqa: B017, PT011 - torch's UnpicklingError
        save_util.load_from_zip_file(
            crafted, custom_objects=safe_custom_objects(checked, Sb3VecEnvWrapper(env), settings)
        )
    assert not marker.exists()


def test_vecnormalize_statistics_round_trip(checkpoint, env):
    stats = load_vecnormalize_stats(vecnormalize_path(checkpoint), (4,))
    with open(vecnormalize_path(checkpoint), "rb") as f:
        reference = pickle.load(f)  # our own file, written above: trusted here
    np.testing.assert_array_equal(stats.obs_rms.mean, reference.obs_rms.mean)
    assert stats.obs_rms.count == reference.obs_rms.count > 1


def test_vecnormalize_payload_is_refused(checkpoint, env, tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "model_vecnormalize.pkl"
    evil.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(UsageError, match="references builtins.exec, which a statistics file never holds"):
        load_vecnormalize_stats(evil, (4,))
    assert not marker.exists()
    # the same file beside a genuine checkpoint: the player (play.py and the panel) refuses it too
    (tmp_path / "model.zip").write_bytes(checkpoint.read_bytes())
    with pytest.raises(ValueError, match="statistics .* were refused"):
        load_policy(check_checkpoint(tmp_path / "model.zip", TASK), env, TASK)
    assert not marker.exists()


def test_vecnormalize_of_another_task_is_refused(checkpoint, tmp_path):
    with pytest.raises(UsageError, match=r"observations of shape \(4,\), not \(3,\)"):
        load_vecnormalize_stats(vecnormalize_path(checkpoint), (3,))


def test_player_loads_a_genuine_checkpoint_with_frozen_statistics(checkpoint, env):
    player = load_policy(check_checkpoint(checkpoint, TASK), env, TASK)
    assert isinstance(player.vec_env, VecNormalize)
    assert player.vec_env.training is False and player.vec_env.norm_reward is False
    player.step()


def test_resets_after_loading_follow_the_env_seed_not_the_checkpoints(checkpoint):
    """``play.py --seed`` (the env config's seed) decides the episodes played; PPO.load reseeds the
    env with the seed stored in the checkpoint, and the player puts the env's own seed back."""
    first_obs = []
    for seed in (1, 2, 1):
        cfg = load_env_cfg(TASK)
        cfg.num_envs, cfg.seed = NUM_ENVS, seed
        env = make_env(TASK, cfg)
        try:
            first_obs.append(load_policy(check_checkpoint(checkpoint, TASK), env, TASK).vec_env.get_original_obs())
        finally:
            env.close()
    assert np.array_equal(first_obs[0], first_obs[2])
    assert not np.allclose(first_obs[0], first_obs[1])
