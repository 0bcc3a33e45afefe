"""Watching a run that another process trains: run state, run summaries, the checkpoint watch, the
session's Evaluate, ``play.py --evaluate`` and the Runs model, on real runs (train.py, SB3, TensorBoard)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import gymnasium as gym
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.logger import configure

from conftest import PLAY, TRAIN, run_script
from isaaclab_trainer.session.session import HISTORY_POINTS, BoundedCurve, TrainingSession
from isaaclab_trainer.train import runs
from isaaclab_trainer.train.callbacks import save_checkpoint
from isaaclab_trainer.train.checks import UsageError, check_checkpoint
from isaaclab_trainer.train.follow import CheckpointWatch, checkpoint_timesteps
from isaaclab_trainer.train.run_log import RETURN_TAG, RunScanner
from isaaclab_trainer.ui.runs_model import RunsModel, pick_checkpoint
from isaaclab_trainer.ui.view_model import PanelViewModel

TASK = "Isaac-Cartpole-v0"
#: agent config of the short runs here: checkpoints every 8 rollouts of 16 envs
AGENT_OVERRIDES = {"n_timesteps": 20000, "checkpoint_interval": 4096}
FINAL_STEPS = 20224


def agent_yaml(folder: Path, **overrides: object) -> Path:
    from isaaclab_trainer.tasks import agent_cfg_path

    text = Path(agent_cfg_path(TASK)).read_text()
    for key, value in {**AGENT_OVERRIDES, **overrides}.items():
        lines = [f"{key}: {value}" if line.startswith(f"{key}:") else line for line in text.splitlines()]
        text = "\n".join(lines) + "\n"
    path = folder / "agent.yaml"
    path.write_text(text)
    return path


def start_train(cwd: Path, num_envs: int = 32, **overrides: object) -> subprocess.Popen:
    """train.py (headless, ``num_envs`` envs, the agent config ``agent_yaml(cwd, **overrides)``) started in ``cwd``,
    writing its run under ``cwd/logs`` and its output to ``cwd/train.out`` (a pipe nobody reads would block it)."""
    agent = agent_yaml(cwd, **overrides)
    with (cwd / "train.out").open("w") as out:
        return subprocess.Popen(
            [sys.executable, str(TRAIN), "--num_envs", str(num_envs), "--headless", "--agent", str(agent)],
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A run of train.py that ran to its budget: checkpoints every 4096 timesteps, then model.zip at 20224
    (79 rollouts of 16 envs x 16 steps)."""
    cwd = tmp_path_factory.mktemp("finished")
    out = run_script(TRAIN, "--num_envs", "16", "--headless", "--agent", str(agent_yaml(cwd)), cwd=cwd)
    assert out.returncode == 0, out.stderr
    (run,) = (cwd / "logs" / "sb3" / TASK).iterdir()
    return run


def copy_run(run: Path, dest_root: Path, keep: list[str]) -> Path:
    """A copy of ``run`` (params, command line, events) holding only the checkpoints named in ``keep``."""
    dest = dest_root / "logs" / "sb3" / TASK / "2030-01-01_00-00-00"
    shutil.copytree(run, dest, ignore=lambda _d, names: [n for n in names if n.endswith((".zip", ".pkl"))])
    for name in keep:
        shutil.copy2(run / name, dest / name)
    return dest


# ----------------------------------------------------------------------------- run state


def test_run_state_of_train_py_runs(finished_run: Path, tmp_path: Path) -> None:
    record = json.loads((finished_run / runs.RUN_STATE_FILE).read_text())
    assert record["state"] == runs.FINISHED and runs.run_state(finished_run) == runs.FINISHED
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    run = tmp_path / "run"
    run.mkdir()
    runs.write_run_state(run, runs.RUNNING)
    assert runs.run_state(run) == runs.RUNNING  # this process is alive
    record = json.loads((run / runs.RUN_STATE_FILE).read_text())
    (run / runs.RUN_STATE_FILE).write_text(json.dumps({**record, "pid": int(dead.stdout)}))
    assert runs.run_state(run) == runs.INTERRUPTED  # killed: the file still says running
    (run / runs.RUN_STATE_FILE).write_text(json.dumps({**record, "host": "elsewhere"}))
    assert runs.run_state(run) == runs.RUNNING  # another host: its files changed just now
    old = time.time() - 2 * runs.REMOTE_FRESH_S
    for path in (run, run / runs.RUN_STATE_FILE):
        os.utime(path, (old, old))
    assert runs.run_state(run) == runs.INTERRUPTED
    (run / runs.RUN_STATE_FILE).unlink()
    assert runs.run_state(run) == runs.INTERRUPTED  # an older run without the file and without model.zip


def test_ctrl_c_records_interrupted(tmp_path: Path) -> None:
    """Ctrl+C once train.py's learn() has written its first checkpoint: model.zip saved, the run interrupted.

    No race with train.py's speed: its budget is far more than it reaches before the signal, and train.py
    takes Ctrl+C at its next env step wherever the signal lands (``run_learning(ctrl_c_stops=True)``)."""
    import signal

    # output to files, not pipes: a pipe nobody reads fills up and blocks train.py's prints
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"}
    agent = agent_yaml(tmp_path, n_timesteps=100_000_000)
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(TRAIN), "--num_envs", "16", "--headless", "--agent", str(agent)],
            cwd=tmp_path,
            stdout=stdout,
            stderr=stderr,
            env=env,
        )
    try:
        deadline = time.monotonic() + 300
        run = None
        while run is None and time.monotonic() < deadline and proc.poll() is None:
            for line in out.read_text().splitlines():
                if "Logging experiment in directory" in line:
                    run = Path(line.split(": ", 1)[1].strip())
            time.sleep(0.1)
        assert run is not None, err.read_text()[-3000:]
        while not runs.run_checkpoints(run) and time.monotonic() < deadline:  # learn() is going on
            assert proc.poll() is None, err.read_text()[-3000:]
            time.sleep(0.1)
        (first,) = runs.run_checkpoints(run)
        assert runs.run_state(run) == runs.RUNNING
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:  # say where it hangs: faulthandler prints every thread's stack on SIGABRT
            proc.send_signal(signal.SIGABRT)
            proc.wait(timeout=30)
            raise AssertionError(f"train.py did not end after Ctrl+C:\n{err.read_text()[-6000:]}") from None
        assert code == 0, err.read_text()[-3000:]
    finally:
        proc.kill()
    assert runs.run_state(run) == runs.INTERRUPTED and "Saved the trained model to" in out.read_text()
    final = checkpoint_timesteps(check_checkpoint(run / "model.zip"))
    assert checkpoint_timesteps(check_checkpoint(first)) <= final < 100_000_000


# ----------------------------------------------------------------------------- run summaries


def test_run_summary_reads_tensorboard_events_incrementally(tmp_path: Path) -> None:
    run = runs.new_run_dir(TASK, tmp_path / "logs")
    (run / "command.txt").write_text("train.py\n")
    logger = configure(str(run / "PPO_1"), ["tensorboard"])
    for step, value in ((1024, -3.0), (2048, 1.5), (3072, 0.5)):
        logger.record(RETURN_TAG, value)
        logger.dump(step)
    scanner = RunScanner()
    (summary,) = scanner.scan(TASK, tmp_path / "logs")
    assert (summary.timesteps, summary.last_return, summary.best_return) == (3072, 0.5, 1.5)
    assert summary.curve == ((1024, -3.0), (2048, 1.5), (3072, 0.5)) and summary.checkpoints == ()
    logger.record(RETURN_TAG, 2.5)
    logger.dump(4096)
    logger.close()
    (summary,) = scanner.scan(TASK, tmp_path / "logs")
    assert (summary.timesteps, summary.last_return, summary.best_return) == (4096, 2.5, 2.5)
    # a tune.py trial is listed under its sweep
    trial = tmp_path / "logs" / "ray" / TASK / "sweep-a" / "trial-1"
    trial.mkdir(parents=True)
    (trial / "command.txt").write_text("tune.py\n")
    names = [r.name for r in scanner.scan(TASK, tmp_path / "logs")]
    assert names == ["sweep-a/trial-1", run.name]


def test_finished_run_summary(finished_run: Path) -> None:
    (summary,) = RunScanner().scan(TASK, finished_run.parents[2])
    assert summary.state == runs.FINISHED and summary.timesteps == FINAL_STEPS
    assert summary.checkpoints[-1] == "model.zip"
    assert summary.checkpoints[:-1] == tuple(f"model_{n}_steps.zip" for n in (4096, 8192, 12288, 16384))
    assert summary.last_return is not None and summary.best_return >= summary.last_return


def test_bounded_curve_keeps_the_shape_of_a_long_run() -> None:
    curve = BoundedCurve()
    for i in range(100_000):
        curve.append(float(i))
    values = curve.values()
    assert len(values) < HISTORY_POINTS and values is curve.values()  # the same tuple until the next append
    assert values[0] < 200 and values[-1] > 99_000 - 200 and list(values) == sorted(values)


# ----------------------------------------------------------------------------- atomic checkpoints


def test_a_reader_racing_a_writer_never_sees_a_partial_checkpoint(tmp_path: Path) -> None:
    """A writer saves checkpoints as fast as it can while a reader checks every one it sees: each is complete."""
    model = PPO("MlpPolicy", gym.make("CartPole-v1"), n_steps=64, batch_size=64, device="cpu")
    done, written, errors = threading.Event(), [], []
    seen: set[tuple[str, int]] = set()

    def write() -> None:
        for i in range(40):
            model.num_timesteps = 1000 * (i + 1)
            name = "model_best.zip" if i % 3 == 0 else f"model_{model.num_timesteps}_steps.zip"
            written.append(save_checkpoint(model, tmp_path / name))
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    while not done.is_set() or len(seen) < 3:
        for path in runs.run_checkpoints(tmp_path):
            try:
                checkpoint = check_checkpoint(path)
                with zipfile.ZipFile(path) as archive:
                    archive.read("policy.pth")
            except FileNotFoundError:  # model_best.zip replaced between listing and opening: a fresh one next time
                continue
            except UsageError as exc:
                errors.append(str(exc))
                continue
            seen.add((path.name, checkpoint_timesteps(checkpoint)))
        if done.is_set():
            break
    writer.join()
    assert errors == []
    assert len(seen) >= 3 and len(written) == 40
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


# ----------------------------------------------------------------------------- the watch and bad input


def test_watch_bad_inputs(finished_run: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        CheckpointWatch(tmp_path / "missing", TASK)
    (tmp_path / "plain").mkdir()
    with pytest.raises(UsageError, match="is not a run folder"):
        CheckpointWatch(tmp_path / "plain", TASK)
    # a checkpoint for another observation size: one line naming both
    other = copy_run(finished_run, tmp_path, [])
    with zipfile.ZipFile(finished_run / "model.zip") as src, zipfile.ZipFile(other / "model.zip", "w") as dst:
        for item in src.infolist():
            raw = src.read(item)
            if item.filename == "data":
                data = json.loads(raw)
                data["observation_space"]["_shape"] = [7]
                raw = json.dumps(data).encode()
            dst.writestr(item, raw)
    watch = CheckpointWatch(other, TASK)
    assert watch.poll(force=True) is None
    assert "observations of shape (7,)" in watch.problem and f"{TASK} has (4,)" in watch.problem
    shutil.rmtree(other)
    with pytest.raises(FileNotFoundError):
        watch.poll(force=True)


# ----------------------------------------------------------------------------- the session's Evaluate


def test_session_evaluate_follows_new_checkpoints(finished_run: Path, tmp_path: Path) -> None:
    live = copy_run(finished_run, tmp_path, [])
    runs.write_run_state(live, runs.RUNNING)  # this process stands in for the trainer
    session = TrainingSession(TASK, num_envs=16, log_root=tmp_path / "logs")
    session.build()
    try:
        session.set_render_mode(2)
        session.evaluate(live)
        session.update()
        assert session.status.message == f"evaluating {live.name}: waiting for its first checkpoint"
        assert session.status.evaluation.checkpoint is None
        for steps in (4096, 12288):
            shutil.copy2(finished_run / f"model_{steps}_steps.zip", live)
            deadline = time.monotonic() + 60
            while session.status.evaluation.checkpoint_timesteps != steps and time.monotonic() < deadline:
                session.update()
            evaluation = session.status.evaluation
            assert evaluation.checkpoint == f"model_{steps}_steps.zip", session.status.message
        deadline = time.monotonic() + 120
        while len(session.status.evaluation.points) < 2 and time.monotonic() < deadline:
            session.set_render_mode(0)  # as many steps per update as fit: episodes end sooner
            session.update()
        points = session.status.evaluation.points
        assert [steps for steps, _ in points][-1] == 12288 and session.status.episodes > 0
        shutil.rmtree(live)
        deadline = time.monotonic() + 60  # the run folder is watched on a thread of its own
        while "deleted" not in session.status.message and time.monotonic() < deadline:
            session.update()
            time.sleep(0.02)
        assert session.status.message == f"run folder {live.name} was deleted; playing model_12288_steps.zip"
        assert session.status.state.value == "PLAYING"
        session.stop()
        assert session.status.evaluation is None and session.status.state.value == "BUILT"
    finally:
        session.close()


# ----------------------------------------------------------------------------- play.py --evaluate


def test_play_evaluate_follows_a_training_run(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    train = subprocess.Popen(
        [sys.executable, str(TRAIN), "--num_envs", "16", "--headless", "--agent", str(agent_yaml(tmp_path))],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        for line in train.stdout:  # type: ignore[union-attr]
            if "Logging experiment in directory" in line:
                break
        play = run_script(PLAY, "--evaluate", "--num_envs", "8", "--headless", cwd=tmp_path, timeout=600)
        assert train.wait(timeout=600) == 0
    finally:
        train.kill()
    assert play.returncode == 0, play.stderr
    lines = [line for line in play.stdout.splitlines() if line.startswith("checkpoint:")]
    steps = [int(line.split()[1]) for line in lines]
    assert steps and steps == sorted(steps) and steps[-1] == FINAL_STEPS, play.stdout
    assert all(line.split()[2:4] == ["episodes:", "8"] and "mean return:" in line for line in lines)


def test_play_evaluate_bad_inputs(finished_run: Path, tmp_path: Path) -> None:
    out = run_script(PLAY, "--evaluate", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.strip().splitlines()[-1].startswith("play.py: error: run folder")
    out = run_script(PLAY, "--evaluate", cwd=tmp_path)
    assert out.returncode == 2 and "no run under" in out.stderr
    out = run_script(PLAY, "--evaluate", str(finished_run), "--checkpoint", "x.zip", cwd=tmp_path)
    assert out.returncode == 2 and "give it no --checkpoint" in out.stderr


# ----------------------------------------------------------------------------- the Runs model


def test_runs_model_selection_and_bad_choices(finished_run: Path) -> None:
    log_root = finished_run.parents[2]
    model = RunsModel(log_root)
    deadline = time.monotonic() + 60  # the list is read on the model's own thread
    while not model.refresh(TASK, None, idle=True).rows and time.monotonic() < deadline:
        time.sleep(0.05)
    state = model.refresh(TASK, None, idle=True)
    assert [row.name for row in state.rows] == [finished_run.name] and state.selected == -1
    assert not state.play_enabled
    model.select(finished_run.name)
    state = model.refresh(TASK, None, idle=True)
    assert state.selected == 0 and state.state_text == "finished" and state.timesteps_text == f"{FINAL_STEPS:,}"
    assert state.play_enabled and state.resume_enabled and state.evaluate_enabled
    assert pick_checkpoint(model.selected, "final") == finished_run / "model.zip"
    with pytest.raises(UsageError, match="has no best checkpoint"):
        pick_checkpoint(model.selected, "best")
    with pytest.raises(UsageError, match="is not in the list"):
        model.select("2000-01-01_00-00-00")
    # in the view-model, each is a status line
    model.close()
    vm = PanelViewModel(log_root=str(log_root), tasks=[TASK])
    deadline = time.monotonic() + 60
    while not vm.refresh().runs.rows and time.monotonic() < deadline:
        time.sleep(0.05)
    assert vm.on_run_evaluate() is False
    assert vm.refresh().status_line == "Evaluate: select a run in the Runs list first"
    assert vm.on_select_run("nope") is False and "is not in the list" in vm.refresh().status_line
    assert vm.on_select_run(finished_run.name) and vm.on_run_play("best") is False
    assert vm.refresh().status_line.startswith(f"run {finished_run.name} has no best checkpoint")
    vm.shutdown()
