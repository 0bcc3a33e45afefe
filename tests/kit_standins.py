"""Stand-ins for the Kit SDK extensions the package index cannot give, generated from ``docs/kit_api.toml``.

Real Kit 110.4 (``omniverse-kit`` on the package index) brings the kernel: the extension manager, the update
loop, ``carb.settings``, ``carb.eventdispatcher``, ``omni.ext``. It does not bring ``omni.ui``, ``omni.usd``,
``omni.timeline``, ``omni.kit.menu.utils``, ``omni.kit.viewport.utility``, ``omni.physx``,
``omni.physics.tensors``, ``isaacsim.core.simulation_manager`` nor ``omni.kit.pipapi``. For each of those,
:func:`write_standin_extensions` writes an extension folder of the same name (its ``extension.toml`` says
STAND-IN in its title and description) whose Python module is the strict double of ``kit_doubles`` for that
module: it answers only the names and keyword arguments the API table lists (anything else raises
``KitContractError``), records every call, and behaves as scripted by :class:`StandInKit`:

* ``omni.ui``: value models keep their values, a ComboBox's ``set_value`` calls its item-changed functions,
  a button is clicked by calling its ``clicked_fn`` (:meth:`StandInKit.click`). Nothing is drawn.
* ``omni.usd``: the context's stage is a usd-core in-memory stage.
* ``omni.timeline``: stopped; subscriptions are recorded (released when dropped).
* ``omni.physx`` / ``omni.physics.tensors``: articulation views over this project's Newton backend
  (``isaaclab_trainer.sim.backends.newton_backend``) built from the stage's envs; ``simulate(dt, t)`` steps
  it by the step of PhysX's warm start (``update_simulation(dt, 0)``). No PhysX runs.
* ``isaacsim.core.simulation_manager``: ``SimulationManager`` reports the engines given to :class:`StandInKit`.
* ``omni.kit.pipapi``: no module; it appends the folder the harness installed ``[python.pipapi]`` into to
  ``sys.path`` when it is enabled (real pipapi installs there itself), so only the extensions that depend on
  it can import those packages, as in Kit.

The same :class:`StandInKit` drives the contract check (``tests/test_kit_contract.py``, all modules doubled,
Isaac Sim 5.1 and 6.x) and the real-Kit run (``tests/kit_harness.py``, only the modules above doubled, 6.x),
so both answer alike. They are stand-ins: they say nothing about how NVIDIA's extensions behave.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from kit_doubles import Double, World

#: extension -> the Python modules it provides (as the API table names them), for those Kit cannot load here
STANDIN_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "omni.kit.uiapp": ("omni.ui",),
    "omni.usd": ("omni.usd",),
    "omni.timeline": ("omni.timeline",),
    "omni.kit.menu.utils": ("omni.kit.menu.utils",),
    "omni.kit.viewport.utility": ("omni.kit.viewport.utility",),
    "omni.physx": ("omni.physx",),
    "omni.physics.tensors": ("omni.physics.tensors",),
    "isaacsim.core.simulation_manager": ("isaacsim.core.simulation_manager",),
    "omni.kit.pipapi": (),
}
#: the extension that holds the shared :class:`StandInKit` of one Kit process (every stand-in depends on it)
RUNTIME_EXTENSION = "isaaclab_trainer_standins"
#: the carb setting that names the folder pipapi's stand-in puts on sys.path
PIPAPI_TARGET_SETTING = "/exts/omni.kit.pipapi/standin/target"
#: the carb setting that names the folder of engine packages Isaac Sim ships (pxr, warp, newton)
ENGINES_SETTING = "/exts/isaaclab_trainer_standins/engines_path"

VIEW = "omni.physics.tensors.create_simulation_view()"
ART = f"{VIEW}.create_articulation_view()"
SM = "isaacsim.core.simulation_manager.SimulationManager"
PHYSX = "omni.physx.get_physx_interface()"
PHYSX_SIM = "omni.physx.get_physx_simulation_interface()"
OBSERVE = "carb.eventdispatcher.get_eventdispatcher().observe_event"
TIMELINE_SUB = "omni.timeline.get_timeline_interface().get_timeline_event_stream().create_subscription_to_pop_by_type"
STAGE_ID = 7
TIME_STEPS_ATTR = "physxScene:timeStepsPerSecond"
DEFAULT_STEPS_PER_SECOND = 60  # PhysxSchema's default of timeStepsPerSecond


class NewtonArticulations:
    """What a stand-in articulation view reads and writes: this project's Newton backend over the stage's envs."""

    def __init__(self, stage: Any, pattern: str, view_id: int, physics_dt: float | None) -> None:
        from isaaclab_trainer.sim.backends.newton_backend import NewtonBackend

        paths = [str(p.GetPath()) for p in stage.Traverse() if fnmatch.fnmatchcase(str(p.GetPath()), pattern)]
        if not paths:
            raise RuntimeError(f"stand-in omni.physics.tensors: no prim matches {pattern!r}")
        if physics_dt is None:  # no warm-start step: the scene's rate, PhysX's default where none is authored
            scene = next((p for p in stage.Traverse() if p.GetTypeName() == "PhysicsScene"), None)
            attr = scene.GetAttribute(TIME_STEPS_ATTR) if scene is not None else None
            physics_dt = 1.0 / float(attr.Get() if attr and attr.HasAuthoredValue() else DEFAULT_STEPS_PER_SECOND)
        self.physics_dt = physics_dt
        self.backend = NewtonBackend(stage, num_envs=len(paths), physics_dt=self.physics_dt, env_root=paths[0])
        self.count = len(paths)
        self.view_id = view_id  # the simulation view that created it

    def set_rows(self, which: int, data: torch.Tensor, indices: torch.Tensor) -> None:
        rows = indices.long()
        pos = self.backend.joint_pos()[rows].clone()
        vel = self.backend.joint_vel()[rows].clone()
        (pos, vel)[which].copy_(data[rows])
        self.backend.write_joint_state(rows, pos, vel)


class StandInKit:
    """The scripted answers of the stand-ins (one Isaac Sim version, one process).

    ``world`` is the ``kit_doubles.World`` whose modules are the stand-ins; ``engine`` the engine that
    ``SimulationManager`` reports active and ``engines`` those it reports registered.
    """

    def __init__(self, world: World, engine: str = "physx", engines: tuple[str, ...] = ("physx",)) -> None:
        from pxr import Usd

        self.world = world
        self.engine = engine
        self.engines = engines
        self.stage = Usd.Stage.CreateInMemory()
        self.values: dict[int, Any] = {}  # value of each omni.ui model double
        self.changed_fns: dict[int, list] = {}
        self.articulations: dict[int, NewtonArticulations] = {}  # id(articulation view double) -> Newton
        self.physics_dt: float | None = None  # the step of PhysX's warm start (update_simulation)
        self.simulate_s = 0.0  # wall seconds of Newton's solver steps behind simulate()
        self._script()

    # -- helpers of the scripts ------------------------------------------------------------------------

    def once(self, path: str) -> Callable[..., Double]:
        """A call at ``path`` that gives the same object every time (``get_context()``, ``get_app()`` ...)."""
        made: dict[str, Double] = {}
        return lambda fn, *a, **k: made.setdefault(path, Double(self.world, f"{path}()", owner=fn))

    def _model(self, fn: Double, value: Any = None) -> Double:
        model = Double(self.world, f"{fn._path}()", owner=fn)
        self.values[id(model)] = value
        return model

    def _combo(self, fn: Double, index: int, *items: str) -> Double:
        combo = Double(self.world, "omni.ui.ComboBox()", owner=fn)
        self.values[id(combo._child("model")._child("get_item_value_model()"))] = index
        return combo

    def _add_changed_fn(self, fn: Double, callback: Any) -> None:
        self.changed_fns.setdefault(id(fn._owner), []).append(callback)

    def _set_combo_value(self, fn: Double, value: int) -> None:
        value_model = fn._owner
        self.values[id(value_model)] = value
        model = value_model._owner
        for callback in self.changed_fns.get(id(model), []):
            callback(model, None)

    def _articulation_view(self, fn: Double, pattern: str) -> Double:
        view = Double(self.world, ART, owner=fn)
        self.articulations[id(view)] = NewtonArticulations(
            self.stage, pattern, view_id=id(fn._owner), physics_dt=self.physics_dt
        )
        return view

    def _art(self, fn: Double) -> NewtonArticulations:
        return self.articulations[id(fn._owner)]

    def _simulate(self, fn: Double, elapsed_time: float, current_time: float) -> None:
        started = time.perf_counter()
        for art in list(self.articulations.values()):
            if abs(elapsed_time - art.physics_dt) > 1e-9:
                raise RuntimeError(f"stand-in omni.physx: simulate({elapsed_time}), the views step {art.physics_dt}")
            art.backend.step()
        self.simulate_s += time.perf_counter() - started

    def _warm_start(self, fn: Double, elapsed_step: float, current_time: float) -> None:
        self.physics_dt = float(elapsed_step)

    def _invalidate(self, fn: Double) -> None:
        """The simulation view's articulation views stop stepping and are released."""
        for art_id in [i for i, a in self.articulations.items() if a.view_id == id(fn._owner)]:
            self.articulations.pop(art_id).backend.close()

    def _new_stage(self, fn: Double) -> bool:
        from pxr import Usd

        self.stage = Usd.Stage.CreateInMemory()
        return True

    def _script(self) -> None:
        call, get = self.world.on_call, self.world.on_get
        for path in (
            "omni.usd.get_context",
            "omni.timeline.get_timeline_interface",
            "omni.kit.viewport.utility.get_active_viewport",
            "omni.physx.get_physx_interface",
            "omni.physx.get_physx_simulation_interface",
        ):
            call[path] = self.once(path)
        # omni.usd: a usd-core stage
        call["omni.usd.get_context().get_stage"] = lambda fn: self.stage
        call["omni.usd.get_context().get_stage_id"] = lambda fn: STAGE_ID
        call["omni.usd.get_context().new_stage"] = self._new_stage
        # omni.timeline: stopped
        call["omni.timeline.get_timeline_interface().is_playing"] = lambda fn: False
        # omni.ui value models
        call["omni.ui.SimpleStringModel"] = self._model
        for model in ("omni.ui.SimpleStringModel()", "omni.ui.IntField().model"):
            call[f"{model}.set_value"] = lambda fn, value: self.values.__setitem__(id(fn._owner), value)
        call["omni.ui.IntField().model.get_value_as_int"] = lambda fn: int(self.values[id(fn._owner)])
        call["omni.ui.SimpleStringModel().get_value_as_string"] = lambda fn: str(self.values[id(fn._owner)])
        call["omni.ui.ComboBox"] = self._combo
        combo_model = "omni.ui.ComboBox().model"
        call[f"{combo_model}.get_item_value_model"] = lambda fn: fn._owner._child("get_item_value_model()")
        call[f"{combo_model}.add_item_changed_fn"] = self._add_changed_fn
        get[f"{combo_model}.get_item_value_model().as_int"] = lambda vm: self.values[id(vm)]
        call[f"{combo_model}.get_item_value_model().set_value"] = self._set_combo_value
        # omni.physx + omni.physics.tensors: Newton over the stage's envs
        call[f"{PHYSX}.update_simulation"] = self._warm_start
        call[f"{PHYSX_SIM}.simulate"] = self._simulate
        call["omni.physics.tensors.create_simulation_view().create_articulation_view"] = self._articulation_view
        call[f"{VIEW}.invalidate"] = self._invalidate
        get[f"{VIEW}.device"] = lambda view: "cpu"
        get[f"{VIEW}.is_valid"] = lambda view: True
        get[f"{ART}.count"] = lambda art: self.articulations[id(art)].count
        get[f"{ART}.shared_metatype.dof_names"] = lambda meta: list(
            self.articulations[id(meta._owner)].backend.joint_names
        )
        get[f"{ART}.shared_metatype.link_names"] = lambda meta: list(
            self.articulations[id(meta._owner)].backend.body_names
        )
        call[f"{ART}.get_dof_positions"] = lambda fn: self._art(fn).backend.joint_pos().clone()
        call[f"{ART}.get_dof_velocities"] = lambda fn: self._art(fn).backend.joint_vel().clone()
        call[f"{ART}.get_dof_max_forces"] = lambda fn: (
            self._art(fn).backend.effort_limit.expand(self._art(fn).count, -1).clone()
        )
        call[f"{ART}.set_dof_positions"] = lambda fn, data, indices: self._art(fn).set_rows(0, data, indices)
        call[f"{ART}.set_dof_velocities"] = lambda fn, data, indices: self._art(fn).set_rows(1, data, indices)
        call[f"{ART}.set_dof_actuation_forces"] = lambda fn, data, indices: self._art(fn).backend.set_joint_efforts(
            data
        )
        # Isaac Sim 6.x engines
        call[f"{SM}.get_active_physics_engine"] = lambda fn: self.engine
        call[f"{SM}.get_available_physics_engines"] = lambda fn: [(e, e == self.engine) for e in self.engines]
        call[f"{SM}.switch_physics_engine"] = self._switch

    def _switch(self, fn: Double, engine_name: str, **_: Any) -> bool:
        self.engine = engine_name
        return True

    # -- driving the panel like a user -------------------------------------------------------------------

    def _buttons(self) -> list[tuple[str, dict[str, Any]]]:
        """(label, keyword arguments) of the buttons of the newest window, in the order they were made."""
        log = self.world.log
        start = max((i for i, (path, _, _) in enumerate(log) if path == "omni.ui.Window"), default=0)
        return [(args[0] if args else "", kw) for path, args, kw in log[start:] if path == "omni.ui.Button"]

    def click(self, text: str, nth: int | None = None) -> None:
        """Press the newest window's button labelled ``text`` (its ``clicked_fn``); ``nth`` picks one of several
        with that label, in the order they were made (without it, several are a ``LookupError``)."""
        matches = [kw for label, kw in self._buttons() if label == text]
        if not matches or (nth is None and len(matches) > 1):
            raise LookupError(f"{len(matches)} omni.ui.Button({text!r}) in the newest window; pass nth= for one")
        matches[nth or 0]["clicked_fn"]()

    def choose(self, combo: Double, index: int) -> None:
        """Pick item ``index`` of an omni.ui ComboBox, as a user does."""
        combo.model.get_item_value_model().set_value(index)

    def viewport(self) -> Double:
        return self.world.on_call["omni.kit.viewport.utility.get_active_viewport"](None)


# -- the stand-in extensions, generated ----------------------------------------------------------------------

_EXT_TOML = """\
# GENERATED by tests/kit_standins.py from docs/kit_api.toml: a STAND-IN, not NVIDIA's {name}.
[package]
version = "0.0.0"
title = "{name} (STAND-IN for a test run)"
description = "STAND-IN for NVIDIA's {name}, which the package index does not hold: {what}"
category = "Stand-in"

[dependencies]
{deps}
{modules}
"""

_MODULE = '''\
"""STAND-IN for NVIDIA's {module} (generated by tests/kit_standins.py): the strict double of the API table."""

import sys

from {runtime} import standin_module

sys.modules[__name__] = standin_module(__name__)
'''

_RUNTIME = '''\
"""STAND-IN runtime (generated by tests/kit_standins.py): the one StandInKit of this Kit process."""

import sys

import carb.settings

for _path in {paths!r} + [carb.settings.get_settings().get({engines_setting!r})]:
    if _path and _path not in sys.path:
        sys.path.append(_path)

import kit_doubles  # noqa: E402  (puts scripts/ on sys.path)
import kit_api_table  # noqa: E402
import kit_standins  # noqa: E402

WORLD = kit_doubles.World(kit_api_table.spec_for("6"), kit_api_table.spec_for("5.1"))
KIT = kit_standins.StandInKit(WORLD, **{standin_kwargs!r})


def standin_module(name):
    return WORLD.modules[name]
'''

_PIPAPI = '''\
"""STAND-IN for NVIDIA's omni.kit.pipapi (generated by tests/kit_standins.py): puts the folder that the harness
installed every [python.pipapi] requirement into (``pip install <entry> -t <folder>``, as pipapi does) on sys.path."""

import sys

import carb.settings

_target = carb.settings.get_settings().get({setting!r})
if _target and _target not in sys.path:
    sys.path.append(_target)
'''


def _what(name: str, modules: tuple[str, ...]) -> str:
    if name == "omni.kit.pipapi":
        return "puts the folder the test harness installed [python.pipapi] into on sys.path"
    return f"module {', '.join(modules)} is the strict recording double generated from docs/kit_api.toml"


def write_standin_extensions(folder: Path, standin_kwargs: dict[str, Any] | None = None) -> list[str]:
    """Write one stand-in extension per :data:`STANDIN_EXTENSIONS` entry (plus the runtime they share) into
    ``folder``; returns the extension names. ``standin_kwargs`` go to :class:`StandInKit`."""
    folder.mkdir(parents=True, exist_ok=True)
    tests_dir = str(Path(__file__).resolve().parent)
    runtime = folder / RUNTIME_EXTENSION
    (runtime / "config").mkdir(parents=True, exist_ok=True)
    (runtime / "config" / "extension.toml").write_text(
        _EXT_TOML.format(
            name=RUNTIME_EXTENSION,
            what="the shared scripted behaviour (tests/kit_standins.py StandInKit) of the stand-ins",
            deps="",
            modules=f'[[python.module]]\nname = "{RUNTIME_EXTENSION}"\n',
        ),
        encoding="utf-8",
    )
    (runtime / RUNTIME_EXTENSION).mkdir(exist_ok=True)
    (runtime / RUNTIME_EXTENSION / "__init__.py").write_text(
        _RUNTIME.format(paths=[tests_dir], engines_setting=ENGINES_SETTING, standin_kwargs=dict(standin_kwargs or {})),
        encoding="utf-8",
    )
    for name, modules in STANDIN_EXTENSIONS.items():
        ext = folder / name
        (ext / "config").mkdir(parents=True, exist_ok=True)
        if name == "omni.kit.pipapi":
            module_names, deps = ["omni.kit.pipapi"], ""
            (ext / "omni" / "kit" / "pipapi").mkdir(parents=True, exist_ok=True)
            (ext / "omni" / "kit" / "pipapi" / "__init__.py").write_text(
                _PIPAPI.format(setting=PIPAPI_TARGET_SETTING), encoding="utf-8"
            )
        else:
            module_names, deps = list(modules), f'"{RUNTIME_EXTENSION}" = {{}}'
            for module in modules:
                package = ext.joinpath(*module.split("."))
                package.mkdir(parents=True, exist_ok=True)
                (package / "__init__.py").write_text(
                    _MODULE.format(module=module, runtime=RUNTIME_EXTENSION), encoding="utf-8"
                )
        (ext / "config" / "extension.toml").write_text(
            _EXT_TOML.format(
                name=name,
                what=_what(name, modules),
                deps=deps,
                modules="".join(f'[[python.module]]\nname = "{m}"\n' for m in module_names),
            ),
            encoding="utf-8",
        )
    return [RUNTIME_EXTENSION, *STANDIN_EXTENSIONS]
