"""Which widget shows which :class:`PanelState` field, in what role: one table for every view of the panel.

The omni.ui window (``kit/window.py``) and the browser panel (``ui/browser.py``) both derive from
:class:`StateView`: each names its widgets by the table's keys and says how it sets a widget of each role;
:meth:`StateView.apply` walks the table and touches only what changed. The Runs and Evaluate sections draw
``PanelState.runs`` (a :class:`RunsState`) from their own table, :data:`RUN_FIELDS`, the same way.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from isaaclab_trainer.session.status import RenderMode
from isaaclab_trainer.ui.runs_model import RunsState
from isaaclab_trainer.ui.view_model import PanelState, ui_refresh_period


class Role(enum.Enum):
    ENABLED = "enabled"  # clickable while the value is True (buttons, the Task inputs)
    TEXT = "text"  # read-only text, or an input's text set by the view-model (the Overrides field)
    STATUS = "status"  # the status line: (text, is_error)
    PROGRESS = "progress"  # a bar, 0 to 1
    PLOT = "plot"  # the mean return per rollout: (values, min, max)
    CHOICE = "choice"  # the Rendering Mode dropdown: selected index


@dataclass(frozen=True)
class Field:
    key: str  # the view's widget (or tuple of widgets) showing it
    role: Role
    reads: tuple[str, ...]  # PanelState fields, passed to the setter in this order
    label: str = ""  # the row label, where a view shows one


def _enabled(key: str, flag: str) -> Field:
    return Field(key, Role.ENABLED, (flag,))


def _text(key: str, value: str, label: str = "") -> Field:
    return Field(key, Role.TEXT, (value,), label)


#: the buttons: each enabled by PanelState's ``<key>_enabled``; each view names its widget ``<key>_btn``
BUTTONS: tuple[str, ...] = ("build", "start", "pause", "resume", "stop", "load_play", "play_stop", "export")
FIELDS: tuple[Field, ...] = (
    *(_enabled(key, f"{key}_enabled") for key in BUTTONS),
    _enabled("task_inputs", "task_inputs_enabled"),
    _text("overrides", "overrides_text", "Overrides"),
    _text("state", "state_label", "State"),
    _text("engine", "engine_text", "Active engine"),
    _text("progress_text", "progress_text", "Progress"),
    _text("steps_per_second", "steps_per_second_text", "Env steps / s"),
    _text("mean_return", "mean_return_text", "Mean return"),
    _text("episodes", "episodes_text", "Episodes"),
    _text("run_dir", "run_dir_text", "Run folder"),
    _text("latest_checkpoint", "latest_checkpoint_text", "Newest"),
    _text("best_checkpoint", "best_checkpoint_text", "Best"),
    _text("tensorboard_command", "tensorboard_command", "TensorBoard"),
    _text("tensorboard_url", "tensorboard_url", "TensorBoard URL"),
    Field("status", Role.STATUS, ("status_line", "status_is_error")),
    Field("progress", Role.PROGRESS, ("progress",)),
    Field("plot", Role.PLOT, ("plot_values", "plot_min", "plot_max")),
    Field("render_mode", Role.CHOICE, ("render_mode_index",)),
)
FIELD = {f.key: f for f in FIELDS}
#: the Training section's read-only value rows, in order
VALUE_ROWS: tuple[Field, ...] = tuple(
    FIELD[k] for k in ("progress_text", "steps_per_second", "mean_return", "episodes", "run_dir")
)

#: the Runs section's buttons: each enabled by RunsState's ``<key>_enabled``; each view names its widget ``<key>_btn``
RUN_BUTTONS: tuple[str, ...] = ("play", "resume", "export", "evaluate", "tensorboard")
#: the Runs section's read-only value rows (RunsState fields), in order
RUN_VALUE_ROWS: tuple[Field, ...] = (
    _text("state_text", "state_text", "Run state"),
    _text("timesteps_text", "timesteps_text", "Run timesteps"),
    _text("last_return_text", "last_return_text", "Last return"),
    _text("best_return_text", "best_return_text", "Best return"),
    _text("checkpoints_text", "checkpoints_text", "Checkpoints"),
)
#: the Evaluate section's read-only value rows (RunsState fields), in order
EVALUATE_VALUE_ROWS: tuple[Field, ...] = (
    _text("evaluated_run_text", "evaluated_run_text", "Evaluating"),
    _text("playing_text", "playing_text", "Playing checkpoint"),
)
RUN_FIELDS: tuple[Field, ...] = (
    *(_enabled(key, f"{key}_enabled") for key in RUN_BUTTONS),
    *RUN_VALUE_ROWS,
    *EVALUATE_VALUE_ROWS,
)


class StateView:
    """A drawer of :class:`PanelState`: :attr:`widgets` maps table keys to widgets, :meth:`set` sets one."""

    widgets: Mapping[str, Any]  # key -> widget, or a tuple of widgets; a key left out is not shown here
    last_state: PanelState | None = None
    #: the view's Runs / Evaluate section: its ``widgets`` (by :data:`RUN_FIELDS` key) are drawn from
    #: ``PanelState.runs`` here, the rest (run list, curves) by its ``apply(last_runs, runs)``
    runs_view: Any = None

    def set(self, role: Role, widget: Any, *values: Any) -> None:
        """Show ``values`` (the field's ``reads``) on ``widget`` as ``role`` asks."""
        raise NotImplementedError

    def due(self, frame: int, mode: RenderMode) -> bool:
        """Whether app frame number ``frame`` draws this view: until its first state, then every
        :func:`ui_refresh_period` frames in ``mode``; the front end derives the panel state only on such frames."""
        return self.last_state is None or frame % ui_refresh_period(mode) == 0

    def apply(self, s: PanelState) -> None:
        """Copy ``s`` into the widgets (only what changed since the last call)."""
        last, self.last_state = self.last_state, s
        self.draw_fields(FIELDS, self.widgets, last, s)
        if self.runs_view is not None and (last is None or last.runs != s.runs):
            last_runs = last.runs if last is not None else None
            self.draw_fields(RUN_FIELDS, self.runs_view.widgets, last_runs, s.runs)
            self.runs_view.apply(last_runs, s.runs)

    def draw_fields(
        self,
        fields: tuple[Field, ...],
        widgets: Mapping[str, Any],
        last: PanelState | RunsState | None,
        s: PanelState | RunsState,
    ) -> None:
        """Set the widgets (by key) of the ``fields`` whose values in ``s`` differ from ``last`` (all when None)."""
        for field in fields:
            targets = widgets.get(field.key)
            if targets is None:
                continue
            values = tuple(getattr(s, name) for name in field.reads)
            if last is not None and values == tuple(getattr(last, name) for name in field.reads):
                continue
            for widget in targets if isinstance(targets, tuple) else (targets,):
                self.set(field.role, widget, *values)
