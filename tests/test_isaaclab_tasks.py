"""Isaac Lab 3.0's own tasks as the ``isaaclab:`` task source.

Without ``isaaclab`` (the 3.11 and 3.12 venvs): nothing of it is imported, our tasks are unchanged, its ids say how
to install it, and a wrong version is named. With it (``./isaaclab.sh -i isaaclab``): Isaac Lab's own
``Isaac-Cartpole`` trains through train.py offline (our cartpole USD substituted by an override, no ground), play.py
scores it (replaying the run's recorded overrides), the browser panel trains and plays it as Chromium clicks it, and
bad input gets one line before anything is built, on the command line and in the panel's Overrides field.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from browser_page import (
    browser,
    choose,
    click,
    count,
    field,
    open_page,
    state,
    status_line,
    timesteps,
    type_in,
    wait_until,
)

from conftest import PLAY, REPO, TRAIN, run_script

__all__ = ["browser"]  # the Chromium fixture
EXPORT = TRAIN.parent / "export.py"

EXT = REPO / "exts" / "isaaclab_trainer"
HAS_ISAACLAB = importlib.util.find_spec("isaaclab_tasks") is not None
needs_isaaclab = pytest.mark.skipif(
    not HAS_ISAACLAB, reason="Isaac Lab 3.0 is not installed in this venv (./isaaclab.sh -i isaaclab)"
)
TASK = "isaaclab:Isaac-Cartpole"


def _python(code: str, *, path: list[Path] = ()) -> dict:
    """Run ``code`` (which prints one JSON line last) in a fresh interpreter with the package (and ``path``)."""
    pythonpath = ":".join(str(p) for p in (*path, EXT))
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": pythonpath}, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """The script failed with exit status 2 and one stderr line holding every needle; returns that line."""
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert len(lines) == 1, proc.stderr[-3000:]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


LIST_TASKS = """
import json, sys
from isaaclab_trainer import tasks
from isaaclab_trainer.tasks import isaaclab as source
ids = tasks.registered_tasks()
try:
    tasks.check_task("isaaclab:Isaac-Cartpole")
    error = None
except ValueError as exc:
    error = str(exc)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("isaaclab", "isaaclab_tasks", "isaaclab_rl"))
print(json.dumps({"ids": ids, "error": error, "loaded": loaded, "help": tasks.task_help()}))
"""


OWN_IDS = ["Isaac-Cartpole-v0", "Isaac-Cartpole-Direct-v0", "Isaac-Ant-v0", "Isaac-Humanoid-v0"]  #: our tasks alone


@pytest.mark.skipif(HAS_ISAACLAB, reason="checks a venv without Isaac Lab; this one has it")
def test_without_isaaclab_nothing_changes_and_nothing_is_imported():
    got = _python(LIST_TASKS)
    assert got["ids"] == OWN_IDS
    assert got["loaded"] == []
    assert "not installed" in got["error"] and "./isaaclab.sh -i isaaclab" in got["error"]
    assert "isaaclab:<id>" in got["help"]


def test_a_wrong_isaaclab_version_is_named(tmp_path):
    """An ``isaaclab`` 2.3.0 (a distribution's metadata and an ``isaaclab_tasks`` package, first on the path)."""
    (tmp_path / "isaaclab_tasks").mkdir()
    (tmp_path / "isaaclab_tasks" / "__init__.py").write_text("raise ImportError('must not be imported')\n")
    info = tmp_path / "isaaclab-2.3.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: isaaclab\nVersion: 2.3.0\n")
    got = _python(LIST_TASKS, path=[tmp_path])
    assert got["ids"] == OWN_IDS
    assert "need Isaac Lab 3.0.x; isaaclab 2.3.0 is installed" in got["error"]
    assert got["loaded"] == []


def test_our_tasks_refuse_overrides(workdir):
    proc = run_script(TRAIN, "--task", "Isaac-Cartpole-v0", "env.scene.num_envs=4", cwd=workdir)
    _one_line_error(proc, "env.scene.num_envs=4", "isaaclab:<id>")
    assert not (workdir / "logs").exists()


# -- with Isaac Lab installed ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cartpole_usd(tmp_path_factory) -> Path:
    """Our cartpole as a USD file (its root the default prim), Isaac Lab's robot asset offline."""
    from isaaclab_trainer.sim.cartpole import write_cartpole_usd

    return Path(write_cartpole_usd(str(tmp_path_factory.mktemp("usd") / "cartpole.usda")))


def offline(usd: Path) -> list[str]:
    """The overrides that run Isaac Lab's Isaac-Cartpole without NVIDIA's asset server."""
    return [f"env.scene.robot.spawn.usd_path={usd}", "env.scene.ground=None"]


@needs_isaaclab
def test_isaaclab_tasks_are_listed_with_their_source():
    from isaaclab_trainer import tasks

    ids = tasks.registered_tasks()
    assert ids[: len(OWN_IDS)] == OWN_IDS
    assert TASK in ids and "isaaclab:Isaac-Cartpole-Direct" in ids
    assert "isaaclab:Isaac-Cartpole-Camera" not in ids  # no SB3 config
    assert tasks.task_source(TASK).startswith("Isaac Lab 3.0")
    assert tasks.task_source("Isaac-Cartpole") == "isaaclab_trainer"


@needs_isaaclab
@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--task", "isaaclab:Isaac-Cartpole-Camera"], ["Isaac-Cartpole-Camera", "no SB3 config"]),
        (["--task", TASK, "env.scene.robot.spawn.usd_pth=/x.usd"], ["usd_pth", "env.scene.robot.spawn.usd_path"]),
        (["--task", TASK, "env.scene.robot.spawn.usd_path=/no/such/robot.usd"], ["/no/such/robot.usd", "not exist"]),
        (["--task", TASK, "scene.ground=None"], ["scene.ground", "env."]),
        (["--task", "isaaclab:Isaac-Cartpol"], ["isaaclab:Isaac-Cartpole"]),
        (["--task", TASK, "agent.n_stepz=32"], ["agent.n_stepz", "agent.n_steps"]),
        (["--task", TASK, "physics=isaacsim_physx"], ["needs Isaac Sim (Kit)", "physics=newton_mjwarp"]),
    ],
)
def test_bad_input_gets_one_line_before_anything_is_built(workdir, args, needles):
    _one_line_error(run_script(TRAIN, *args, "--num_envs", "4", cwd=workdir), *needles)
    assert not (workdir / "logs").exists()


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, cartpole_usd) -> Path:
    """Isaac Lab's own Isaac-Cartpole (its env, its SB3 config) trained 2 iterations through our train.py, offline."""
    workdir = tmp_path_factory.mktemp("work")
    train = run_script(
        TRAIN, "--task", TASK, "--num_envs", "16", "--max_iterations", "2", *offline(cartpole_usd), cwd=workdir
    )
    assert train.returncode == 0, train.stderr[-4000:]
    assert "[INFO] isaaclab:Isaac-Cartpole runs keep no model_best.zip: Isaac Lab builds one simulation" in train.stdout
    runs = sorted((workdir / "logs" / "sb3" / TASK).iterdir())
    assert len(runs) == 1
    return runs[0]


@needs_isaaclab
def test_isaaclab_cartpole_trains_offline(trained_run):
    assert (trained_run / "model.zip").is_file()
    params = (trained_run / "params" / "env.yaml").read_text()
    assert "usd_path" in params and "task: Isaac-Cartpole" in params
    with zipfile.ZipFile(trained_run / "model.zip") as z:
        data = json.loads(z.read("data"))
    assert data["num_timesteps"] == 2 * 16 * 16  # 2 iterations of Isaac Lab's n_steps 16 on 16 envs
    assert data["observation_space"]["_shape"] == [4]


@needs_isaaclab
def test_play_scores_it_with_the_runs_recorded_overrides(trained_run, cartpole_usd):
    """No override on play.py's command line: the run's params/env.yaml ones (offline USD, no ground) apply."""
    play = run_script(
        PLAY, "--task", TASK, "--use_last_checkpoint", "--num_envs", "8", "--num_episodes", "8",
        cwd=trained_run.parents[3],
    )  # fmt: skip
    assert play.returncode == 0, play.stderr[-4000:]
    assert f"[INFO] Overrides recorded by the run: {' '.join(offline(cartpole_usd))}" in play.stdout
    line = [x for x in play.stdout.splitlines() if x.startswith("episodes:")]
    assert line and line[0].startswith("episodes: 8"), play.stdout[-2000:]
    assert str(trained_run / "model_32_steps.zip") in play.stdout or str(trained_run / "model.zip") in play.stdout


@needs_isaaclab
def test_play_command_line_overrides_replace_the_recorded_ones(trained_run):
    """Overrides on play.py's command line win: the recorded (existing) robot USD is not used, the given one is."""
    proc = run_script(
        PLAY, "--task", TASK, "--num_envs", "4", "env.scene.robot.spawn.usd_path=/no/such/robot.usd",
        cwd=trained_run.parents[3],
    )  # fmt: skip
    line = _one_line_error(proc, "/no/such/robot.usd", "does not exist")
    assert "Overrides recorded" not in proc.stdout, line


@needs_isaaclab
def test_a_crafted_checkpoint_runs_nothing(trained_run, cartpole_usd, tmp_path):
    """Every pickled entry of the model's data replaced by a payload that would write a marker file."""
    from test_safe_loading import payload_b64, rewrite_zip

    marker = tmp_path / "pwned"
    with zipfile.ZipFile(trained_run / "model.zip") as z:
        data = json.loads(z.read("data"))
    for value in data.values():
        if isinstance(value, dict) and ":serialized:" in value:
            value[":serialized:"] = payload_b64(marker)
    crafted = rewrite_zip(trained_run / "model.zip", tmp_path / "model.zip", {"data": json.dumps(data).encode()})
    play = run_script(
        PLAY, "--task", TASK, "--num_envs", "4", "--num_episodes", "4", "--checkpoint", str(crafted),
        *offline(cartpole_usd), cwd=tmp_path,
    )  # fmt: skip
    assert not marker.exists()
    assert play.returncode == 0, play.stderr[-4000:]


@needs_isaaclab
def test_export_writes_its_policy_with_isaac_labs_columns(trained_run):
    """export.py builds the run's env (its params/env.yaml overrides: our USD) to learn its spaces and columns."""
    import numpy as np

    from isaaclab_trainer.train.export import exported_runner

    export = run_script(EXPORT, "--task", TASK, "--use_last_checkpoint", cwd=trained_run.parents[3])
    assert export.returncode == 0, export.stderr[-4000:]
    out = trained_run / "exported"
    assert {p.name for p in out.iterdir()} == {"policy.onnx", "policy.pt", "policy.json"}
    meta = json.loads((out / "policy.json").read_text())
    assert meta["task"] == TASK and meta["num_timesteps"] == 2 * 16 * 16
    # Isaac Lab's manager-based cartpole: its policy group's terms and its action term on the slider joint
    assert meta["input"]["columns"] == ["joint_pos_rel[0]", "joint_pos_rel[1]", "joint_vel_rel[0]", "joint_vel_rel[1]"]
    assert meta["output"]["columns"] == ["joint_effort:slider_to_cart"]
    assert meta["action_scaling"]["terms"]["joint_effort"]["type"] == "JointEffortAction"
    assert meta["action_scaling"]["terms"]["joint_effort"]["scale"] == 100.0
    assert meta["control"]["decimation"] == 2 and meta["control"]["step_dt"] > meta["control"]["sim_dt"] > 0
    assert max(meta["verified"]["max_abs_diff_vs_sb3"].values()) < 1e-4  # checked against SB3 before writing

    obs = np.random.default_rng(0).normal(0.0, 1.0, (64, 4)).astype(np.float32)
    onnx_actions = exported_runner(out / "policy.onnx")(obs)
    torchscript_actions = exported_runner(out / "policy.pt")(obs)
    assert onnx_actions.shape == (64, 1) and np.abs(onnx_actions).max() > 0  # a trained network, not zeros
    np.testing.assert_allclose(onnx_actions, torchscript_actions, rtol=1e-4, atol=1e-5)


TUNE = REPO / "scripts" / "reinforcement_learning" / "ray" / "tune.py"


@needs_isaaclab
def test_tune_sweeps_it_offline_one_fresh_process_a_trial(cartpole_usd, tmp_path):
    """tune.py --sweep default on Isaac Lab's Isaac-Cartpole: 2 trials drawn from the space derived from its SB3
    config, one at a time, each in its own run folder with the offline overrides recorded (what play.py replays),
    each in a Ray worker process of its own (Tune's pid per result: the second trial never runs where the first's
    simulation context lived); 320 steps per env, past the 300-step episode, so every trial has a mean return."""
    from isaaclab_trainer.train import sweep as sw
    from isaaclab_trainer.train.runs import recorded_overrides

    res = run_script(
        TUNE, "--task", TASK, "--sweep", "default", "--num_samples", "2", "--max_concurrent", "1", "--num_cpus", "2",
        "--num_envs", "16", "--stop_timesteps", str(16 * 320), *offline(cartpole_usd), cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (folder,) = (tmp_path / "logs" / "ray" / TASK).iterdir()
    runs = sorted(p for p in folder.iterdir() if (p / sw.TRIAL_MARKER).is_file())
    assert len(runs) == 2
    for run in runs:
        assert (run / "model.zip").is_file(), run
        assert recorded_overrides(run) == tuple(offline(cartpole_usd))
    with open(folder / sw.TABLE_CSV) as f:
        rows = list(csv.DictReader(f))
    assert {Path(r["run_dir"]) for r in rows} == set(runs)
    assert {r["status"] for r in rows} <= {"DONE", "STOPPED"} and "DONE" in {r["status"] for r in rows}
    for r in rows:  # drawn around Isaac Lab's learning_rate 3e-4, n_epochs 20, gamma 0.99
        assert 1e-4 <= float(r["learning_rate"]) <= 9e-4 and int(r["n_epochs"]) in (10, 20, 40), r
        assert 0.98 <= float(r["gamma"]) <= 0.995, r
    best = [line for line in res.stdout.splitlines() if line.startswith("[INFO] Best trial ")]
    assert best and any(r["trial"] in best[0] for r in rows), res.stdout[-3000:]
    assert " ".join(offline(cartpole_usd)) in (folder / sw.BEST_AGENT).read_text()  # its train.py command
    pids = [json.loads((p / "result.json").read_text().splitlines()[-1])["pid"] for p in (folder / "tune").iterdir()
            if p.is_dir()]  # fmt: skip
    assert len(pids) == 2 and len(set(pids)) == 2 and os.getpid() not in pids


def test_best_agent_command_keeps_the_best_trials_agent_values(tmp_path):
    """best_agent.yaml holds the best trial's learning_rate; its train.py command repeats the sweep's env overrides
    and preset selectors but not its ``agent.`` ones (train.py applies those after loading --agent, which would put
    the command line's learning_rate back over the trial's)."""
    import shlex

    import yaml

    from isaaclab_trainer.train import sweep as sw

    overrides = ["agent.learning_rate=1e-3", "physics=newton_mjwarp", "env.scene.ground=None"]
    sweep = sw.Sweep(
        task=TASK, space={"learning_rate": {"loguniform": [1e-4, 1e-3]}}, metric="rollout/ep_rew_mean", mode="max",
        stop_timesteps=4096, search=sw.SearchCfg(), scheduler=sw.SchedulerCfg(), overrides=overrides,
    )  # fmt: skip
    row = sw.TrialRow("t0", "DONE", {"learning_rate": 2.5e-4, "num_envs": 16}, 4096, 10.0, 9.0, 1.0, "")
    path = tmp_path / sw.BEST_AGENT
    sw.write_best_agent(row, {"learning_rate": 1e-3, "n_steps": 16}, sweep, path)
    text = path.read_text()
    assert yaml.safe_load(text)["learning_rate"] == 2.5e-4
    (command,) = [line for line in text.splitlines() if "train.py" in line]
    args = shlex.split(command.partition("Train with it: ")[2])
    assert not [a for a in args if a.startswith("agent.")], command
    assert args[args.index("--agent") + 1] == str(path) and args[args.index("--num_envs") + 1] == "16"
    assert {"physics=newton_mjwarp", "env.scene.ground=None"} <= set(args), command


@needs_isaaclab
@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        (["env.scene.robot.spawn.usd_pth=/x.usd"], ["usd_pth", "env.scene.robot.spawn.usd_path"]),
        (["--sweep", "{space: {n_stepz: {choice: [16, 32]}}}"], ["n_stepz", "n_steps"]),
    ],
)
def test_tune_bad_input_gets_one_line_before_ray_starts(workdir, cartpole_usd, extra, needles):
    """A misspelt override key, a sweep file's key that Isaac Lab's SB3 config lacks: one line, nothing written."""
    if extra[0] == "--sweep":
        sweep_file = workdir / "sweep.yaml"
        sweep_file.write_text(extra[1])
        extra = ["--sweep", str(sweep_file), *offline(cartpole_usd)]
    else:
        extra = ["--sweep", "default", *extra]
    proc = run_script(TUNE, "--task", TASK, *extra, cwd=workdir)
    _one_line_error(proc, *needles)
    assert not (workdir / "logs").exists() and "[INFO] Sweep of" not in proc.stdout  # printed as Ray starts


@pytest.fixture(scope="module")
def venv(cartpole_usd):
    """Isaac Lab's Isaac-Cartpole in this process, through this package's SB3 wrapper."""
    from isaaclab_trainer.tasks import load_env_cfg, override_env_cfg
    from isaaclab_trainer.train.trainer import make_env
    from isaaclab_trainer.wrappers.sb3 import Sb3VecEnvWrapper

    cfg = override_env_cfg(load_env_cfg(TASK), num_envs=8, overrides=tuple(offline(cartpole_usd)))
    env = make_env(TASK, cfg)
    yield Sb3VecEnvWrapper(env)
    env.close()


@needs_isaaclab
def test_wrapper_contract_with_true_terminal_observations(venv):
    """Pushing every cart right: each episode ends by Isaac Lab's cart_out_of_bounds (|cart| > 3 m); the terminal
    observation is the state past the bound, the returned one Isaac Lab's reset state (cart within +-1 m)."""
    import numpy as np

    obs = venv.reset()
    assert obs.shape == (8, 4) and obs.dtype == np.float32
    assert venv.action_space.shape == (1,) and venv.action_space.is_bounded("both")
    ended = {}
    for _ in range(300):
        venv.step_async(np.ones((8, 1), dtype=np.float32))
        obs, rewards, dones, infos = venv.step_wait()
        assert rewards.shape == (8,) and dones.shape == (8,)
        for i in np.flatnonzero(dones):
            ended.setdefault(int(i), (infos[i], obs[i].copy()))
        if len(ended) == 8:
            break
    assert len(ended) == 8
    for info, reset_obs in ended.values():
        assert info["TimeLimit.truncated"] is False
        assert info["terminal_observation"][0] > 3.0  # cart position (joint_pos_rel) past the bound
        assert abs(reset_obs[0]) <= 1.0
        assert info["episode"]["l"] >= 1


#: the start of a script (argv: the cartpole USD, the log root) that builds a TrainingSession of 8 of Isaac Lab's
#: Isaac-Cartpole offline, as the panel's Build does
BUILT_SESSION = """
import json, sys
from isaaclab_trainer.session.session import TrainingSession
from isaaclab_trainer.session.status import RenderMode, SessionState
usd, log_root = sys.argv[1], sys.argv[2]
session = TrainingSession(
    task="isaaclab:Isaac-Cartpole", num_envs=8, log_root=log_root,
    overrides=(f"env.scene.robot.spawn.usd_path={usd}", "env.scene.ground=None"),
)
session.build()
"""


def run_session(script: str, usd: Path, tmp_path: Path) -> dict:
    """``BUILT_SESSION + script`` in a fresh interpreter (Isaac Lab: one simulation per process); its last
    stdout line, JSON."""
    proc = subprocess.run(
        [sys.executable, "-c", BUILT_SESSION + script, str(usd), str(tmp_path / "logs")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


SESSION = """
from isaaclab_trainer.ui.browser import newton_backend
view = newton_backend(session)
bodies = view.model.body_count
session.start_training(total_timesteps=8 * 16 * 2)
frames = 0
while session.status.state in (SessionState.TRAINING, SessionState.PAUSED):
    session.update()
    frames += 1
status = session.status
session.close()
print(json.dumps({"bodies": bodies, "state": status.state.name, "timesteps": status.timesteps,
                  "model": status.last_checkpoint, "frames": frames, "error": status.error}))
"""


@needs_isaaclab
def test_the_session_trains_it_on_the_update_loop_and_the_panel_can_draw_it(cartpole_usd, tmp_path):
    """What the panel does on Build and Start: the TrainingSession steps Isaac Lab's env frame by frame; the 3-D
    view finds Isaac Lab's Newton model (3 bodies a cartpole, 8 envs)."""
    got = run_session(SESSION, cartpole_usd, tmp_path)
    assert got["bodies"] == 3 * 8
    assert got["state"] == "DONE" and got["error"] is None
    assert got["timesteps"] == 8 * 16 * 2 and got["frames"] > 1
    assert Path(got["model"]).is_file() and f"sb3/{TASK}/" in got["model"]


RENDER_MODES = """
env = session.env.unwrapped
sim = env.sim
# kitless nothing renders continuously; the setting Isaac Lab's RTX camera sets stands in for it (as the GUI or an
# RTX camera would in Isaac Sim): env.step() then renders the sim every render_interval physics steps
sim.set_setting("/isaaclab/render/rtx_sensors", True)
session.start_training(total_timesteps=10**6)
started = session.status.message
modes = []
for mode in (RenderMode.FULL_RENDERING, RenderMode.PARTIAL_RENDERING, RenderMode.NO_RENDERING,
             RenderMode.FULL_RENDERING):
    session.set_render_mode(mode)
    renders, steps = sim.render_generation, env.common_step_counter
    while env.common_step_counter < steps + 40 and session.status.state == SessionState.TRAINING:
        session.update()
    modes.append({"mode": mode.name, "interval": env.cfg.sim.render_interval, "render_enabled": env.render_enabled,
                  "steps": env.common_step_counter - steps, "renders": sim.render_generation - renders,
                  "timesteps": session.status.timesteps})
session.stop()
status = session.status
session.close()
print(json.dumps({"modes": modes, "decimation": env.cfg.decimation, "state": status.state.name,
                  "error": status.error, "started": started}))
"""


@needs_isaaclab
def test_render_modes_set_how_often_isaac_labs_sim_renders(cartpole_usd, tmp_path):
    """The panel's render modes reach Isaac Lab's sim: Full renders it every env step, Partial every 4th, No
    rendering never (its ``render_interval``; ``render_enabled`` False, so no Kit app update from inside the
    session's frame), counted by the sim's own render counter; training goes on across the switches."""
    got = run_session(RENDER_MODES, cartpole_usd, tmp_path)
    full, partial, off, full_again = got["modes"]
    decimation = got["decimation"]
    assert full["interval"] == decimation and full["renders"] == full["steps"] >= 40
    assert partial["interval"] == 4 * decimation and abs(partial["renders"] - partial["steps"] / 4) <= 1
    assert off["renders"] == 0 and off["steps"] >= 40
    assert full_again["renders"] == full_again["steps"] >= 40
    assert not any(m["render_enabled"] for m in got["modes"])
    timesteps = [m["timesteps"] for m in got["modes"]]
    assert timesteps == sorted(set(timesteps))  # grew in every mode
    assert got["state"] == "DONE" and got["error"] is None
    assert got["started"].endswith(
        "isaaclab:Isaac-Cartpole runs keep no model_best.zip: Isaac Lab builds one "
        "simulation per process, so no evaluation envs beside the training ones; use "
        "'latest' or a checkpoint path"
    )


@needs_isaaclab
def test_video_records_isaac_labs_newton_model(cartpole_usd, tmp_path):
    """train.py --video and play.py --video on Isaac Lab's Isaac-Cartpole: mp4 clips drawn by Isaac Lab's headless
    Newton GL visualizer, frames that change as the carts move."""
    import imageio.v3 as iio
    import numpy as np

    train = run_script(
        TRAIN, "--task", TASK, "--num_envs", "4", "--max_iterations", "1", "--video", "--video_length", "10",
        *offline(cartpole_usd), cwd=tmp_path,
    )  # fmt: skip
    assert train.returncode == 0, train.stderr[-4000:]
    assert "[INFO] Video: 3-D, first 3 env(s), 960x540, Isaac Lab's Newton GL visualizer" in train.stdout
    (clip,) = (tmp_path / "logs" / "sb3" / TASK).glob("*/videos/train/*.mp4")
    frames = iio.imread(clip)
    assert frames.shape[1:] == (540, 960, 3) and len(frames) >= 10
    assert np.abs(frames[-1].astype(int) - frames[0].astype(int)).max() > 50  # the carts and poles moved

    play = run_script(
        PLAY, "--task", TASK, "--use_last_checkpoint", "--num_envs", "4", "--video", "--video_length", "10",
        cwd=tmp_path,
    )  # fmt: skip
    assert play.returncode == 0, play.stderr[-4000:]
    (clip,) = clip.parents[2].glob("videos/play/*.mp4")
    assert len(iio.imread(clip)) >= 10


@needs_isaaclab
def test_video_without_egl_is_one_line_before_the_run_folder(cartpole_usd, tmp_path, monkeypatch):
    """train.py --video where pyglet gets no EGL display (an EGL device id this machine lacks, which pyglet's
    headless display refuses as a missing EGL would): one error line naming the cause and the packages, said as
    the env is built, before any run folder; not a traceback at the first video frame."""
    monkeypatch.setenv("PYGLET_HEADLESS_DEVICE", "99")
    proc = run_script(
        TRAIN, "--task", TASK, "--num_envs", "4", "--max_iterations", "1", "--video", *offline(cartpole_usd),
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-4000:]
    (line,) = [line for line in proc.stderr.splitlines() if line.startswith("train.py: error: ")]
    for needle in ("--video", "Invalid EGL device id: 99", "libegl1"):
        assert needle in line, line
    assert "Traceback" not in proc.stderr.partition(line)[0], proc.stderr[-4000:]  # pyglet's __del__ may add one
    assert not list(tmp_path.glob("logs/sb3/*/*")) and "Logging experiment" not in proc.stdout


@needs_isaaclab
def test_no_best_model_is_said_in_one_line(trained_run, tmp_path):
    """Isaac Lab keeps one simulation per process, so no evaluation envs: train.py said so, and play.py
    --checkpoint best and the panel's best pick say why in one line."""
    from isaaclab_trainer.ui.view_model import PanelViewModel

    assert not (trained_run / "model_best.zip").exists()
    proc = run_script(PLAY, "--task", TASK, "--checkpoint", "best", cwd=trained_run.parents[3])
    _one_line_error(proc, "isaaclab:Isaac-Cartpole runs keep no model_best.zip", "one simulation per process")
    vm = PanelViewModel(tasks=[TASK], log_root=str(trained_run.parents[2]))
    assert vm.refresh().best_checkpoint_text == "(none: this task keeps none)"
    assert not vm.on_load_and_play("best")
    line = vm.refresh().status_line
    assert line.startswith("Load & Play: isaaclab:Isaac-Cartpole runs keep no model_best.zip"), line


# -- the panel ---------------------------------------------------------------------------------------------------


@needs_isaaclab
def test_panel_overrides_field_gets_the_command_lines_lines(cartpole_usd, tmp_path):
    """The Overrides field's value is checked as train.py checks its command line's: one line, nothing built."""
    from isaaclab_trainer.ui.view_model import PanelViewModel

    vm = PanelViewModel(tasks=[TASK], log_root=str(tmp_path / "logs"))
    cases = [
        ("env.scene.robot.spawn.usd_pth=/x.usd", "Overrides: override key 'env.scene.robot.spawn.usd_pth' does not"),
        ("env.scene.robot.spawn.usd_path=/no/such/robot.usd", "Overrides: override env.scene.robot.spawn.usd_path"),
        ("scene.ground=None", "Overrides: overrides: override key 'scene.ground' must start with env."),
    ]
    for text, start in cases:
        assert not vm.on_build(TASK, 4, 1, "auto", overrides=text)
        s = vm.refresh()
        assert s.status_is_error and s.status_line.startswith(start), s.status_line
        if "usd_pth" in text:
            assert "closest: env.scene.robot.spawn.usd_path" in s.status_line
    assert vm.session is None and not (tmp_path / "logs").exists()


@needs_isaaclab
def test_panel_trains_and_plays_isaaclab_cartpole_as_chromium_clicks_it(browser, cartpole_usd, tmp_path):
    """panel.py, clicked in Chromium: pick Isaac Lab's own Isaac-Cartpole in the Task dropdown, type the offline
    overrides, Build, Start (progress and mean return advance), Stop (model.zip), Load & Play, then Ctrl+C."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"}
    logs = tmp_path / "logs"
    args = [sys.executable, str(REPO / "scripts/reinforcement_learning/sb3/panel.py"), "--port", "0"]
    proc = subprocess.Popen(
        [*args, "--log_root", str(logs)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        first = next(line for line in iter(proc.stdout.readline, "") if "http://" in line)
        page = open_page(browser, first.split(" at ")[1].split()[0])

        choose(page, "Task", TASK)
        overrides = " ".join(offline(cartpole_usd))
        type_in(page, "Overrides", overrides)
        type_in(page, "Environments", "16")
        click(page, "Build")
        wait_until(lambda: state(page) == "Built", 600, "Isaac Lab's envs to be built", page)
        assert status_line(page) == "built 16 envs"
        assert field(page, "Overrides").input_value() == overrides

        type_in(page, "Total timesteps", "1000000")
        click(page, "Start")
        wait_until(lambda: timesteps(page) >= 256, 300, "timesteps to grow", page)  # a rollout: 16 steps x 16 envs
        first_count = timesteps(page)
        choose(page, "Rendering Mode", "No rendering")
        wait_until(lambda: timesteps(page) > first_count, 60, "timesteps to keep growing", page)
        wait_until(lambda: field(page, "Mean return").input_value() != "-", 600, "a mean return", page)
        shown = field(page, "Mean return").input_value()
        wait_until(lambda: page.locator(".uplot").count() == 1, 60, "the live plot of the mean return", page)
        seen = timesteps(page)
        wait_until(lambda: timesteps(page) > seen + 256, 120, "training to go on", page)
        float(shown)  # a number

        click(page, "Stop")
        wait_until(lambda: state(page) == "Done", 120, "Stop to finish", page)
        run = Path(field(page, "Run folder").input_value())
        assert run.parent == logs / "sb3" / TASK and (run / "model.zip").is_file()
        assert count(field(page, "Progress").input_value()) < 1_000_000
        assert f"usd_path={cartpole_usd}" in (run / "params" / "env.yaml").read_text()

        click(page, "Load & Play")  # the empty Checkpoint field: the newest checkpoint, the one Stop wrote
        wait_until(lambda: state(page) == "Playing policy", 120, "the checkpoint to play", page)
        assert status_line(page) == f"playing {run / 'model.zip'}"
        click(page, "Stop playing")
        wait_until(lambda: state(page) == "Built", 60, "playing to stop", page)
        page.close()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    assert not re.search(r"Traceback", out), out[-4000:]
