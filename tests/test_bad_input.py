"""Bad input, everywhere it enters: one clear line naming the value and what is accepted.

Scripts exit with status 2 before any scene is built and leave no run folder. Most cases run the
real script in-process (``runpy``, same code path, without paying torch's import for each); a few
run it as a subprocess to check the exit status and stderr of a real process. The session and the
panel (which drives it) get a ``ValueError`` with the same message.
"""

from __future__ import annotations

import os
import runpy
import shutil
import sys
import zipfile
from pathlib import Path

import gymnasium as gym
import pytest
from stable_baselines3 import PPO

from conftest import PLAY, REPO, TRAIN, run_script
from isaaclab_trainer.session import TrainingSession
from isaaclab_trainer.train import checks
from isaaclab_trainer.wrappers.sb3 import Sb3VecEnvWrapper

AGENT_YAML = (REPO / "config" / "agents" / "sb3_ppo_cartpole.yaml").read_text()
ENV_YAML = (REPO / "config" / "tasks" / "Isaac-Cartpole-v0.yaml").read_text()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Bad checkpoints and config files, made once."""
    d = tmp_path_factory.mktemp("inputs")
    out = {"folder": d / "run_folder"}
    out["folder"].mkdir()
    (out["folder"] / "model.zip").write_bytes(b"")
    out["text"] = d / "notes.zip"
    out["text"].write_text("this is not a zip\n")
    other = PPO("MlpPolicy", gym.make("Pendulum-v1"), n_steps=64, batch_size=64, device="cpu")
    other.save(d / "pendulum.zip")  # obs (3,), act (1,): another task
    out["other_task"] = d / "pendulum.zip"
    raw = out["other_task"].read_bytes()
    out["truncated"] = d / "truncated.zip"
    out["truncated"].write_bytes(raw[: len(raw) // 2])
    out["not_sb3"] = d / "photos.zip"
    with zipfile.ZipFile(out["not_sb3"], "w") as z:
        z.writestr("cat.txt", "meow")
    venv = Sb3VecEnvWrapper(gym.make("Isaac-Cartpole-v0", num_envs=2))
    PPO("MlpPolicy", venv, policy_kwargs={"net_arch": [8]}, device="cpu").save(d / "small_net.zip")
    venv.close()
    out["other_network"] = d / "small_net.zip"  # right task, but not the configured [32, 32] network
    out["not_yaml"] = d / "not_yaml.yaml"
    out["not_yaml"].write_text("n_steps: [16, 32\nseed: 1\n")
    out["unknown_key"] = d / "unknown_key.yaml"
    out["unknown_key"].write_text(AGENT_YAML.replace("n_steps: 16", "n_step: 16"))
    out["wrong_type"] = d / "wrong_type.yaml"
    out["wrong_type"].write_text(AGENT_YAML.replace("gamma: 0.99", "gamma: high"))
    out["bad_stop"] = d / "bad_stop.yaml"
    out["bad_stop"].write_text(AGENT_YAML.replace("stop_at_eval_return: 4.9", "stop_at_eval_return: solved"))
    out["bad_policy_kwargs"] = d / "bad_policy_kwargs.yaml"
    out["bad_policy_kwargs"].write_text(AGENT_YAML.replace("net_arch:", "net_arc:"))
    return out


def env_config_dir(tmp_path: Path, text: str) -> Path:
    """A copy of config/ whose Isaac-Cartpole-v0.yaml holds ``text``."""
    d = tmp_path / "config"
    shutil.copytree(REPO / "config", d)
    (d / "tasks" / "Isaac-Cartpole-v0.yaml").write_text(text)
    return d


def run_inprocess(script: Path, args: list[str], cwd: Path, monkeypatch, capsys) -> tuple[int, str]:
    """Run ``script`` as __main__ in this process; returns (exit status, stderr)."""
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", [str(script), "--headless", *args])
    with pytest.raises(SystemExit) as exc_info:
        runpy.run_path(str(script), run_name="__main__")
    return exc_info.value.code, capsys.readouterr().err


def assert_one_line_error(code, err: str, prog: str, *expected: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{prog}: error: "), err
    assert "Traceback" not in err
    for text in expected:
        assert text in lines[0], (text, lines[0])


# (script, args with {placeholders}, words the message must hold)
CASES = {
    "unknown task": (TRAIN, ["--task", "Isaac-Cartpol-v0"], ["'Isaac-Cartpol-v0'", "did you mean: Isaac-Cartpole-v0"]),
    "unknown task (play)": (PLAY, ["--task", "cartpole"], ["unknown task 'cartpole'", "registered:"]),
    "num_envs 0": (TRAIN, ["--num_envs", "0"], ["--num_envs", "0 is below 1", "an integer >= 1"]),
    "num_envs negative": (TRAIN, ["--num_envs", "-5"], ["-5 is below 1", "an integer >= 1"]),
    "num_envs not a number": (TRAIN, ["--num_envs", "lots"], ["'lots' is not an integer", "an integer >= 1"]),
    "num_envs too large": (
        TRAIN,
        ["--num_envs", "1000000000"],
        ["--num_envs 1000000000 needs about", "accepted: 1 to"],
    ),
    "num_envs 0 (play)": (PLAY, ["--num_envs", "0"], ["0 is below 1"]),
    "agent YAML not YAML": (TRAIN, ["--agent", "{not_yaml}"], ["{not_yaml}", "is not valid YAML (line"]),
    "agent YAML missing": (TRAIN, ["--agent", "nowhere.yaml"], ["config file not found: nowhere.yaml"]),
    "agent YAML unknown key": (TRAIN, ["--agent", "{unknown_key}"], ["unknown key 'n_step'", "did you mean 'n_steps'"]),
    "agent YAML wrong type": (TRAIN, ["--agent", "{wrong_type}"], ["'gamma' must be a number, got 'high'"]),
    "agent YAML stop not a number": (
        TRAIN,
        ["--agent", "{bad_stop}"],
        ["'stop_at_eval_return' must be a number or null, got 'solved'"],
    ),
    "agent YAML policy_kwargs key": (
        TRAIN,
        ["--agent", "{bad_policy_kwargs}"],
        ["unknown key 'policy_kwargs.net_arc'", "'net_arch'"],
    ),
    "checkpoint missing": (TRAIN, ["--checkpoint", "gone/model.zip"], ["checkpoint 'gone/model.zip' does not exist"]),
    "checkpoint missing (play)": (PLAY, ["--checkpoint", "gone.zip"], ["checkpoint 'gone.zip' does not exist"]),
    "checkpoint is a folder": (TRAIN, ["--checkpoint", "{folder}"], ["is a folder; give the model .zip inside it"]),
    "checkpoint is a folder (play)": (PLAY, ["--checkpoint", "{folder}"], ["is a folder"]),
    "checkpoint not a zip": (PLAY, ["--checkpoint", "{text}"], ["is not a zip file (accepted: an SB3 model .zip)"]),
    "checkpoint truncated zip": (PLAY, ["--checkpoint", "{truncated}"], ["is a truncated or damaged zip"]),
    "checkpoint truncated zip (train)": (TRAIN, ["--checkpoint", "{truncated}"], ["is a truncated or damaged zip"]),
    "checkpoint zip not SB3": (PLAY, ["--checkpoint", "{not_sb3}"], ["is a zip but not an SB3 model", "'data'"]),
    "checkpoint of another task": (
        PLAY,
        ["--checkpoint", "{other_task}"],
        ["belongs to another task", "shape (3,)", "Isaac-Cartpole-v0 has (4,) and (1,)"],
    ),
    "checkpoint of another task (train)": (TRAIN, ["--checkpoint", "{other_task}"], ["belongs to another task"]),
    "checkpoint with another network (train)": (TRAIN, ["--checkpoint", "{other_network}"], ["does not fit"]),
    "checkpoint with another network (play)": (PLAY, ["--checkpoint", "{other_network}"], ["does not fit"]),
    "use_last_checkpoint without runs": (
        PLAY,
        ["--use_last_checkpoint"],
        ["no run with a model_<steps>_steps.zip or model.zip under", "train first or give --checkpoint"],
    ),
    "play without runs": (PLAY, [], ["no run with a model.zip under"]),
    "bad device": (TRAIN, ["--device", "gpu0"], ["--device 'gpu0' is not accepted (use cpu, cuda or cuda:N)"]),
    "bad backend": (TRAIN, ["--backend", "bullet"], ["invalid choice: 'bullet'"]),
    "unknown flag": (TRAIN, ["--num-envs", "8"], ["unrecognized arguments: --num-envs"]),
}


#: failing examples the property-based suite (test_fuzz_inputs.py) found, kept as regular cases
FOUND_BY_FUZZING = {
    "cuda without CUDA": (TRAIN, ["--device", "cuda"], ["--device 'cuda' is not available here", "(available: cpu)"]),
    "cuda:0 without CUDA (play)": (PLAY, ["--device", "cuda:0"], ["--device 'cuda:0' is not available", "cpu)"]),
    "cuda:3 without CUDA": (TRAIN, ["--device", "cuda:3"], ["'cuda:3' is not available here: torch sees no CUDA"]),
    "control character in a value": (TRAIN, ["--num_envs", "\x85"], ["'\\x85' is not an integer"]),
    "newline in the task": (TRAIN, ["--task", "Isaac-Cartpole-v0\n"], ["unknown task 'Isaac-Cartpole-v0\\n'"]),
    "empty checkpoint path": (
        PLAY,
        ["--use_last_checkpoint", "--checkpoint="],
        ["checkpoint path '' is empty (accepted: the path of an SB3 model .zip)"],
    ),
    "empty agent path": (TRAIN, ["--agent", ""], ["config file path '' is empty (accepted: the path of a YAML file)"]),
    "negative seed": (
        TRAIN,
        ["--device", "cpu", "--seed", "-2"],
        ["--seed must be -1 (random) or an integer from 0 to 4294967295, got -2"],
    ),
    "seed above numpy's range": (
        PLAY,
        ["--seed", "4294967296"],
        ["--seed must be -1 (random) or an integer from 0 to 4294967295, got 42"],
    ),
    "seed not an integer": (TRAIN, ["--seed", ""], ["argument --seed: '' is not an integer (accepted: -1 for"]),
}


@pytest.mark.parametrize("case", list(CASES) + list(FOUND_BY_FUZZING))
def test_script_rejects(case, files, tmp_path, monkeypatch, capsys):
    script, args, expected = CASES.get(case) or FOUND_BY_FUZZING[case]
    names = {k: str(v) for k, v in files.items()}
    args = [a.format(**names) for a in args]
    expected = [e.format(**names) for e in expected]
    code, err = run_inprocess(script, args, tmp_path, monkeypatch, capsys)
    assert_one_line_error(code, err, script.name, *expected)
    assert not (tmp_path / "logs").exists()


PANEL = REPO / "scripts" / "reinforcement_learning" / "sb3" / "panel.py"
PANEL_CASES = {
    # 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of a real machine
    "host not of this machine": (["--host", "192.0.2.1"], ["--host '192.0.2.1' is not an address of this machine"]),
    "port out of range": (["--port", "70000"], ["--port 70000 is not accepted (accepted: 0 to 65535"]),
    "token too short": (["--token", "abc"], ["--token has 3 characters (accepted: at least 16 of A-Z a-z 0-9"]),
    "token not URL-safe": (
        ["--host", "0.0.0.0", "--token", "secret token; with spaces"],
        ["--token has 25 characters, some not URL-safe (accepted: at least 16 of"],
    ),
}


@pytest.mark.parametrize("case", list(PANEL_CASES))
def test_panel_script_rejects(case, tmp_path, monkeypatch, capsys):
    args, expected = PANEL_CASES[case]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(PANEL), *args])
    with pytest.raises(SystemExit) as exc_info:
        runpy.run_path(str(PANEL), run_name="__main__")
    assert_one_line_error(exc_info.value.code, capsys.readouterr().err, "panel.py", *expected)
    assert not (tmp_path / "logs").exists()


ENV_YAML_CASES = {
    "env YAML unknown key": (ENV_YAML.replace("num_envs: 64", "num_env: 64"), ["unknown key 'num_env'", "'num_envs'"]),
    "env YAML wrong type": (ENV_YAML.replace("num_envs: 64", "num_envs: many"), ["'num_envs' must be int, got 'many'"]),
    "env YAML num_envs 0": (
        ENV_YAML.replace("num_envs: 64", "num_envs: 0"),
        ["num_envs must be an integer >= 1, got 0"],
    ),
    "env YAML not YAML": ("num_envs: 64\n  seed: [\n", ["Isaac-Cartpole-v0.yaml is not valid YAML"]),
    "env YAML not a mapping": ("- 1\n- 2\n", ["must hold a YAML mapping (key: value), got list"]),
}


@pytest.mark.parametrize("case", list(ENV_YAML_CASES))
@pytest.mark.parametrize("script", [TRAIN, PLAY], ids=["train", "play"])
def test_script_rejects_bad_task_yaml(case, script, files, tmp_path, monkeypatch, capsys):
    text, expected = ENV_YAML_CASES[case]
    monkeypatch.setenv("ISAACLAB_TRAINER_CONFIG", str(env_config_dir(tmp_path, text)))
    args = ["--checkpoint", str(files["other_task"])] if script is PLAY else []  # play checks the file later
    code, err = run_inprocess(script, args, tmp_path, monkeypatch, capsys)
    assert_one_line_error(code, err, script.name, *expected)
    assert not (tmp_path / "logs").exists()


def test_unwritable_log_folder_file_in_the_way(tmp_path, monkeypatch, capsys):
    (tmp_path / "logs").write_text("a file where the log folder should be")
    code, err = run_inprocess(TRAIN, ["--num_envs", "8"], tmp_path, monkeypatch, capsys)
    assert_one_line_error(code, err, "train.py", f"log folder '{tmp_path / 'logs'}", "is a file, not a folder")
    assert (tmp_path / "logs").is_file()


def test_unwritable_log_folder_permissions(tmp_path, monkeypatch, capsys):
    (tmp_path / "ro").mkdir()
    if os.geteuid() == 0:  # root ignores permission bits: make creating files there fail instead
        real = checks.tempfile.TemporaryFile

        def refuse(*a, dir=None, **kw):
            if Path(dir) == tmp_path / "ro":
                raise PermissionError(13, "Permission denied")
            return real(*a, dir=dir, **kw)

        monkeypatch.setattr(checks.tempfile, "TemporaryFile", refuse)
    else:
        (tmp_path / "ro").chmod(0o555)
    code, err = run_inprocess(TRAIN, ["--num_envs", "8"], tmp_path / "ro", monkeypatch, capsys)
    assert_one_line_error(code, err, "train.py", "is not writable (Permission denied in", str(tmp_path / "ro"))
    assert not (tmp_path / "ro" / "logs").exists()


def test_video_without_its_packages(tmp_path, monkeypatch, capsys):
    real = checks.importlib.util.find_spec
    monkeypatch.setattr(checks.importlib.util, "find_spec", lambda n, *a: None if n == "moviepy" else real(n, *a))
    code, err = run_inprocess(TRAIN, ["--video"], tmp_path, monkeypatch, capsys)
    assert_one_line_error(code, err, "train.py", "--video needs moviepy", "pip install")
    assert not (tmp_path / "logs").exists()


# -- as real processes: exit status 2, one stderr line, no traceback, no logs/ -------------------

SUBPROCESS_CASES = {
    "unknown task": (TRAIN, ["--task", "Isaac-Cartpole-v9"], "unknown task 'Isaac-Cartpole-v9'"),
    "num_envs too large": (TRAIN, ["--num_envs", "999999999999"], "--num_envs 999999999999 needs about"),
    "checkpoint of another task": (PLAY, ["--checkpoint", "{other_task}"], "belongs to another task"),
    "agent YAML wrong type": (TRAIN, ["--agent", "{wrong_type}"], "'gamma' must be a number"),
}


@pytest.mark.parametrize("case", list(SUBPROCESS_CASES))
def test_script_process_exit_status(case, files, tmp_path):
    script, args, expected = SUBPROCESS_CASES[case]
    args = [a.format(**{k: str(v) for k, v in files.items()}) for a in args]
    res = run_script(script, *args, "--headless", cwd=tmp_path, timeout=120)
    assert_one_line_error(res.returncode, res.stderr, script.name, expected)
    assert not (tmp_path / "logs").exists()


# -- the session (the panel's fields go through it) ----------------------------------------------


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"task": "Isaac-Cartpole-v1"}, "unknown task 'Isaac-Cartpole-v1'; did you mean"),
        ({"num_envs": 0}, "num_envs must be an integer >= 1, got 0"),
        ({"num_envs": -4}, "num_envs must be an integer >= 1, got -4"),
        ({"num_envs": "many"}, "num_envs must be an integer >= 1, got 'many'"),
        ({"num_envs": 10**12}, "num_envs 1000000000000 needs about .* GiB.*accepted: 1 to"),
        ({"agent_cfg": {"n_step": 16}}, "unknown key 'n_step'; did you mean 'n_steps'"),
        ({"agent_cfg": {"gamma": "0.99"}}, "'gamma' must be a number, got '0.99'"),
        ({"agent_cfg": {"n_steps": 1.5}}, "'n_steps' must be an integer >= 1, got 1.5"),
        # found by test_fuzz_fields.py
        ({"task": []}, r"unknown task '\[\]'"),
        ({"task": None}, "unknown task 'None'"),
        ({"device": "cuda"}, r"device 'cuda' is not available here: torch sees no CUDA device \(available: cpu\)"),
        ({"seed": -2}, r"seed must be -1 \(random\) or an integer from 0 to 4294967295, got -2"),
        ({"seed": 2**32}, r"seed must be -1 \(random\) or an integer from 0 to 4294967295, got 4294967296"),
        ({"frame_budget_ms": "30"}, "frame_budget_ms must be a number > 0, got '30'"),
        ({"agent_cfg": [1]}, r"agent_cfg must be a mapping \(dict\) or None, got \[1\]"),
        ({"agent_cfg": {"cpu_threads": 2**31}}, r"'cpu_threads' must be an integer from 0 to 1024 \(0: torch's"),
        ({"agent_cfg": {"n_steps": 2**40}}, "'n_steps' 1099511627776 x 64 envs does not fit in memory"),
        ({"log_root": None}, "log folder must be a path"),
    ],
)
def test_session_rejects(kwargs, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        TrainingSession(**{"log_root": tmp_path / "logs", **kwargs})
    assert not (tmp_path / "logs").exists()


def test_session_rejects_unwritable_log_root(tmp_path):
    (tmp_path / "logs").write_text("")
    with pytest.raises(ValueError, match="log folder .* cannot be created: .* is a file, not a folder"):
        TrainingSession(num_envs=8, log_root=tmp_path / "logs" / "sub")


@pytest.fixture(scope="module")
def built_session(tmp_path_factory):
    session = TrainingSession(num_envs=4, log_root=tmp_path_factory.mktemp("logs"))
    session.build()
    yield session
    session.close()


@pytest.mark.parametrize(
    "name,match",
    [
        ("missing", "does not exist"),
        ("folder", "is a folder"),
        ("text", "is not a zip file"),
        ("truncated", "is a truncated or damaged zip"),
        ("not_sb3", "is a zip but not an SB3 model"),
        ("other_task", r"belongs to another task: .* shape \(3,\)"),
        ("empty", r"checkpoint path '\\x1e' is empty"),  # found by fuzzing: a control character, escaped
        ("none", r"checkpoint must be a path \(str or os.PathLike\), got None"),
    ],
)
def test_session_load_checkpoint_rejects(name, match, files, built_session, tmp_path):
    path = {"empty": "\x1e", "none": None}.get(name, files.get(name, tmp_path / "missing.zip"))
    with pytest.raises(ValueError, match=match):
        built_session.load_checkpoint(path)
    assert built_session.status.state.value == "BUILT"


def test_session_render_mode_and_budget_reject(built_session):
    """Found by fuzzing: values that are not render modes or timestep counts get one clear line."""
    with pytest.raises(ValueError, match=r"render mode must be one of RenderMode.NO_GUI_OR_RENDERING \(-1\), .*'fast'"):
        built_session.set_render_mode("fast")
    with pytest.raises(ValueError, match="total_timesteps must be an integer >= 1, got 'many'"):
        built_session.start_training("many")
    assert built_session.status.state.value == "BUILT"


# -- devices as users have them -------------------------------------------------------------------


def test_device_availability_here():
    """This machine has no CUDA (CPU torch): every cuda device is refused naming what is available."""
    assert checks.cuda_device_count() == 0
    assert checks.check_device("cpu") == "cpu"
    for device in ("cuda", "cuda:0", "cuda:7"):
        with pytest.raises(ValueError, match=rf"'{device}' is not available here: .*\(available: cpu\)$"):
            checks.check_device(device)


def test_device_message_with_gpus(monkeypatch):
    """The logic on a 2-GPU machine. Contract check only: the availability query is replaced, as no
    GPU exists here; the query itself (torch.cuda) is what test_device_availability_here runs."""
    monkeypatch.setattr(checks, "cuda_device_count", lambda: 2)
    assert checks.check_device("cuda") == "cuda" and checks.check_device("cuda:1") == "cuda:1"
    expected = r"'cuda:2' is not available here: torch sees 2 CUDA devices \(available: cpu, cuda:0..cuda:1\)"
    with pytest.raises(ValueError, match=expected):
        checks.check_device("cuda:2", name="--device")
    assert checks.available_devices(1) == "cpu, cuda:0"


def test_panel_device_field(tmp_path):
    """The panel's Device field goes through the session's check: one status line, nothing built."""
    from isaaclab_trainer.ui.view_model import PanelViewModel

    vm = PanelViewModel(log_root=str(tmp_path))
    assert not vm.on_build("Isaac-Cartpole-v0", "4", "1", "auto", device="cuda:1")
    state = vm.refresh()
    assert state.status_is_error and vm.session is None
    assert "device 'cuda:1' is not available here" in state.status_line and "(available: cpu)" in state.status_line
    assert vm.on_build("Isaac-Cartpole-v0", "2", "1", "auto", device=" cpu ")
    assert vm.session.env_cfg.device == "cpu"
    vm.shutdown()


def test_panel_status_line_stays_one_line(tmp_path):
    """Found by fuzzing the panel: a task typed with a carriage return broke the status line in two."""
    from isaaclab_trainer.ui.view_model import PanelViewModel

    vm = PanelViewModel(log_root=str(tmp_path))
    assert not vm.on_build("0\r0", 0, 0, "auto")
    line = vm.refresh().status_line
    assert line.startswith("unknown task '0\\r0'") and len(line.splitlines()) == 1


def test_unreadable_agent_yaml(tmp_path, monkeypatch, capsys):
    """Found by fuzzing: an agent YAML that cannot be read (here /proc/self/mem: EIO even for root)."""
    code, err = run_inprocess(TRAIN, ["--agent", "/proc/self/mem"], tmp_path, monkeypatch, capsys)
    assert_one_line_error(code, err, "train.py", "config file '/proc/self/mem' cannot be read (Input/output error)")
    assert not (tmp_path / "logs").exists()
