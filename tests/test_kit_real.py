"""The extension in a real Kit 110.4 (Isaac Sim 6.2's kernel from the package index), with stand-ins.

Kit's extension manager resolves and enables ``isaaclab_trainer`` from ``exts/`` (registry off), its update
events drive the training, its extension manager disables and enables it again. The Kit SDK extensions the
index does not hold are the generated stand-ins of ``tests/kit_standins.py`` (omni.ui draws nothing, no
PhysX, no RTX: Newton steps the envs). How a run is judged: ``tests/kit_harness.py``. Python 3.12 only.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from kit_harness import EXTS, KIT_VENV, REPO, KitProcess, run_kit, start_kit

from isaaclab_trainer.session.session import REENTRY_ERROR
from isaaclab_trainer.train.runs import checkpoint_steps

SCENARIOS = Path(__file__).resolve().parent / "kit_scenarios"
UPDATE_OBSERVER = "isaaclab_trainer.kit.extension._on_update"
PIPAPI_PACKAGES = ("gymnasium", "stable_baselines3", "tensorboard", "greenlet")
ISAAC_SIM_PACKAGES = ("torch", "numpy", "yaml")
LOG_ROOT = "/exts/isaaclab_trainer/log_root"
#: train.py's run that Evaluate watches: a checkpoint every 4 rollouts of its 32 envs, three played while it goes
#: on, the fourth its last
EVALUATED_TIMESTEPS, EVALUATED_INTERVAL = 16384, 4096


def test_user_story_in_real_kit(kit_python, tmp_path):
    run = run_kit(kit_python, SCENARIOS / "user_story.py", tmp_path)
    run.check()
    res = run.scenario
    assert res["backends_offered"] == ["auto", "physx"]
    # the training packages came from the folder pipapi installs into; Isaac Sim's own from Kit's Python
    for name in PIPAPI_PACKAGES:
        assert res["module_files"][name].startswith(str(KIT_VENV / "pipapi")), (name, res["module_files"][name])
    for name in ISAAC_SIM_PACKAGES:
        assert res["module_files"][name].startswith(str(KIT_VENV / "lib")), (name, res["module_files"][name])
    # every one of the >= 300 Kit frames ran the extension's update observer, and training advanced
    assert res["training_frames"] >= 300
    assert res["extension_frames"] == res["training_frames"]
    assert res["timesteps_after_training_frames"] > 0
    assert res["render_modes"] == {"NO_RENDERING": False, "PARTIAL_RENDERING": False, "FULL_RENDERING": True}
    assert res["timesteps_while_paused"] == 0
    assert res["model_zip"] is True
    assert res["playing"] is True and res["play_moved"] is True
    assert not any(res["leftovers"].values()), res["leftovers"]
    assert res["update_observers_after_enable"] == [UPDATE_OBSERVER]
    assert res["retrained_timesteps"] > 0


def _broken_copy(tmp_path: Path, path: str, old: str, new: str) -> Path:
    """A copy of ``exts/`` (and the task configs beside it) whose ``isaaclab_trainer/<path>`` has ``old`` replaced
    by ``new`` (the defect)."""
    folder = tmp_path / "exts"
    shutil.copytree(EXTS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "config", tmp_path / "config")
    target = folder / "isaaclab_trainer" / path
    text = target.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def test_kit_serves_until_the_test_stops_it(kit_python, tmp_path):
    """``start_kit`` + ``kit.serve()``: Kit keeps updating while the test talks to it, until it asks to stop."""
    kit = start_kit(kit_python, SCENARIOS / "serve.py", tmp_path)
    log = tmp_path / "kit.log"
    while kit.proc.poll() is None and "app ready" not in (log.read_text() if log.is_file() else ""):
        time.sleep(0.1)  # Kit logs "app ready" at its first update, which serve() runs
    kit.request_stop()
    run = kit.wait()
    run.check()
    assert run.scenario["frames"] >= 1


def test_clean_start_passes(kit_python, tmp_path):
    """The baseline of the negative cases below: the unchanged extension starts clean."""
    run_kit(kit_python, SCENARIOS / "startup.py", tmp_path).check()


def test_broken_extension_toml_fails_the_run(kit_python, tmp_path):
    exts = _broken_copy(tmp_path, "config/extension.toml", "[dependencies]", "[dependencies")
    run = run_kit(kit_python, SCENARIOS / "startup.py", tmp_path / "run", ext_folder=exts)
    assert "extension not enabled: isaaclab_trainer" in run.problems()
    assert run.exit_code == 55  # Kit's dependency solver: the extension's config does not parse
    assert any("TOML parsing failed" in e.get("message", "") for e in run.errors), run.problems()


def test_exception_in_on_startup_fails_the_run(kit_python, tmp_path):
    """Kit logs it and still exits 0 with the extension enabled: only the error event catches it."""
    exts = _broken_copy(
        tmp_path,
        "isaaclab_trainer/kit/extension.py",
        "        global _instance\n        self._ext_id = ext_id",
        "        raise RuntimeError('injected on_startup failure')",
    )
    run = run_kit(kit_python, SCENARIOS / "startup.py", tmp_path / "run", ext_folder=exts)
    assert run.exit_code == 0 and not run.missing  # the trap: Kit itself reports success
    assert any("injected on_startup failure" in e.get("message", "") for e in run.errors), run.problems()
    with pytest.raises(AssertionError, match="injected on_startup failure"):
        run.check()


def test_subscription_left_behind_after_disable_fails_the_run(kit_python, tmp_path):
    exts = _broken_copy(
        tmp_path,
        "isaaclab_trainer/kit/extension.py",
        "        self._update_sub = None\n",
        "        _LEFT_BEHIND.append(self._update_sub)\n",
    )
    exts_file = exts / "isaaclab_trainer" / "isaaclab_trainer" / "kit" / "extension.py"
    exts_file.write_text(exts_file.read_text(encoding="utf-8") + "\n_LEFT_BEHIND: list = []\n", encoding="utf-8")
    run = run_kit(kit_python, SCENARIOS / "disable_enable.py", tmp_path / "run", ext_folder=exts)
    with pytest.raises(AssertionError, match=UPDATE_OBSERVER):
        run.check()


def test_disable_and_enable_leave_nothing_behind(kit_python, tmp_path):
    run_kit(kit_python, SCENARIOS / "disable_enable.py", tmp_path).check()


def test_manifest_without_pipapi_dependency_fails(kit_python, tmp_path):
    """Without ``"omni.kit.pipapi" = {}`` Kit imports the extension before pipapi (here: never) installs its
    training packages, as the first real run found; tests/test_extension_toml.py keeps the dependency."""
    exts = _broken_copy(tmp_path, "config/extension.toml", '"omni.kit.pipapi" = {}', "")
    run = run_kit(kit_python, SCENARIOS / "startup.py", tmp_path / "run", ext_folder=exts)
    assert any("No module named 'gymnasium'" in e.get("message", "") for e in run.errors), run.problems()


def test_env_step_running_kits_update_is_refused(kit_python, tmp_path):
    """Kit 110.4 runs an update called from inside an update observer in full (the nested update reaches every
    observer). An env step doing that inside the extension's frame (as Isaac Lab 3.0's Kit visualizer and PhysX
    manager do) runs nothing of the panel nested (a queued click waits), the session refuses it with one error line,
    training ends with model.zip, and Kit and the panel go on with nothing stepping."""
    run = run_kit(kit_python, SCENARIOS / "reentry.py", tmp_path)
    res = run.scenario
    assert res["kit"]["depths"] == [1, 1, 2, 1]  # the second update's observer ran a third one, nested, in full
    before, after = res["kit"]["update_numbers"]
    assert after == before + 1
    # the run's only problems: the session's one error line, as Kit's error event and in Kit's log file
    problems = run.problems()
    assert len(problems) == 2 and all(f"TrainingSession: {REENTRY_ERROR}" in p for p in problems), problems
    assert res["nested_updates"] == res["steps"] >= 1
    assert res["error"].startswith(REENTRY_ERROR) and res["error"].endswith("model.zip") and res["model_zip"]
    assert res["status_line"] == res["error"]
    assert res["clicks_ran_while_stepping"] == [False]
    assert res["steps_after"] == 0


def test_evaluate_a_run_that_train_py_writes_in_real_kit(kit_python, tmp_path):
    """train.py trains in a subprocess of this test, into the log root the extension reads; inside Kit the panel
    lists its run (running), Evaluate plays each newer checkpoint while train.py goes on (in step with it: see
    :func:`_in_step_with_the_panel`), and the run shows finished with its final return (the one TensorBoard's reader
    finds in its event files) once train.py ends."""
    import json

    from test_evaluate import TASK, start_train

    from isaaclab_trainer.train.run_log import RunScanner
    from isaaclab_trainer.ui.runs_model import format_return

    handoff = tmp_path / "handoff"
    handoff.mkdir()
    settings = {"/isaaclab_trainer_test/evaluate_handoff": str(handoff), LOG_ROOT: str(tmp_path / "logs")}
    kit = start_kit(kit_python, SCENARIOS / "evaluate_run.py", tmp_path / "kit", settings=settings)
    train = None
    try:
        deadline = time.monotonic() + 300  # Kit's start-up (Warp compiles its kernels once) and Build
        while not (handoff / "built").is_file():
            assert kit.proc.poll() is None, "Kit ended before building the envs:\n" + kit.wait().output[-6000:]
            assert time.monotonic() < deadline, "Kit did not build the envs within 300 s"
            time.sleep(0.1)
        train = start_train(tmp_path, n_timesteps=EVALUATED_TIMESTEPS, checkpoint_interval=EVALUATED_INTERVAL)
        runs_root = tmp_path / "logs" / "sb3" / TASK
        _in_step_with_the_panel(train, kit, runs_root, handoff)
        assert train.wait(timeout=600) == 0, (tmp_path / "train.out").read_text()
        (run_dir,) = runs_root.iterdir()
        summary = RunScanner().summary(run_dir)
        final = {"state_text": summary.state, "last_return_text": format_return(summary.last_return)}
        (handoff / "final.tmp").write_text(json.dumps(final))
        (handoff / "final.tmp").replace(handoff / "final.json")
        run = kit.wait(timeout=300)
    finally:
        if train is not None:
            train.kill()
        if kit.proc.poll() is None:
            kit.proc.kill()
    run.check()
    res = run.scenario
    assert res["run"] == run_dir.name
    # three checkpoints played, newer each time, the third while the run's state file still said running
    seen = res["seen"]
    assert len(seen) == 3 and seen == sorted(set(seen)) and seen[-1] < summary.timesteps, seen
    assert res["run_state_at_third"] == "running" and res["state_at_third"] == "PLAYING", res
    assert final == {"state_text": "finished", "last_return_text": res["finished"]["last_return_text"]}
    assert final["last_return_text"] != "-"


def _in_step_with_the_panel(train: subprocess.Popen, kit: KitProcess, runs_root: Path, handoff: Path) -> None:
    """Until the scenario has played three checkpoints (``handoff/advanced``), hold train.py (SIGSTOP, its run still
    running) whenever its newest checkpoint is not the one the panel plays (``handoff/playing``), and let it go on
    (SIGCONT) once it is: each checkpoint that lands is played while train.py goes on, whatever the two
    processes' pace (train.py cannot end first, the panel cannot wait on a checkpoint that never lands)."""
    held, deadline = False, time.monotonic() + 600
    while not (handoff / "advanced").is_file():
        assert kit.proc.poll() is None, "Kit ended before playing three checkpoints:\n" + kit.wait().output[-6000:]
        assert train.poll() is None, f"train.py ended ({train.returncode}) before the panel played three"
        assert time.monotonic() < deadline, "the panel did not play three checkpoints within 600 s"
        newest = max(runs_root.glob("*/model_*_steps.zip"), key=checkpoint_steps, default=None)
        playing = (handoff / "playing").read_text() if (handoff / "playing").is_file() else None
        if held != (newest is not None and newest.name != playing):
            held = not held
            train.send_signal(signal.SIGSTOP if held else signal.SIGCONT)
        time.sleep(0.05)
    if held:
        train.send_signal(signal.SIGCONT)
