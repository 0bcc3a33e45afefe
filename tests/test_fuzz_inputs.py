"""Every input a user can type, fuzzed (Hypothesis): script flags, task and agent YAML files.

For every drawn command line and config file the README's contract must hold: the run proceeds
normally (its env is built, its agent or policy loaded and stepped, then it is stopped where the
long loop would start), or it prints exactly one line ``<script>: error: ...`` naming a value it
was given, exits with status 2, shows no traceback and writes nothing. Scripts run in-process
(see ``fuzzing.run_in_process``) so hundreds of draws fit; ``test_real_process_*`` confirm the
exit status and stderr of real processes for a few of them.

Adding a script is one entry in :data:`SCRIPTS`. Examples are derandomized (the same draws on
every run) and bounded, so the suite's time is stable in CI. Failing examples Hypothesis found are
kept as regular tests in ``test_bad_input.py`` (``FOUND_BY_FUZZING``).
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest
import yaml
from fuzzing import (
    DEVICE_VALUES,
    TASK_VALUES,
    InputFiles,
    Script,
    argv_strategy,
    assert_contract,
    plausible_values,
    run_in_process,
    script_globals,
    unreadable_file,
    yaml_documents,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from stable_baselines3 import PPO

from conftest import PLAY, REPO, TRAIN, run_script
from isaaclab_trainer.tasks import load_agent_cfg, load_env_cfg
from isaaclab_trainer.train.sb3_cfg import OWN_KEYS, _ppo_keys, process_sb3_cfg
from isaaclab_trainer.wrappers.sb3 import Sb3VecEnvWrapper

TASK = "Isaac-Cartpole-v0"
#: a rollout this small is really trained on (one PPO iteration) before the run is stopped
LEARN_ROLLOUT_LIMIT = 256


def take_training_steps(setup: Any, **_: Any) -> None:
    """train.py's seam (``run_learning``): one real PPO iteration when the rollout is small, else
    two env steps with the agent's policy."""
    small = setup.settings.rollout_size(setup.vec_env.num_envs) <= LEARN_ROLLOUT_LIMIT
    if small and setup.agent.n_epochs <= 64:  # n_epochs 2**31 is a valid (endless) request
        setup.agent.learn(total_timesteps=1, callback=setup.callbacks, reset_num_timesteps=setup.reset_num_timesteps)
        return
    obs = setup.vec_env.reset()
    for _ in range(2):
        actions, _ = setup.agent.predict(obs)
        obs, *_ = setup.vec_env.step(actions)


def take_play_steps(player: Any, *_: Any, **__: Any) -> None:
    """play.py's seam (``evaluate``): two deterministic policy steps."""
    for _ in range(2):
        player.step()


def no_steps(*_: Any, **__: Any) -> None:
    """A script whose heavy work is one call: stopping there is the whole seam."""


#: every script a user runs: the script, the function its long work starts with, and a few real
#: steps there. Still to add: panel.py (serves until stopped) and ray/tune.py (Ray workers).
SCRIPTS: dict[str, Script] = {
    "train": Script(TRAIN, stop_at="isaaclab_trainer.train.trainer:run_learning", proceed=take_training_steps),
    "play": Script(PLAY, stop_at="isaaclab_trainer.train.player:evaluate", proceed=take_play_steps),
    "export": Script(
        TRAIN.with_name("export.py"), "isaaclab_trainer.train.export:export_policy", no_steps, fixed_args=()
    ),
}

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> InputFiles:
    """Checkpoints of every kind (one real, the rest broken) and a folder for drawn YAML files."""
    root = tmp_path_factory.mktemp("fuzz_inputs")
    venv = Sb3VecEnvWrapper(gym.make(TASK, num_envs=2))
    settings_ = process_sb3_cfg(load_agent_cfg(TASK), 2)
    PPO(settings_.policy, venv, **settings_.ppo_kwargs).save(root / "valid.zip")
    venv.close()
    PPO("MlpPolicy", gym.make("Pendulum-v1"), n_steps=64, batch_size=64, device="cpu").save(root / "pendulum.zip")
    raw = (root / "valid.zip").read_bytes()
    (root / "truncated.zip").write_bytes(raw[: len(raw) // 2])
    (root / "text.zip").write_text("not a zip\n")
    (root / "empty.zip").write_bytes(b"")
    with zipfile.ZipFile(root / "photos.zip", "w") as z:
        z.writestr("cat.txt", "meow")
    (root / "a_folder").mkdir()
    checkpoints = {
        "valid": root / "valid.zip",
        "other_task": root / "pendulum.zip",
        "truncated": root / "truncated.zip",
        "text": root / "text.zip",
        "empty": root / "empty.zip",
        "not_sb3": root / "photos.zip",
        "folder": root / "a_folder",
        "missing": root / "missing.zip",
        "unreadable": unreadable_file(root, "unreadable.zip", raw),
    }
    (root / "yaml").mkdir()
    return InputFiles(root=root, checkpoints=checkpoints, yaml_dir=root / "yaml")


def agent_yaml_documents() -> st.SearchStrategy[str]:
    """Agent YAML: the shipped one edited, with every key PPO or we accept available to set."""
    base = load_agent_cfg(TASK)
    extra = {k: plausible_values(0.5) for k in _ppo_keys() if k not in base}
    extra.update({k: plausible_values(v) for k, v in {"normalize_input": True, "normalize_value": True}.items()})
    extra.update({"clip_obs": plausible_values(5.0), "n_minibatches": plausible_values(4)})
    extra.update({"use_sde": st.booleans(), "target_kl": st.one_of(st.none(), plausible_values(0.01))})
    extra.update({"policy": st.sampled_from(("MlpPolicy", "CnnPolicy", "MultiInputPolicy", "Mlp", ""))})
    extra.update({"device": st.sampled_from(("auto", *DEVICE_VALUES))})
    assert set(extra) | set(base) >= set(OWN_KEYS)
    return yaml_documents(base, extra)


def task_yaml_documents() -> st.SearchStrategy[str]:
    """Task YAML: the shipped one edited (its keys are CartpoleEnvCfg's fields)."""
    base = yaml.safe_load((REPO / "config" / "tasks" / f"{TASK}.yaml").read_text())
    extra = {"device": st.sampled_from(DEVICE_VALUES), "backend": st.sampled_from(("auto", "newton", "physx", "x"))}
    extra["num_envs"] = st.one_of(st.integers(-2, 8), st.sampled_from((0, 2**31, 10**12)))
    return yaml_documents(base, extra)


def specials(inputs: InputFiles) -> dict[str, st.SearchStrategy[str]]:
    """Values of the flags typed ``str``, by dest: what each one means."""
    return {
        "task": st.sampled_from(TASK_VALUES),
        "device": st.sampled_from(DEVICE_VALUES),
        "checkpoint": inputs.checkpoint_paths(),
        "agent": st.one_of(
            agent_yaml_documents().map(inputs.yaml_file),
            st.sampled_from(("nowhere.yaml", "", str(inputs.root), str(inputs.checkpoints["unreadable"]))),
        ),
        # small env counts and seeds keep the runs that proceed cheap; the edges are drawn too
        "num_envs": st.one_of(st.integers(-1, 8).map(str), st.sampled_from(("0", "10000000000", "lots", ""))),
    }


def test_every_str_flag_has_values_of_its_kind():
    """A new flag typed ``str`` needs an entry in :func:`specials`, or it is only fuzzed with junk."""
    known = {"task", "device", "checkpoint", "agent"}
    for name, script in SCRIPTS.items():
        parser = script.parser(script_globals(script))
        free = {a.dest for a in parser._actions if a.option_strings and a.type is str and a.dest not in known}
        assert not free, f"{name}: give {sorted(free)} values in specials()"


def check_run(script: Script, argv: list[str], inputs: InputFiles, env: dict[str, str] | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        outcome = run_in_process(script, [*script.fixed_args, *argv], cwd, env)
        # a missing package is not a typed value: its message names the install command instead
        names = [str(cwd), str(inputs.root), "pip install", *(env or {}).values()]
        event("proceeded" if outcome.proceeded else f"exit {outcome.code}")
        assert_contract(outcome, script.prog, argv, cwd, names)


@pytest.mark.parametrize("name", list(SCRIPTS))
@settings(FUZZ, max_examples=80)
@given(data=st.data())
def test_script_arguments(name, inputs, data):
    """Command lines drawn from the script's own parser: any text, missing values, unknown flags."""
    script = SCRIPTS[name]
    argv = data.draw(argv_strategy(script.parser(script_globals(script)), specials(inputs)), label="argv")
    check_run(script, argv, inputs)


@pytest.mark.parametrize("name", list(SCRIPTS))
@settings(FUZZ, max_examples=80)
@given(data=st.data())
def test_script_argument_values(name, inputs, data):
    """Command lines whose values are each of their flag's kind (edges and huge numbers included)."""
    script = SCRIPTS[name]
    argv = data.draw(argv_strategy(script.parser(script_globals(script)), specials(inputs), junk=False), label="argv")
    check_run(script, argv, inputs)


@pytest.mark.parametrize("name", list(SCRIPTS))
@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_task_yaml(name, inputs, data):
    """Task YAML files (both tasks' files hold the drawn document), with a valid command line."""
    text = data.draw(task_yaml_documents(), label="task yaml")
    argv = data.draw(st.sampled_from(([], ["--num_envs", "2"], ["--task", "Isaac-Cartpole-Direct-v0"])), label="argv")
    if name == "play":
        argv = [*argv, "--checkpoint", str(inputs.checkpoints["valid"])]
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp)
        for sub in ("tasks", "agents"):
            (config / sub).mkdir()
        for task_file in (REPO / "config" / "tasks").iterdir():
            (config / "tasks" / task_file.name).write_text(text)
        for agent_file in (REPO / "config" / "agents").iterdir():
            (config / "agents" / agent_file.name).write_text(agent_file.read_text())
        check_run(SCRIPTS[name], argv, inputs, env={"ISAACLAB_TRAINER_CONFIG": str(config)})


@settings(FUZZ, max_examples=50)
@given(text=agent_yaml_documents(), num_envs=st.sampled_from(("1", "2", "8")))
def test_agent_yaml(inputs, text, num_envs):
    """Agent YAML files given with ``train.py --agent``."""
    check_run(SCRIPTS["train"], ["--agent", inputs.yaml_file(text), "--num_envs", num_envs], inputs)


def test_shipped_configs_proceed(inputs):
    """The shipped files through the same runner: the seam is reached (the harness is not vacuous)."""
    with tempfile.TemporaryDirectory() as tmp:
        outcome = run_in_process(SCRIPTS["train"], ["--headless", "--num_envs", "2"], Path(tmp))
        assert outcome.proceeded, outcome.stderr
        assert list(Path(tmp).glob("logs/sb3/*/*/params/agent.yaml"))
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["--headless", "--num_envs", "2", "--checkpoint", str(inputs.checkpoints["valid"])]
        assert run_in_process(SCRIPTS["play"], argv, Path(tmp)).proceeded
    assert load_env_cfg(TASK).num_envs >= 1


# -- real processes: the in-process verdicts hold for the exit status and stderr of python ---------

PROCESS_CASES = {
    "cuda without CUDA": (TRAIN, ["--device", "cuda", "--max_iterations", "1"]),
    "garbled agent YAML": (TRAIN, ["--agent", "{yaml}"]),
    "help": (PLAY, ["--help"]),
}


@pytest.mark.parametrize("case", list(PROCESS_CASES))
def test_real_process(case, inputs, tmp_path):
    script, args = PROCESS_CASES[case]
    args = [a.format(yaml=inputs.yaml_file("n_steps: [16\n")) for a in args]
    res = run_script(script, *args, "--headless", cwd=tmp_path, timeout=120)
    in_process = run_in_process(SCRIPTS[script.stem], [*args, "--headless"], tmp_path)
    assert res.returncode == in_process.code, res.stderr
    assert "Traceback" not in res.stderr
    if res.returncode == 2:
        assert res.stderr.strip() == in_process.stderr.strip() and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "logs").exists()
