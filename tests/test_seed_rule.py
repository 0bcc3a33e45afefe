"""One seed rule, Isaac Lab's: a run's seed -1 draws one (0 to 10,000), which the run records in params/ and says.

train.py ``--seed -1``, a config's ``seed: -1``, panel.py ``--seed -1``, the panel's Seed field and
``TrainingSession(seed=-1)`` all mean it; out-of-range seeds are refused by all of them in the same words.
(panel.py serving with ``--seed -1``: tests/test_browser_panel.py's quiet-log test starts it so.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from conftest import TRAIN, run_script
from isaaclab_trainer.session import SessionState, TrainingSession
from isaaclab_trainer.tasks import load_agent_cfg, load_env_cfg
from isaaclab_trainer.train.checks import DRAWN_SEED_MAX, UsageError, check_seed
from isaaclab_trainer.train.sb3_cfg import process_sb3_cfg
from isaaclab_trainer.ui.view_model import PanelViewModel


def params_seeds(run: Path) -> tuple[int, int]:
    env = yaml.safe_load((run / "params" / "env.yaml").read_text())
    agent = yaml.safe_load((run / "params" / "agent.yaml").read_text())
    return env["seed"], agent["seed"]


def test_train_py_seed_minus_one_draws_prints_and_records(tmp_path: Path) -> None:
    res = run_script(TRAIN, "--num_envs", "4", "--seed", "-1", "--max_iterations", "1", "--headless", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    drawn = re.search(r"\[INFO\] Random seed \(-1\): drew seed (\d+)", res.stdout)
    assert drawn, res.stdout
    (run,) = (tmp_path / "logs" / "sb3" / "Isaac-Cartpole-v0").iterdir()
    assert params_seeds(run) == (int(drawn.group(1)),) * 2 and 0 <= int(drawn.group(1)) <= DRAWN_SEED_MAX


def test_session_seed_minus_one_draws_says_and_records(tmp_path: Path) -> None:
    session = TrainingSession(num_envs=4, seed=-1, log_root=tmp_path)
    seed = session.env_cfg.seed
    assert 0 <= seed <= DRAWN_SEED_MAX and session.agent_cfg["seed"] == seed
    session.build()
    assert session.status.message == f"built 4 envs (seed -1: drew {seed})"
    session.start_training(total_timesteps=64)
    while session.status.state is SessionState.TRAINING:
        session.update()
    run = Path(session.status.run_dir)
    session.close()
    assert params_seeds(run) == (seed, seed)


def test_agent_config_seed_minus_one_is_accepted() -> None:
    process_sb3_cfg({**load_agent_cfg("Isaac-Cartpole-v0"), "seed": -1}, 4)


@pytest.mark.parametrize("bad", [-2, 2**32, True, "1"])
def test_one_message_for_a_bad_seed(bad) -> None:
    with pytest.raises(UsageError, match=re.escape(f"seed must be -1 (random) or an integer from 0 to {2**32 - 1}")):
        check_seed(bad)


def test_one_rule_picks_the_seed_as_isaac_lab(tmp_path: Path) -> None:
    """Isaac Lab's sb3 train.py and play.py take the agent config's seed, overridden by --seed, and give it to the
    env config. train.py, the session and the panel's Seed field do the same; an agent config without a seed leaves
    the task config's. (The two shipped configs agree on 42: an agent config seeded 7 tells the rule apart.)"""
    task = "Isaac-Cartpole-v0"
    task_seed = load_env_cfg(task).seed
    seeded = {**load_agent_cfg(task), "seed": 7}
    unseeded = {k: v for k, v in seeded.items() if k != "seed"}
    assert task_seed != 7
    for agent_cfg, seed, expected in ((seeded, None, 7), (seeded, 3, 3), (unseeded, None, task_seed)):
        session = TrainingSession(task, num_envs=4, seed=seed, agent_cfg=agent_cfg, log_root=tmp_path)
        assert (session.env_cfg.seed, session.agent_cfg["seed"]) == (expected, expected)
    assert PanelViewModel().default_build_args().seed == load_agent_cfg(task)["seed"]
    for agent_cfg, expected in ((seeded, 7), (unseeded, task_seed)):
        agent = tmp_path / f"agent_{expected}.yaml"
        agent.write_text(yaml.safe_dump(agent_cfg))
        cwd = tmp_path / agent.stem
        cwd.mkdir()
        args = ("--agent", str(agent), "--num_envs", "4", "--max_iterations", "1", "--headless")
        res = run_script(TRAIN, *args, cwd=cwd)
        assert res.returncode == 0, res.stderr
        (run,) = (cwd / "logs" / "sb3" / task).iterdir()
        assert params_seeds(run) == (expected, expected)
