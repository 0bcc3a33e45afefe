"""PanelViewModel: input checks, button states per SessionState, formatting, render-mode mapping.

A small fake session stands in for TrainingSession where the test is about the view-model alone
(forwarding, formatting, failure display); the states, buttons and refusals come from the real
Kit-free TrainingSession in ``test_panel_drives_the_real_session``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from isaaclab_trainer.session.status import RenderMode, SessionState, SessionStatus
from isaaclab_trainer.ui import view_model as vmod
from isaaclab_trainer.ui.view_model import InputError, PanelViewModel

TASKS = ["Isaac-Cartpole-v0", "Isaac-Cartpole-Direct-v0"]


class FakeSession:
    """The TrainingSession surface the panel calls, with a scripted status."""

    def __init__(self, task="Isaac-Cartpole-v0", num_envs=64, seed=42, backend="auto", log_root="logs", **kw):
        self.kwargs = dict(task=task, num_envs=num_envs, seed=seed, backend=backend, log_root=log_root, **kw)
        self.calls: list[tuple] = []
        self.status = SessionStatus(task=task, num_envs=num_envs)
        self.default_total_timesteps = 1_000_448
        self.fail_on: set[str] = set()

    def _set(self, **changes):
        self.status = dataclasses.replace(self.status, **changes)

    def _call(self, name, *args):
        self.calls.append((name, *args))
        if name in self.fail_on:
            raise RuntimeError(f"{name} exploded\nsecond line")

    def build(self):
        self._call("build")
        self._set(state=SessionState.BUILT)

    def start_training(self, total_timesteps=None):
        self._call("start_training", total_timesteps)
        self._set(state=SessionState.TRAINING, total_timesteps=total_timesteps or self.default_total_timesteps)

    def update(self):
        self._call("update")

    def pause(self):
        self._call("pause")
        self._set(state=SessionState.PAUSED)

    def resume(self):
        self._call("resume")
        self._set(state=SessionState.TRAINING)

    def stop(self):
        self._call("stop")
        self._set(state=SessionState.DONE if self.status.state != SessionState.PLAYING else SessionState.BUILT)

    def set_render_mode(self, mode):
        self._call("set_render_mode", mode)
        self._set(render_mode=mode)

    def load_checkpoint(self, path):
        self._call("load_checkpoint", path)

    def play(self):
        self._call("play")
        self._set(state=SessionState.PLAYING)

    def close(self):
        self._call("close")


@pytest.fixture
def made():
    return []


@pytest.fixture
def vm(made, tmp_path):
    def factory(**kw):
        s = FakeSession(**kw)
        made.append(s)
        return s

    return PanelViewModel(
        session_factory=factory,
        tasks=TASKS,
        latest_checkpoint_fn=lambda task, root: None,
        tensorboard_launcher=lambda logdir: f"http://localhost:6006/#{logdir}",
        log_root=str(tmp_path / "logs"),
    )


def buttons(state):
    return {
        k: getattr(state, k)
        for k in (
            "build_enabled",
            "start_enabled",
            "pause_enabled",
            "resume_enabled",
            "stop_enabled",
            "load_play_enabled",
            "play_stop_enabled",
            "task_inputs_enabled",
        )
    }


# --------------------------------------------------------------------------- formatting


def test_progress_and_number_formats():
    assert vmod.format_progress(12_288, 1_000_448) == "12,288 / 1,000,448"
    assert vmod.format_progress(5, 0) == "5"
    assert vmod.format_steps_per_second(12345.6) == "12,346 steps/s"
    assert vmod.format_steps_per_second(0.0) == "-"
    assert vmod.format_steps_per_second(float("nan")) == "-"
    assert vmod.format_return(None) == "-"
    assert vmod.format_return(4.98765) == "4.99"
    assert vmod.format_return(float("inf")) == "-"


def test_render_mode_mapping_round_trips():
    assert list(vmod.RENDER_MODE_LABELS) == ["No rendering", "Partial rendering", "Full rendering"]
    for i, label in enumerate(vmod.RENDER_MODE_LABELS):
        mode = vmod.label_to_render_mode(label)
        assert vmod.label_to_render_mode(i) is mode
        assert vmod.render_mode_to_label(mode) == label
        assert vmod.render_mode_index(mode) == i
    assert vmod.label_to_render_mode("FULL_RENDERING") is RenderMode.FULL_RENDERING
    assert vmod.render_mode_to_label(RenderMode.NO_GUI_OR_RENDERING) == "No rendering"
    with pytest.raises(InputError):
        vmod.label_to_render_mode("Ultra")
    with pytest.raises(InputError):
        vmod.label_to_render_mode(3)
    assert vmod.ui_refresh_period(RenderMode.NO_RENDERING) == 5
    assert vmod.ui_refresh_period(RenderMode.FULL_RENDERING) == 1


def test_plot_data():
    assert vmod.plot_data([]) == ((), 0.0, 1.0)
    values, lo, hi = vmod.plot_data([1.0, float("nan"), 3.0, 2.0])
    assert values == (1.0, 3.0, 2.0)
    assert lo < 1.0 and hi > 3.0
    values, lo, hi = vmod.plot_data([2.0, 2.0])
    assert lo < 2.0 < hi
    values, _, _ = vmod.plot_data([float(i) for i in range(500)])
    assert len(values) == vmod.MAX_PLOT_POINTS and values[-1] == 499.0


def test_tensorboard_command():
    assert vmod.tensorboard_command(vmod.tensorboard_logdir("Isaac-Cartpole-v0", None)) == (
        f"./isaaclab.sh -p -m tensorboard.main --logdir {Path('logs').resolve() / 'sb3' / 'Isaac-Cartpole-v0'}"
    )
    assert vmod.tensorboard_command("/runs/my run") == "./isaaclab.sh -p -m tensorboard.main --logdir '/runs/my run'"
    assert vmod.tensorboard_logdir("T", "/x/run") == "/x/run"


# --------------------------------------------------------------------------- input parsing


@pytest.mark.parametrize(("value", "expected"), [("64", 64), (" 4,096 ", 4096), ("1_024", 1024), (7, 7)])
def test_num_envs_accepts(value, expected):
    assert vmod.parse_num_envs(value) == expected


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("0", "an integer >= 1, got 0"),
        ("-3", "an integer >= 1, got -3"),
        ("abc", "must be an integer"),
        ("", "empty"),
        ("2.5", "integer"),
        (True, "integer"),
        ("999999999999", "needs about .* GiB .*accepted: 1 to"),  # the one cap: memory
    ],
)
def test_num_envs_rejects(value, words):
    with pytest.raises(InputError, match=words):
        vmod.parse_num_envs(value)


def test_num_envs_cap_is_the_tasks_memory_per_env():
    """The Environments field caps by the selected task's memory per env: a count the cartpole fits and the
    humanoid (12x the memory each) does not is accepted for one and refused for the other, in the build args too."""
    from isaaclab_trainer.tasks import bytes_per_env
    from isaaclab_trainer.train.checks import max_num_envs

    humanoid = max_num_envs(bytes_per_env=bytes_per_env("Isaac-Humanoid-v0"))
    assert humanoid < max_num_envs(bytes_per_env=bytes_per_env("Isaac-Cartpole-v0")) / 4
    count = 2 * humanoid  # a margin both ways: other processes change the free memory between the calls
    assert vmod.parse_num_envs(count, "Isaac-Cartpole-v0") == count
    with pytest.raises(InputError, match=f"number of environments {count} needs about"):
        vmod.parse_num_envs(count, "Isaac-Humanoid-v0")
    with pytest.raises(InputError, match="number of environments"):
        vmod.parse_build_args("Isaac-Humanoid-v0", count, 0, "newton", ["newton"])


def test_other_fields():
    assert vmod.parse_seed("0") == 0
    assert vmod.parse_seed("-1") == -1  # the session draws one at Build, as train.py --seed -1
    with pytest.raises(InputError, match=r"seed must be -1 \(random\) or an integer from 0 to"):
        vmod.parse_seed(-2)
    assert vmod.parse_total_timesteps("1,000,448") == 1_000_448
    with pytest.raises(InputError, match="total timesteps"):
        vmod.parse_total_timesteps("0")
    with pytest.raises(InputError, match="unknown task"):
        vmod.parse_task("Isaac-Nope-v0")
    with pytest.raises(InputError, match="unknown physics backend 'bullet'; accepted: auto, newton, physx"):
        vmod.parse_backend("bullet", ("auto", "physx"))
    with pytest.raises(InputError, match="'newton' is not offered here"):
        vmod.parse_backend("newton", ("auto", "physx"))
    assert vmod.parse_backend(" PhysX ", ("auto", "physx")) == "physx"


# --------------------------------------------------------------------------- state transitions


def test_idle_state(vm):
    s = vm.refresh()
    assert s.state is SessionState.IDLE
    assert buttons(s) == {
        "build_enabled": True,
        "start_enabled": False,
        "pause_enabled": False,
        "resume_enabled": False,
        "stop_enabled": False,
        "load_play_enabled": False,
        "play_stop_enabled": False,
        "task_inputs_enabled": True,
    }
    assert s.render_mode_index == 2 and not s.status_is_error


def test_invalid_build_input_creates_nothing(vm, made):
    assert vm.on_build(TASKS[0], "0", "42", "auto") is False
    s = vm.refresh()
    assert made == [] and vm.session is None
    assert s.status_is_error and "number of environments" in s.status_line
    assert "\n" not in s.status_line


def test_overrides_field_prefilled_and_refused_for_our_tasks(made, tmp_path):
    """The Overrides field starts with panel.py's command-line items; this package's tasks refuse any with the
    command line's line (their values live in YAML), a broken quote gets one line, and nothing is built."""
    vm = PanelViewModel(
        session_factory=lambda **kw: made.append(FakeSession(**kw)) or made[-1],
        tasks=TASKS,
        log_root=str(tmp_path),
        overrides=("env.scene.robot.spawn.usd_path=/my robots/cartpole.usda", "env.scene.ground=None"),
    )
    s = vm.refresh()
    assert s.overrides_text == "'env.scene.robot.spawn.usd_path=/my robots/cartpole.usda' env.scene.ground=None"
    assert not vm.on_build(TASKS[0], 4, 1, "auto", overrides=s.overrides_text)
    line = vm.refresh().status_line
    assert line.startswith("key=value overrides (env.scene.robot.spawn.usd_path=/my robots/cartpole.usda) apply to")
    assert "isaaclab:<id>" in line and TASKS[0] in line
    assert not vm.on_build(TASKS[0], 4, 1, "auto", overrides="env.scene.ground='None")
    assert vm.refresh().status_line == "Overrides: no closing quotation in 'env.scene.ground='None'"
    assert made == []
    assert vm.on_build(TASKS[0], 4, 1, "auto", overrides="  ")  # an empty field: the task's own values
    assert "overrides" not in made[0].kwargs and vm.refresh().overrides_text == ""


def test_build_forwards_fields_and_status_is_formatted(vm, made):
    """What the view-model adds on top of any session: field values forwarded, status numbers formatted."""
    assert vm.on_build(TASKS[1], "16", 7, "physx")
    session = made[0]
    assert session.kwargs["task"] == TASKS[1] and session.kwargs["num_envs"] == 16
    assert session.kwargs["seed"] == 7 and session.kwargs["backend"] == "physx"
    assert session.kwargs["log_root"] == vm.log_root
    assert vm.default_total_timesteps() == 1_000_448
    assert vm.on_start("1,000,448")
    assert ("start_training", 1_000_448) in session.calls
    session._set(
        timesteps=12_288,
        steps_per_second=54321.0,
        mean_return=1.5,
        episodes=3,
        return_history=(0.5, 1.0, 1.5),
        run_dir="/tmp/run1",
    )
    s = vm.tick()
    assert ("update",) in session.calls
    assert s.progress_text == "12,288 / 1,000,448"
    assert s.steps_per_second_text == "54,321 steps/s"
    assert s.mean_return_text == "1.50" and s.episodes_text == "3"
    assert s.plot_values == (0.5, 1.0, 1.5) and s.plot_min < 0.5 and s.plot_max > 1.5
    assert s.run_dir_text == "/tmp/run1"
    assert s.tensorboard_command.endswith("--logdir /tmp/run1")


def test_advance_steps_the_session_and_reads_only_state_and_mode(vm, made):
    """The frames that draw nothing: the session advances, and its state and render mode (what the front end
    applies every frame) are those a full refresh would show, a mode chosen since included."""
    idle = vm.advance()
    assert (idle.state, idle.render_mode) == (vm.refresh().state, vm.refresh().render_mode)
    vm.on_build(TASKS[0], 4, 1, "auto")
    assert vm.on_start(100)
    assert vm.on_render_mode("No rendering")
    made[0].calls.clear()
    frame = vm.advance()
    assert made[0].calls == [("update",)]
    full = vm.refresh()
    assert frame == vmod.FrameState(full.state, full.render_mode)
    assert frame.render_mode is RenderMode.NO_RENDERING


def test_rebuild_closes_previous_session(vm, made):
    vm.on_build(TASKS[0], 4, 1, "auto")
    vm.on_build(TASKS[0], 8, 1, "auto")
    assert ("close",) in made[0].calls and vm.session is made[1]


def test_session_errors_become_one_status_line(vm, made):
    vm.on_build(TASKS[0], 4, 1, "auto")
    made[0].fail_on.add("start_training")
    assert vm.on_start(100) is False
    s = vm.refresh()
    assert s.status_is_error and s.status_line == "Start failed: RuntimeError: start_training exploded"
    made[0]._set(state=SessionState.ERROR, error="PhysX views invalid")
    s = vm.refresh()
    assert s.state_label == "Error" and s.status_line == "PhysX views invalid" and s.status_is_error
    assert s.build_enabled and not s.start_enabled


def test_factory_value_error_is_shown(tmp_path):
    def factory(**kw):
        raise ValueError("backend 'physx' needs Isaac Sim")

    vm = PanelViewModel(session_factory=factory, tasks=TASKS, latest_checkpoint_fn=lambda t, r: None)
    assert vm.on_build(TASKS[0], 4, 1, "physx") is False
    assert vm.refresh().status_line == "Build failed: ValueError: backend 'physx' needs Isaac Sim"


def test_actions_without_session_explain(vm):
    assert vm.on_start(10) is False
    assert "build the environments first" in vm.refresh().status_line
    assert vm.on_pause() is False and vm.on_load_and_play("x.zip") is False


def test_render_mode_before_and_after_build(vm, made):
    assert vm.on_render_mode("No rendering")
    assert vm.refresh().render_mode is RenderMode.NO_RENDERING
    vm.on_build(TASKS[0], 4, 1, "auto")
    assert ("set_render_mode", RenderMode.NO_RENDERING) in made[0].calls  # carried into the new session
    vm.on_start(100)
    assert vm.on_render_mode("Partial rendering")  # switchable during training
    s = vm.refresh()
    assert s.render_mode_index == 1 and s.render_mode is RenderMode.PARTIAL_RENDERING
    assert vm.on_render_mode("bogus") is False and vm.refresh().status_is_error


def test_load_and_play_uses_newest_checkpoint(tmp_path, made):
    ckpt = tmp_path / "model.zip"
    ckpt.write_bytes(b"zip")
    seen = []

    def latest(task, root):
        seen.append((task, root))
        return str(ckpt)

    vm = PanelViewModel(
        session_factory=lambda **kw: made.append(FakeSession(**kw)) or made[-1],
        tasks=TASKS,
        latest_checkpoint_fn=latest,
        log_root="L",
    )
    vm.on_task_changed(TASKS[1])
    assert vm.refresh().latest_checkpoint_text == str(ckpt)
    vm.refresh()
    assert seen == [(TASKS[1], "L")]  # cached: not re-scanned every frame
    vm.on_build(TASKS[1], 2, 0, "auto")
    assert vm.on_load_and_play("")
    assert ("load_checkpoint", str(ckpt)) in made[0].calls


def test_tensorboard_button(vm):
    url = vm.on_start_tensorboard()
    assert url.startswith("http://localhost:6006")
    assert vm.refresh().tensorboard_url == url
    assert vm.on_start_tensorboard() == url  # started once


def test_broken_status_does_not_raise(vm, made):
    vm.on_build(TASKS[0], 4, 1, "auto")

    class BrokenStatus(FakeSession):
        @property
        def status(self):
            raise RuntimeError("status broke")

    made[0].__class__ = BrokenStatus
    s = vm.tick()
    assert s.state is SessionState.ERROR and "status broke" in s.status_line


def test_shutdown_closes_session(vm, made):
    vm.on_build(TASKS[0], 4, 1, "auto")
    vm.shutdown()
    assert ("close",) in made[0].calls and vm.session is None


def test_panel_drives_the_real_session(tmp_path):
    """The view-model over the real Kit-free TrainingSession (Newton, 4 envs): every state, button and
    refusal comes from the session itself, not from a script."""
    vm = PanelViewModel(log_root=str(tmp_path))  # default factory: the real TrainingSession on Newton
    assert not vm.on_build("Isaac-Cartpole-v0", "zero", "1", "auto")  # checked before anything is built
    assert vm.refresh().status_is_error and vm.session is None
    assert vm.on_render_mode("No rendering")  # chosen before Build: carried into the session
    assert vm.on_build("Isaac-Cartpole-v0", "4", "1", "auto")
    s = vm.refresh()
    assert s.state is SessionState.BUILT and vm.session.render_mode is RenderMode.NO_RENDERING
    assert s.start_enabled and s.load_play_enabled and not s.stop_enabled and not s.pause_enabled

    assert vm.on_start("640")
    s = vm.tick()
    assert s.state is SessionState.TRAINING and s.pause_enabled and s.stop_enabled
    assert not s.build_enabled and not s.task_inputs_enabled and not s.load_play_enabled
    assert vm.on_build("Isaac-Cartpole-v0", "4", "1", "auto") is False  # refused while training
    assert "stop the running session" in vm.refresh().status_line
    assert vm.on_load_and_play(str(tmp_path / "any.zip")) is False
    assert "stop training first" in vm.refresh().status_line

    assert vm.on_pause()
    s = vm.refresh()
    assert s.state is SessionState.PAUSED and s.resume_enabled and not s.pause_enabled and s.stop_enabled
    frozen = vm.session.status.timesteps
    for _ in range(5):
        vm.tick()
    assert vm.session.status.timesteps == frozen
    assert vm.on_resume() and vm.refresh().state is SessionState.TRAINING
    for _ in range(2000):
        state = vm.tick()
        if state.state is SessionState.DONE:
            break
    assert state.state is SessionState.DONE, state.status_line
    assert state.progress_text == "640 / 640" and state.run_dir_text != vmod.NO_VALUE
    assert state.build_enabled and state.start_enabled and state.load_play_enabled

    missing = tmp_path / "gone.zip"
    assert vm.on_load_and_play(str(missing)) is False  # the session's own check, word for word
    s = vm.refresh()
    assert s.status_is_error and s.status_line == f"checkpoint '{missing}' does not exist"
    assert vm.on_load_and_play("")  # the newest checkpoint of the task, found automatically
    s = vm.refresh()
    assert s.state is SessionState.PLAYING and s.play_stop_enabled and not s.load_play_enabled
    assert s.render_mode is RenderMode.FULL_RENDERING
    before = vm.session.status.timesteps
    vm.tick()
    assert vm.session.status.timesteps > before
    assert vm.on_stop() and vm.refresh().state is SessionState.BUILT
    vm.shutdown()
    assert vm.session is None


def test_engine_choice_and_active_engine_display():
    """The Kit shell passes the engines its Isaac Sim has and a query of the active one (6.x: PhysX or Newton)."""
    engine = ["newton"]
    made: list[FakeSession] = []

    def factory(**kw):
        made.append(FakeSession(**kw))
        return made[-1]

    vm = PanelViewModel(
        session_factory=factory,
        tasks=TASKS,
        latest_checkpoint_fn=lambda t, r: None,
        backends=("auto", "physx", "newton"),
        engine_fn=lambda: engine[0],
    )
    assert vm.refresh().engine_text == "Newton"
    assert vm.on_build(TASKS[0], 4, 1, "newton") and made[-1].kwargs["backend"] == "newton"
    engine[0] = "physx"
    assert vm.refresh().engine_text == "PhysX"
    assert vm.on_build(TASKS[0], 4, 1, "bullet") is False
    assert vm.refresh().status_line.startswith("unknown physics backend 'bullet'")

    def broken() -> str:
        raise RuntimeError("no simulation manager")

    assert PanelViewModel(session_factory=factory, tasks=TASKS, engine_fn=broken).refresh().engine_text == "-"
    assert PanelViewModel(session_factory=factory, tasks=TASKS).refresh().engine_text == "-"  # outside Kit


def test_checkpoint_field_takes_latest_and_best(made):
    """The field's selectors, as play.py's --checkpoint: "latest" (and empty) and "best", scanned once per save."""
    scans: list[str] = []
    found = {"latest": "L/model_64000_steps.zip", "best": None}

    def pick(name: str):
        return lambda task, root: scans.append(name) or found[name]

    vm = PanelViewModel(
        session_factory=lambda **kw: made.append(FakeSession(**kw)) or made[-1],
        tasks=TASKS,
        latest_checkpoint_fn=pick("latest"),
        best_checkpoint_fn=pick("best"),
    )
    state = vm.refresh()
    assert state.latest_checkpoint_text == "L/model_64000_steps.zip" and state.best_checkpoint_text == "(none found)"
    vm.on_build(TASKS[0], 2, 0, "auto")
    assert not vm.on_load_and_play("best")
    assert vm.refresh().status_line == (
        f"Load & Play: no run with a model_best.zip for {TASKS[0]}; train first or enter a path"
    )
    assert not vm.on_export(" best")
    assert vm.refresh().status_line.startswith("Export: no run with a model_best.zip")

    found["best"] = "R/model_best.zip"
    scans.clear()
    made[0]._set(best_checkpoint="R/model_best.zip")  # the session saved a best model: scanned again
    assert vm.refresh().best_checkpoint_text == "R/model_best.zip" and scans == ["latest", "best"]
    vm.refresh()
    assert scans == ["latest", "best"]  # and not again every frame
    assert vm.on_load_and_play(" best ")
    assert vm.on_load_and_play("latest")
    assert vm.on_load_and_play("")
    loads = [c[1] for c in made[0].calls if c[0] == "load_checkpoint"]
    assert loads == ["R/model_best.zip", "L/model_64000_steps.zip", "L/model_64000_steps.zip"]


def test_a_view_is_due_until_its_first_state_then_every_refresh_period(vm):
    """StateView.due: every frame draws a view that has shown nothing yet; then only every
    ``ui_refresh_period(mode)`` frames (every frame with rendering, every 5th without)."""
    from isaaclab_trainer.ui.fields import StateView

    view = StateView()
    view.widgets = {}
    frames = range(1, 21)
    assert all(view.due(f, mode) for mode in RenderMode for f in frames)
    view.apply(vm.refresh())
    due = {mode: [f for f in frames if view.due(f, mode)] for mode in RenderMode}
    assert due[RenderMode.FULL_RENDERING] == due[RenderMode.PARTIAL_RENDERING] == list(frames)
    assert due[RenderMode.NO_RENDERING] == due[RenderMode.NO_GUI_OR_RENDERING] == [5, 10, 15, 20]


def test_every_panel_field_has_one_widget_role():
    """ui/fields.py, the table both views draw from, shows every PanelState field once (``state`` and
    ``render_mode`` are the enums the frame loop acts on; their labels are drawn)."""
    from isaaclab_trainer.ui.fields import FIELDS

    read = [name for field in FIELDS for name in field.reads]
    assert len(read) == len(set(read))
    # ``runs`` is the Runs / Evaluate section's own state (RunsState), drawn by each view's Runs section
    assert set(read) | {"state", "render_mode", "runs"} == {f.name for f in dataclasses.fields(vmod.PanelState)}
