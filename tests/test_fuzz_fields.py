"""Every field of the TrainingSession and of the panel's view-model, fuzzed (Hypothesis).

The session (what the Script Editor and the panel use) must answer any value with a one-line
``ValueError`` (a bad value) or ``RuntimeError`` (an action in the wrong state), writing nothing
when it refuses; the panel's click handlers must never raise: every value typed into a field ends
as one status line. Both run over the real Kit-free TrainingSession on Newton.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from fuzzing import DEVICE_VALUES, EDGE_INTS, TASK_VALUES, garbage, mapping_variants, plausible_values, short_text
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from isaaclab_trainer.session import TrainingSession
from isaaclab_trainer.session.status import SessionState
from isaaclab_trainer.sim.backends.registry import backend_names
from isaaclab_trainer.tasks import load_agent_cfg
from isaaclab_trainer.ui.view_model import RENDER_MODE_LABELS, PanelViewModel

FIELDS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)

#: anything a Python user may pass for an integer field
any_int = st.one_of(st.integers(-2, 8), st.sampled_from(EDGE_INTS), st.floats(), short_text, st.none(), st.booleans())
#: anything a Python user may pass for a text field
any_text = st.one_of(short_text, st.none(), st.integers(), garbage)


def session_kwargs(log_roots: list[Path]) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments of ``TrainingSession``: each present or not, each any kind of value."""
    agent = load_agent_cfg("Isaac-Cartpole-v0")
    return st.fixed_dictionaries(
        {"log_root": st.one_of(st.sampled_from(log_roots), st.sampled_from(log_roots), st.none(), st.integers())},
        optional={
            "task": st.one_of(st.sampled_from(TASK_VALUES), any_text),
            # mostly values a session takes, so that the actions after construction get fuzzed too
            "num_envs": st.one_of(st.integers(1, 4), st.integers(1, 4), any_int),
            "seed": st.one_of(st.integers(0, 99), st.integers(0, 99), any_int),
            "backend": st.one_of(st.sampled_from(("auto", "newton", "physx", "bullet", "")), any_text),
            "device": st.one_of(st.none(), st.sampled_from(DEVICE_VALUES), any_text),
            "agent_cfg": st.one_of(st.none(), st.none(), mapping_variants(agent, {}), garbage),
            "frame_budget_ms": st.one_of(plausible_values(30.0), short_text, st.none()),
        },
    )


def assert_one_line(exc: BaseException, kinds: tuple[type, ...]) -> None:
    assert isinstance(exc, kinds), repr(exc)
    assert len(str(exc).splitlines()) == 1, repr(exc)


@pytest.fixture(scope="module")
def log_roots(tmp_path_factory) -> list[Path]:
    """Log folders: a normal one, one below a file, and one that does not exist yet."""
    root = tmp_path_factory.mktemp("session_fields")
    (root / "a_file").write_text("in the way")
    return [root / "logs", root / "a_file" / "logs", root / "new" / "deeper"]


@settings(FIELDS, max_examples=60)
@given(data=st.data())
def test_session_fields(log_roots, data):
    """Construction, then each action with a drawn value: one-line ValueError/RuntimeError or success."""
    kwargs = data.draw(session_kwargs(log_roots), label="kwargs")
    before = {p for p in log_roots[0].parent.rglob("*")}
    try:
        session = TrainingSession(**kwargs)
    except Exception as exc:  # noqa: BLE001 - the assertion names what was raised
        assert_one_line(exc, (ValueError,))
        assert {p for p in log_roots[0].parent.rglob("*")} == before, "a refused session wrote files"
        event("refused")
        return
    event("constructed")
    try:
        session.build()
        actions = data.draw(st.lists(st.sampled_from(("load", "start", "render", "update", "stop")), max_size=4))
        for action in actions:
            try:
                if action == "load":
                    session.load_checkpoint(data.draw(st.one_of(st.sampled_from(("", ".", "/", "gone.zip")), any_text)))
                elif action == "start":
                    session.start_training(data.draw(st.one_of(st.none(), any_int), label="total_timesteps"))
                elif action == "render":
                    session.set_render_mode(data.draw(st.one_of(st.integers(-1, 4), any_text), label="mode"))
                elif action == "update":
                    session.update()
                else:
                    session.stop()
            except Exception as exc:  # noqa: BLE001
                assert_one_line(exc, (ValueError, RuntimeError))
            assert session.status.state is not SessionState.ERROR, session.status.error
    finally:
        session.close()


# -- the panel: a user clicking around with anything in the fields --------------------------------

num_envs_field = st.one_of(
    st.integers(-2, 6), st.sampled_from(("0", "16385", "", "lots", "1e3", "٣", " 4 ", "1,0", "-1", "4.0")), short_text
)
seed_field = st.one_of(st.integers(-2, 10), st.sampled_from(EDGE_INTS), st.sampled_from(("", "x", "4294967296")))
total_field = st.one_of(st.integers(-2, 300), st.sampled_from(EDGE_INTS).map(str), short_text)


class PanelClicks(RuleBasedStateMachine):
    """The panel's handlers in any order with any field values; none may raise."""

    def __init__(self) -> None:
        super().__init__()
        self._tmp = tempfile.TemporaryDirectory()
        self.vm = PanelViewModel(log_root=self._tmp.name)

    @rule(
        task=st.one_of(st.sampled_from(TASK_VALUES), short_text),
        num_envs=num_envs_field,
        seed=seed_field,
        backend=st.one_of(st.sampled_from((*backend_names(), " AUTO ", "bullet", "")), short_text),
        device=st.one_of(st.none(), st.sampled_from(DEVICE_VALUES), short_text),
    )
    def build(self, task, num_envs, seed, backend, device) -> None:
        self.check(self.vm.on_build(task, num_envs, seed, backend, device=device))

    @rule(total=total_field)
    def start(self, total) -> None:
        self.check(self.vm.on_start(total))

    @rule(label=st.one_of(st.sampled_from(RENDER_MODE_LABELS), st.integers(-2, 5), short_text, st.booleans()))
    def render_mode(self, label) -> None:
        self.check(self.vm.on_render_mode(label))

    @rule(path=st.one_of(st.sampled_from(("", " ", ".", "/", "/dev/null", "gone.zip")), short_text))
    def load_and_play(self, path) -> None:
        self.check(self.vm.on_load_and_play(path))

    @rule(task=st.one_of(st.sampled_from(TASK_VALUES), short_text))
    def task_changed(self, task) -> None:
        self.vm.on_task_changed(task)

    @rule()
    def pause(self) -> None:
        self.check(self.vm.on_pause())

    @rule()
    def resume(self) -> None:
        self.check(self.vm.on_resume())

    @rule()
    def stop(self) -> None:
        self.check(self.vm.on_stop())

    @rule()
    def tick(self) -> None:
        self.vm.tick()

    def check(self, ok: bool) -> None:
        """A refused action shows one error line; an accepted one shows one line too."""
        state = self.vm.refresh()
        assert state.status_line and len(state.status_line.splitlines()) == 1, state.status_line
        if not ok:
            assert state.status_is_error, state.status_line
        event("accepted" if ok else "refused")

    @invariant()
    def panel_renders(self) -> None:
        state = self.vm.refresh()
        assert len(state.status_line.splitlines()) <= 1, state.status_line

    def teardown(self) -> None:
        self.vm.shutdown()
        self._tmp.cleanup()


TestPanelClicks = PanelClicks.TestCase
TestPanelClicks.settings = settings(FIELDS, max_examples=12, stateful_step_count=15)
