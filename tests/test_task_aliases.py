"""Isaac Lab 3.0's task names (``Isaac-Cartpole``, ``Isaac-Cartpole-Direct``) beside the ``-v0`` ids.

Same env class and configs as the ``-v0`` task; accepted by gymnasium, train.py, play.py, the session and
the panel's view-model; the panel lists each task once; a run goes under the id the user typed.
"""

from __future__ import annotations

import dataclasses
import re
import warnings

import gymnasium as gym
import pytest
import torch

from conftest import PLAY, TRAIN, run_script
from isaaclab_trainer.session.session import TrainingSession
from isaaclab_trainer.tasks import (
    ALIASES,
    check_task,
    env_class,
    load_agent_cfg,
    load_env_cfg,
    registered_tasks,
    task_ids,
)
from isaaclab_trainer.ui.view_model import PanelViewModel

PAIRS = [
    ("Isaac-Cartpole", "Isaac-Cartpole-v0"),
    ("Isaac-Cartpole-Direct", "Isaac-Cartpole-Direct-v0"),
    ("Isaac-Ant", "Isaac-Ant-v0"),
    ("Isaac-Humanoid", "Isaac-Humanoid-v0"),
]


def test_aliases_are_isaac_lab_3_names_of_existing_tasks():
    assert dict(PAIRS) == ALIASES
    # each once
    assert registered_tasks() == ["Isaac-Cartpole-v0", "Isaac-Cartpole-Direct-v0", "Isaac-Ant-v0", "Isaac-Humanoid-v0"]
    assert task_ids() == [*registered_tasks(), *(alias for alias, _ in PAIRS)]
    for alias, task in PAIRS:
        assert check_task(alias) == alias  # kept as typed: the run folder uses it
        assert env_class(alias) is env_class(task)
        assert load_env_cfg(alias) == load_env_cfg(task)
        assert load_agent_cfg(alias) == load_agent_cfg(task)


def test_unknown_task_suggests_aliases_too():
    with pytest.raises(ValueError, match=r"unknown task 'Isaac-Cartpol'; did you mean: Isaac-Cartpole\b"):
        check_task("Isaac-Cartpol")


@pytest.mark.parametrize(("alias", "task"), PAIRS[:2])
def test_gym_make_alias_steps_like_the_v0_task(alias, task):
    """gymnasium resolves the alias to the -v0 spec; same seed and actions give the same observations and rewards."""
    results = []
    for gym_id in (alias, task):
        with warnings.catch_warnings(record=True):  # gymnasium: "Using the latest versioned environment"
            warnings.simplefilter("always")
            env = gym.make(gym_id, num_envs=2, device="cpu", seed=3)
        assert env.spec.id == task
        obs, _ = env.reset()
        actions = torch.tensor([[0.5], [-1.0]])
        steps = [env.step(actions) for _ in range(5)]
        results.append((obs["policy"], steps[-1][0]["policy"], steps[-1][1]))
        assert type(env.unwrapped) is env_class(task)
        env.close()
    for a, b in zip(results[0], results[1], strict=True):
        torch.testing.assert_close(a, b)


def test_session_and_panel_accept_aliases(tmp_path):
    session = TrainingSession(task="Isaac-Cartpole-Direct", num_envs=2, log_root=str(tmp_path))
    assert session.task == "Isaac-Cartpole-Direct"
    assert dataclasses.asdict(session.env_cfg) == dataclasses.asdict(load_env_cfg("Isaac-Cartpole-Direct-v0")) | {
        "num_envs": 2
    }
    session.close()

    built: list[dict] = []

    class Recorder:
        """Stands in for the session the panel would build; records what the panel passes."""

        def __init__(self, **kwargs):
            built.append(kwargs)

        def build(self):
            return None

        def set_render_mode(self, mode):
            return None

    vm = PanelViewModel(session_factory=Recorder, latest_checkpoint_fn=lambda task, root: None)
    assert vm.tasks == registered_tasks()  # the dropdown shows each task once
    assert vm.on_build("Isaac-Cartpole", 4, 1, "auto"), vm.refresh().status_line
    assert built[-1]["task"] == "Isaac-Cartpole"


def test_train_and_play_with_isaac_lab_3_name(tmp_path):
    """train.py --task Isaac-Cartpole writes logs/sb3/Isaac-Cartpole/<run>; play.py finds it by the same name."""
    train_args = ["--task", "Isaac-Cartpole", "--num_envs", "8", "--headless", "--max_iterations", "1"]
    res = run_script(TRAIN, *train_args, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    (run,) = (tmp_path / "logs" / "sb3" / "Isaac-Cartpole").iterdir()
    assert (run / "model.zip").is_file()
    assert not (tmp_path / "logs" / "sb3" / "Isaac-Cartpole-v0").exists()
    play_args = ["--task", "Isaac-Cartpole", "--num_envs", "4", "--headless", "--use_last_checkpoint"]
    res = run_script(PLAY, *play_args, "--num_episodes", "1", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert re.search(r"^episodes: 1  mean return: ", res.stdout, re.M), res.stdout
