"""The "Isaac Lab" dock window: omni.ui widgets only.

It draws a :class:`~isaaclab_trainer.ui.view_model.PanelState` and forwards every click to the
:class:`~isaaclab_trainer.ui.view_model.PanelViewModel`; no logic lives here.
"""

from __future__ import annotations

from typing import Any

import omni.ui as ui

from isaaclab_trainer.ui.fields import BUTTONS, EVALUATE_VALUE_ROWS, FIELD, RUN_BUTTONS, RUN_VALUE_ROWS, Role, StateView
from isaaclab_trainer.ui.runs_model import CHECKPOINT_CHOICES, RunsState
from isaaclab_trainer.ui.view_model import RENDER_MODE_LABELS, PanelViewModel

WINDOW_TITLE = "Isaac Lab"
LABEL_WIDTH = 130
ERROR_COLOR = 0xFF5555FF  # ABGR
INFO_COLOR = 0xFFCCCCCC


def _row(label: str) -> ui.HStack:
    stack = ui.HStack(height=22, spacing=4)
    with stack:
        ui.Label(label, width=LABEL_WIDTH)
    return stack


#: rows of the Runs list (the newest runs of the task; older ones are reached from the log folder)
RUN_ROWS = 6


class RunsFrame:
    """The "Runs" and "Evaluate" frames: a list of the task's newest runs, the selected run's actions, and
    what Evaluate plays (its checkpoint and each evaluated checkpoint's return); its value rows and buttons
    (``widgets``, by ``ui/fields.py``'s ``RUN_FIELDS`` keys) are drawn by the window."""

    def __init__(self, vm: PanelViewModel, window: TrainerWindow) -> None:
        self._vm = vm
        self._window = window
        self._rows: tuple[str, ...] = ()
        self.widgets: dict[str, Any] = {}
        with ui.CollapsableFrame(title="Runs", collapsed=False, height=0):
            with ui.VStack(spacing=4, height=0):
                self.row_labels, self.row_buttons = [], []
                for i in range(RUN_ROWS):
                    with ui.HStack(height=22, spacing=4):
                        self.row_labels.append(ui.Label("", word_wrap=True))
                        self.row_buttons.append(ui.Button("Select", width=60, clicked_fn=lambda i=i: self._select(i)))
                self._value_rows(RUN_VALUE_ROWS)
                with _row("Checkpoint"):
                    self.which_combo = ui.ComboBox(0, *CHECKPOINT_CHOICES)
                with ui.HStack(height=26, spacing=4):
                    self.play_btn = ui.Button("Play", clicked_fn=lambda: vm.on_run_play(self._which()))
                    self.resume_btn = ui.Button(
                        "Resume", clicked_fn=lambda: vm.on_run_resume(window.total_model.get_value_as_string())
                    )
                    self.export_btn = ui.Button("Export", clicked_fn=lambda: vm.on_run_export(self._which()))
                    self.evaluate_btn = ui.Button("Evaluate", clicked_fn=vm.on_run_evaluate)
                    self.tensorboard_btn = ui.Button("TensorBoard", clicked_fn=vm.on_run_tensorboard)
        with ui.CollapsableFrame(title="Evaluate", collapsed=False, height=0):
            with ui.VStack(spacing=4, height=0):
                self._value_rows(EVALUATE_VALUE_ROWS)
                with _row("Play return"):
                    self.plot = ui.Plot(ui.Type.LINE, 0.0, 1.0, 0.0, value_stride=1, height=60)
                with _row("Training return"):
                    self.train_plot = ui.Plot(ui.Type.LINE, 0.0, 1.0, 0.0, value_stride=1, height=60)
        self.widgets.update({key: getattr(self, f"{key}_btn") for key in RUN_BUTTONS})

    def _value_rows(self, fields: tuple[Any, ...]) -> None:
        for field in fields:
            with _row(field.label):
                self.widgets[field.key] = ui.Label("-", word_wrap=True)

    @staticmethod
    def _plot(plot: Any, curve: tuple[tuple[int, float], ...]) -> None:
        values = [r for _, r in curve] or [0.0]
        lo, hi = min(values), max(values)
        pad = max(0.05 * (hi - lo), 1e-3)
        plot.set_data(*values)
        plot.scale_min, plot.scale_max = lo - pad, hi + pad

    def _which(self) -> str:
        return CHECKPOINT_CHOICES[int(self.which_combo.model.get_item_value_model().as_int)]

    def _select(self, i: int) -> None:
        if i < len(self._rows):
            self._vm.on_select_run(self._rows[i])

    def apply(self, last: RunsState | None, s: RunsState) -> None:
        """Copy ``s`` into the run list and the curves (only what changed)."""
        changed = (lambda name: True) if last is None else (lambda name: getattr(last, name) != getattr(s, name))
        if changed("rows") or changed("selected"):
            self._rows = tuple(row.name for row in s.rows[:RUN_ROWS])
            for i, (label, button) in enumerate(zip(self.row_labels, self.row_buttons, strict=True)):
                row = s.rows[i] if i < len(s.rows) else None
                label.text = ("> " if i == s.selected else "") + row.label if row is not None else ""
                button.enabled = row is not None
        if changed("eval_curve"):
            self._plot(self.plot, s.eval_curve)
        if changed("train_curve"):
            self._plot(self.train_plot, s.train_curve)


class _ModelText:
    """A read-only StringField's model, set like a label's text."""

    def __init__(self, model: Any) -> None:
        self.model = model

    text = property(None, lambda self, value: self.model.set_value(value))


class TrainerWindow(StateView):
    """Owns the ``ui.Window`` and its widgets."""

    def __init__(self, vm: PanelViewModel, visible: bool = True) -> None:
        self._vm = vm
        self._syncing = False
        self.window = ui.Window(WINDOW_TITLE, width=420, height=720, visible=visible)
        # a tab beside "Property" (bottom right), like Isaac Lab's own "IsaacLab" window
        self.window.deferred_dock_in("Property", ui.DockPolicy.CURRENT_WINDOW_IS_ACTIVE)
        self._build()

    # -- construction ---------------------------------------------------------------------------

    def _build(self) -> None:
        vm = self._vm
        tasks = vm.tasks or [""]
        defaults = vm.default_build_args()
        with self.window.frame:
            with ui.ScrollingFrame(vertical_scrollbar_policy=ui.ScrollBarPolicy.SCROLLBAR_AS_NEEDED):
                with ui.VStack(spacing=6, height=0):
                    with ui.CollapsableFrame(title="Task", collapsed=False, height=0):
                        with ui.VStack(spacing=4, height=0):
                            with _row("Task"):
                                self.task_combo = ui.ComboBox(max(0, tasks.index(vm.selected_task)), *tasks)
                            with _row("Environments"):
                                self.num_envs_model = ui.IntField().model
                                self.num_envs_model.set_value(defaults.num_envs)
                            with _row("Seed"):
                                self.seed_model = ui.IntField().model
                                self.seed_model.set_value(defaults.seed)
                            with _row("Physics backend"):
                                self.backend_combo = ui.ComboBox(0, *vm.backends)
                            with _row(FIELD["overrides"].label):
                                self.overrides_model = ui.SimpleStringModel(vm.overrides_text)
                                ui.StringField(model=self.overrides_model)
                            with _row(FIELD["engine"].label):
                                self.engine_label = ui.Label("-")
                            with ui.HStack(height=26, spacing=4):
                                self.build_btn = ui.Button("Build", clicked_fn=self._on_build)
                                self.state_label = ui.Label("Idle", width=120)
                    with ui.CollapsableFrame(title="Training", collapsed=False, height=0):
                        with ui.VStack(spacing=4, height=0):
                            with _row("Total timesteps"):
                                self.total_model = ui.SimpleStringModel("")
                                ui.StringField(model=self.total_model)
                            with ui.HStack(height=26, spacing=4):
                                self.start_btn = ui.Button("Start", clicked_fn=self._on_start)
                                self.pause_btn = ui.Button("Pause", clicked_fn=vm.on_pause)
                                self.resume_btn = ui.Button("Resume", clicked_fn=vm.on_resume)
                                self.stop_btn = ui.Button("Stop", clicked_fn=vm.on_stop)
                            with ui.HStack(height=20):
                                self.progress = ui.ProgressBar()
                            with _row(FIELD["progress_text"].label):
                                self.progress_label = ui.Label("0")
                            with _row(FIELD["steps_per_second"].label):
                                self.sps_label = ui.Label("-")
                            with _row(FIELD["mean_return"].label):
                                self.return_label = ui.Label("-")
                            with _row(FIELD["episodes"].label):
                                self.episodes_label = ui.Label("0")
                            self.plot = ui.Plot(ui.Type.LINE, 0.0, 1.0, 0.0, value_stride=1, height=90)
                            with _row(FIELD["run_dir"].label):
                                self.run_label = ui.Label("-", word_wrap=True)
                    self.runs_frame = self.runs_view = RunsFrame(vm, self)
                    with ui.CollapsableFrame(title="Rendering", collapsed=False, height=0):
                        with _row("Rendering Mode"):
                            self.render_combo = ui.ComboBox(len(RENDER_MODE_LABELS) - 1, *RENDER_MODE_LABELS)
                    with ui.CollapsableFrame(title="Checkpoints", collapsed=False, height=0):
                        with ui.VStack(spacing=4, height=0):
                            with _row(FIELD["latest_checkpoint"].label):
                                self.latest_label = ui.Label("(none found)", word_wrap=True)
                                ui.Button("Use", width=50, clicked_fn=lambda: self._use(self._vm.latest_checkpoint()))
                            with _row(FIELD["best_checkpoint"].label):
                                self.best_label = ui.Label("(none found)", word_wrap=True)
                                ui.Button("Use", width=50, clicked_fn=lambda: self._use(self._vm.best_checkpoint()))
                            with _row("Checkpoint"):
                                self.path_model = ui.SimpleStringModel("")
                                ui.StringField(model=self.path_model)
                            with ui.HStack(height=26, spacing=4):
                                self.load_play_btn = ui.Button("Load & Play", clicked_fn=self._on_load_and_play)
                                self.play_stop_btn = ui.Button("Stop", clicked_fn=vm.on_stop)
                                self.export_btn = ui.Button("Export", clicked_fn=self._on_export)
                    with ui.CollapsableFrame(title="Logs", collapsed=False, height=0):
                        with ui.VStack(spacing=4, height=0):
                            self.tb_model = ui.SimpleStringModel("")
                            ui.StringField(model=self.tb_model, read_only=True)
                            with ui.HStack(height=26, spacing=4):
                                ui.Button("Start TensorBoard", clicked_fn=vm.on_start_tensorboard)
                                self.tb_url_label = ui.Label("")
                    self.status_label = ui.Label("", word_wrap=True, style={"color": INFO_COLOR})

        self.widgets = {
            **{key: getattr(self, f"{key}_btn") for key in BUTTONS},
            "task_inputs": (self.task_combo, self.backend_combo),
            "overrides": _ModelText(self.overrides_model),
            "state": self.state_label,
            "engine": self.engine_label,
            "progress_text": self.progress_label,
            "steps_per_second": self.sps_label,
            "mean_return": self.return_label,
            "episodes": self.episodes_label,
            "run_dir": self.run_label,
            "latest_checkpoint": self.latest_label,
            "best_checkpoint": self.best_label,
            "tensorboard_command": _ModelText(self.tb_model),
            "tensorboard_url": self.tb_url_label,
            "status": self.status_label,
            "progress": self.progress,
            "plot": self.plot,
            "render_mode": self.render_combo,
        }
        self.task_combo.model.add_item_changed_fn(self._on_task_changed)
        self.render_combo.model.add_item_changed_fn(self._on_render_changed)

    # -- forwarding -----------------------------------------------------------------------------

    @staticmethod
    def _combo_index(combo: Any) -> int:
        return int(combo.model.get_item_value_model().as_int)

    def _on_task_changed(self, _model: Any, _item: Any) -> None:
        if not self._syncing:
            self._vm.on_task_changed(self._vm.tasks[self._combo_index(self.task_combo)])

    def _on_render_changed(self, _model: Any, _item: Any) -> None:
        if not self._syncing:
            self._vm.on_render_mode(self._combo_index(self.render_combo))

    def _on_build(self) -> None:
        task = self._vm.tasks[self._combo_index(self.task_combo)] if self._vm.tasks else ""
        backend = self._vm.backends[self._combo_index(self.backend_combo)]
        num_envs, seed = self.num_envs_model.get_value_as_int(), self.seed_model.get_value_as_int()
        if self._vm.on_build(task, num_envs, seed, backend, overrides=self.overrides_model.get_value_as_string()):
            default = self._vm.default_total_timesteps()
            if default is not None:
                self.total_model.set_value(f"{default:,}")

    def _on_start(self) -> None:
        self._vm.on_start(self.total_model.get_value_as_string())

    def _use(self, found: str | None) -> None:
        """Put a checkpoint the view-model picked into the Checkpoint field."""
        if found:
            self.path_model.set_value(found)

    def _on_load_and_play(self) -> None:
        self._vm.on_load_and_play(self.path_model.get_value_as_string())

    def _on_export(self) -> None:
        self._vm.on_export(self.path_model.get_value_as_string())

    # -- drawing: ui/fields.py says which widget shows which PanelState field -------------------

    def set(self, role: Role, widget: Any, *values: Any) -> None:
        if role is Role.ENABLED:
            widget.enabled = values[0]
        elif role is Role.TEXT:
            widget.text = values[0]
        elif role is Role.STATUS:
            widget.text = values[0]
            widget.style = {"color": ERROR_COLOR if values[1] else INFO_COLOR}
        elif role is Role.PROGRESS:
            widget.model.set_value(values[0])
        elif role is Role.PLOT:
            plot_values, lo, hi = values
            widget.set_data(*(plot_values or (0.0,)))
            widget.scale_min, widget.scale_max = lo, hi
        elif role is Role.CHOICE and self._combo_index(widget) != values[0]:
            self._syncing = True
            try:
                widget.model.get_item_value_model().set_value(values[0])
            finally:
                self._syncing = False

    # -- lifetime -------------------------------------------------------------------------------

    @property
    def visible(self) -> bool:
        return bool(self.window.visible)

    @visible.setter
    def visible(self, value: bool) -> None:
        self.window.visible = value

    def destroy(self) -> None:
        self.window.destroy()
