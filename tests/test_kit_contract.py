"""Kit-contract check: the Kit shell calls only what the API table (``docs/kit_api.toml``) says exists.

Every Kit-only module (``isaaclab_trainer/kit/*``, its Kit tests included) is loaded with the omni / carb /
isaacsim modules it imports replaced by strict recording doubles generated from the API table, once as
Isaac Sim 5.1 and once as Isaac Sim 6.x. The extension is then driven as a user would: startup -> window
build -> Build (PhysX; on 6.x, where Newton is the active engine, also Newton) -> training over a few app
frames -> rendering-mode switch -> shutdown. A double accepts only the member names and keyword arguments
the table lists for that version, so this proves that the shell calls only what the table says exists, with
the argument names the sources show, and that disabling the extension releases every subscription, menu
item, window and thread it created. A static pass checks every omni / carb / isaacsim attribute chain written
in a Kit module against the table too, so code the lifecycle does not reach is covered by names (not by
arguments). None of this proves that Kit behaves as the doubles do: the doubles
answer with scripted stand-in values (a live stage, zero joint state); only Isaac Sim itself can show
that (``kit/tests``).
"""

from __future__ import annotations

import ast
import gc
import importlib
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from kit_doubles import Double, World
from pxr import Usd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import kit_api_table  # noqa: E402

KIT_MODULES = [
    "isaaclab_trainer.kit.engines",
    "isaaclab_trainer.kit.backends",
    "isaaclab_trainer.kit.render",
    "isaaclab_trainer.kit.window",
    "isaaclab_trainer.kit.extension",
    "isaaclab_trainer.kit.app",
    "isaaclab_trainer.kit.tests",
    "isaaclab_trainer.kit.tests.test_panel",
]
REPO_ROOT = Path(__file__).resolve().parents[1]
KIT_DIR = Path("exts/isaaclab_trainer/isaaclab_trainer/kit")
KIT_ROOTS = {"omni", "carb", "isaacsim"}
#: Kit calls that return USD (pxr) objects: their members are USD's API, not Kit's
USD_VALUES = ("omni.usd.get_context().get_stage()",)
NUM_ENVS = 4
STAGE_ID = 7
DOF_NAMES = ["slider_to_cart", "cart_to_pole"]
SM = "isaacsim.core.simulation_manager.SimulationManager"
OBSERVE = "carb.eventdispatcher.get_eventdispatcher().observe_event"
TIMELINE_SUB = "omni.timeline.get_timeline_interface().get_timeline_event_stream().create_subscription_to_pop_by_type"
VIEW = "omni.physics.tensors.create_simulation_view()"
ART = f"{VIEW}.create_articulation_view()"
NEWTON_STAGE = "isaacsim.physics.newton.acquire_stage()"


def _purge_kit_modules() -> None:
    for name in [n for n in sys.modules if n == "isaaclab_trainer.kit" or n.startswith("isaaclab_trainer.kit.")]:
        del sys.modules[name]


class FakeKit:
    """The doubles of one Isaac Sim version plus the stand-in values they answer with."""

    def __init__(self, version: str, log_root: Path) -> None:
        other = "6" if version == "5.1" else "5.1"
        self.world = World(kit_api_table.spec_for(version), kit_api_table.spec_for(other))
        self.version = version
        self.stage = Usd.Stage.CreateInMemory()
        self.settings: dict[str, Any] = {
            "/app/player/playSimulations": True,
            "/exts/isaaclab_trainer/log_root": str(log_root),
        }
        self.engine = "newton" if version == "6" else "physx"  # 6.x: isaacsim.physics.newton switched at startup
        self.enabled = {"omni.physx.fabric", "isaacsim.physics.newton.tensors"}  # extensions the app enabled
        self.values: dict[int, Any] = {}  # value of each omni.ui model double
        self.changed_fns: dict[int, list] = {}
        self.joint_state: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self._script()

    def _once(self, path: str):
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

    def _joint_state(self, view: Double) -> tuple[torch.Tensor, torch.Tensor]:
        return self.joint_state.setdefault(id(view), (torch.zeros(NUM_ENVS, 2), torch.zeros(NUM_ENVS, 2)))

    def _write_rows(self, which: int):
        def write(fn: Double, data: torch.Tensor, indices: torch.Tensor) -> None:
            rows = indices.long()
            self._joint_state(fn._owner)[which][rows] = data[rows]

        return write

    def _switch(self, fn: Double, engine_name: str, **_: Any) -> bool:
        self.engine = engine_name
        return True

    def _script(self) -> None:
        call, get = self.world.on_call, self.world.on_get
        for path in (
            "carb.settings.get_settings",
            "carb.eventdispatcher.get_eventdispatcher",
            "omni.usd.get_context",
            "omni.timeline.get_timeline_interface",
            "omni.kit.viewport.utility.get_active_viewport",
            "omni.kit.app.get_app",
            "isaacsim.physics.newton.acquire_stage",
        ):
            call[path] = self._once(path)
        call["carb.settings.get_settings().get"] = lambda fn, path: self.settings.get(path)
        call["carb.settings.get_settings().set"] = lambda fn, path, value: self.settings.__setitem__(path, value)
        call["omni.usd.get_context().get_stage"] = lambda fn: self.stage
        call["omni.usd.get_context().get_stage_id"] = lambda fn: STAGE_ID
        call["omni.timeline.get_timeline_interface().is_playing"] = lambda fn: False
        ext_manager = "omni.kit.app.get_app().get_extension_manager()"
        call[f"{ext_manager}.is_extension_enabled"] = lambda fn, ext: ext in self.enabled
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
        # tensor views: zero joint state that the setters write
        get[f"{VIEW}.device"] = lambda view: "cpu"
        get[f"{VIEW}.is_valid"] = lambda view: True
        get[f"{ART}.count"] = lambda art: NUM_ENVS
        get[f"{ART}.shared_metatype.dof_names"] = lambda meta: list(DOF_NAMES)
        get[f"{ART}.shared_metatype.link_names"] = lambda meta: ["slider", "cart", "pole"]
        call[f"{ART}.get_dof_positions"] = lambda fn: self._joint_state(fn._owner)[0]
        call[f"{ART}.get_dof_velocities"] = lambda fn: self._joint_state(fn._owner)[1]
        call[f"{ART}.get_dof_max_forces"] = lambda fn: torch.full((NUM_ENVS, 2), 400.0)
        call[f"{ART}.set_dof_positions"] = self._write_rows(0)
        call[f"{ART}.set_dof_velocities"] = self._write_rows(1)
        # Isaac Sim 6.x engines
        call[f"{SM}.get_active_physics_engine"] = lambda fn: self.engine
        call[f"{SM}.get_available_physics_engines"] = lambda fn: [(e, e == self.engine) for e in ("physx", "newton")]
        call[f"{SM}.switch_physics_engine"] = self._switch

    # -- driving the extension like a user ------------------------------------------------------

    def frames(self, n: int) -> None:
        """Run ``n`` app updates: the extension's GLOBAL_EVENT_UPDATE observer."""
        ((_, kwargs),) = self.world.calls_to(OBSERVE)
        for _ in range(n):
            kwargs["on_event"](None)

    def frames_until(self, predicate: Any, timeout_s: float = 120.0) -> bool:
        """App updates at most every 2 ms until ``predicate()`` holds (the learner thread needs wall time)."""
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                return False
            self.frames(1)
            time.sleep(0.002)
        return True

    def click(self, text: str) -> None:
        """Press the panel's button labelled ``text`` (its ``clicked_fn``)."""
        (kwargs,) = [kw for args, kw in self.world.calls_to("omni.ui.Button") if args and args[0] == text][-1:]
        kwargs["clicked_fn"]()

    def choose(self, combo: Double, index: int) -> None:
        combo.model.get_item_value_model().set_value(index)


@pytest.fixture(params=["5.1", "6"], ids=["isaacsim-5.1", "isaacsim-6.x"])
def kit(request, tmp_path, monkeypatch) -> Iterator[FakeKit]:
    from isaaclab_trainer.sim.backends import registry

    fake = FakeKit(request.param, tmp_path)
    for name, module in fake.world.modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    # the Kit shell registers Isaac Sim's engines; undone afterwards
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))
    monkeypatch.setattr(registry, "_AUTO_CHOICE", list(registry._AUTO_CHOICE))
    _purge_kit_modules()
    yield fake
    _purge_kit_modules()


def test_every_call_the_table_implies_is_listed():
    """``a.b().c`` needs ``a.b(...)`` as a row of its own, so that its arguments are documented too."""
    table = kit_api_table.load_table()
    explicit = {kit_api_table.parse_call(c)[0] for row in table["api"] for c in row["calls"]}
    for version in kit_api_table.VERSIONS:
        spec = kit_api_table.spec_for(version, table)
        assert set(spec.calls) <= explicit, sorted(set(spec.calls) - explicit)


def test_docs_table_is_generated_from_the_data_file():
    readme = kit_api_table.README.read_text(encoding="utf-8")
    assert kit_api_table.updated_readme(readme) == readme, "run: python scripts/kit_api_table.py"
    table = kit_api_table.load_table()
    for row in table["api"]:
        assert row["is51"].strip() and row["is6"].strip(), row["calls"]
    for row in table.get("manifest", []):  # extension.toml keys
        assert row["key"].strip() and row["is51"].strip() and row["is6"].strip(), row


def test_engines_offered(kit: FakeKit):
    """5.1: PhysX only. 6.x: Newton too, but only with the tensor extension its views need."""
    engines = importlib.import_module("isaaclab_trainer.kit.engines")
    assert engines.active_engine() == kit.engine
    assert engines.available_engines() == (["physx", "newton"] if kit.version == "6" else ["physx"])
    kit.enabled.discard("isaacsim.physics.newton.tensors")
    assert engines.available_engines() == ["physx"]
    with pytest.raises(RuntimeError, match="physics engine 'newton' is not in this Isaac Sim"):
        engines.use_engine("newton")
    assert kit.world.violations == []


def test_extension_lifecycle_calls_only_the_table(kit: FakeKit):
    world = kit.world
    threads_before = set(threading.enumerate())
    for name in KIT_MODULES:  # every Kit-only module loads against the doubles
        importlib.import_module(name)
    ext_mod = sys.modules["isaaclab_trainer.kit.extension"]

    # startup: menu, window, update observer
    ext = ext_mod.IsaacLabTrainerExtension()
    ext.on_startup("isaaclab_trainer-0.1.0")
    assert [args[0] for args, _ in world.calls_to("omni.ui.Window")] == ["Isaac Lab"]
    assert len(world.calls_to("omni.kit.menu.utils.add_menu_items")) == 1
    assert len(world.calls_to(OBSERVE)) == 1
    vm, win = ext.view_model, ext.window
    engines_offered = ["physx", "newton"] if kit.version == "6" else ["physx"]
    assert vm.backends == ("auto", *engines_offered)
    backend_combos = [args[1:] for args, _ in world.calls_to("omni.ui.ComboBox") if "auto" in args]
    assert backend_combos == [("auto", *engines_offered)]
    kit.frames(2)
    assert win.engine_label.text == ("Newton" if kit.version == "6" else "PhysX")  # the active engine is shown

    # Window > Isaac Lab toggles the window; its tick follows the window's visibility
    ((_, menu),) = world.calls_to("omni.kit.menu.utils.MenuItemDescription")
    ((visibility_changed,), _) = world.calls_to("omni.ui.Window().set_visibility_changed_fn")[0]
    menu["onclick_fn"]()
    visibility_changed(False)
    assert menu["ticked_fn"]() is False
    menu["onclick_fn"]()
    assert menu["ticked_fn"]() is True
    assert world.calls_to("omni.kit.menu.utils.refresh_menu_items") == [(("Window",), {})]

    # Build with PhysX: on 6.x the engine is switched explicitly
    win.num_envs_model.set_value(NUM_ENVS)
    kit.choose(win.backend_combo, vm.backends.index("physx"))
    kit.click("Build")
    assert vm.session is not None and vm.session.status.state.value == "BUILT", vm.refresh().status_line
    assert kit.engine == "physx"
    assert world.calls_to(f"{SM}.switch_physics_engine") == ([(("physx",), {})] if kit.version == "6" else [])
    assert world.calls_to("omni.physics.tensors.create_simulation_view") == [(("torch",), {"stage_id": STAGE_ID})]
    assert world.calls_to("omni.physx.get_physx_interface().update_simulation") == [((1 / 120, 0.0), {})]
    assert kit.settings["/app/player/playSimulations"] is False  # the trainer owns stepping

    # train over app frames, then switch rendering off and on
    win.total_model.set_value("128")
    kit.click("Start")
    assert kit.frames_until(lambda: vm.session.status.state.value == "DONE"), vm.session.status
    assert len(world.calls_to("omni.physx.get_physx_simulation_interface().simulate")) >= 2 * 128 // NUM_ENVS
    assert world.calls_to("omni.physxfabric.get_physx_fabric_interface().update")  # viewport fed while training
    viewport = world.on_call["omni.kit.viewport.utility.get_active_viewport"](None)
    kit.choose(win.render_combo, 0)  # "No rendering"
    kit.frames(1)
    assert viewport.updates_enabled is False
    kit.choose(win.render_combo, 2)  # "Full rendering"
    kit.frames(1)
    assert viewport.updates_enabled is True
    # pressing Stop on the timeline invalidates the tensor views: the backend says so and refuses to step
    (_, on_timeline_event), _ = world.calls_to(TIMELINE_SUB)[-1]
    on_timeline_event(None)
    assert world.calls_to("carb.log_warn")[-1][0][0].endswith("physx views are now invalid; Build again")
    assert world.violations == []  # also those the update loop's `except` would have swallowed

    if kit.version == "6":  # Build again on Isaac Sim's Newton engine
        kit.choose(win.backend_combo, vm.backends.index("newton"))
        kit.click("Build")
        assert vm.session.status.state.value == "BUILT", vm.refresh().status_line
        assert kit.engine == "newton"
        newton = world.on_call["isaacsim.physics.newton.acquire_stage"](None)
        assert world.calls_to(f"{NEWTON_STAGE}.initialize_newton") == [(("cpu",), {})]
        assert world.calls_to("omni.physics.tensors.create_simulation_view")[-1] == (
            ("torch",),
            {"stage_id": STAGE_ID, "backend": "newton"},
        )
        assert newton.playing is True
        win.total_model.set_value("64")
        kit.click("Start")
        newton_sim = "omni.physics.core.get_physics_simulation_interface().simulate"
        assert kit.frames_until(lambda: len(world.calls_to(newton_sim)) >= 8), vm.refresh().status_line
        assert world.calls_to(f"{NEWTON_STAGE}.update_fabric")

    # disable: nothing left behind
    ext.on_shutdown()
    ext = vm = win = None  # drop the test's references before checking what the shell left alive
    gc.collect()
    assert world.alive(f"{OBSERVE}()") == [], "app update observer still referenced"
    assert world.alive(f"{TIMELINE_SUB}()") == [], "timeline subscription still referenced"
    added = [id(args[0]) for args, _ in world.calls_to("omni.kit.menu.utils.add_menu_items")]
    removed = [id(args[0]) for args, _ in world.calls_to("omni.kit.menu.utils.remove_menu_items")]
    assert added == removed
    assert len(world.calls_to("omni.ui.Window().destroy")) == len(world.calls_to("omni.ui.Window"))
    assert world.calls_to("omni.ui.Workspace.set_show_window_fn")[-1][0] == ("Isaac Lab", None)
    assert kit.settings["/app/player/playSimulations"] is True
    assert viewport.updates_enabled is True
    if kit.version == "6":
        assert newton.playing is False
    deadline = time.monotonic() + 10
    while set(threading.enumerate()) - threads_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(threading.enumerate()) - threads_before == set()
    assert world.violations == []


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """``omni.usd.get_context().get_stage`` for the AST of that expression, when it starts at a Kit import."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, aliases)
        return None if base is None else f"{base}.{node.attr}"
    if isinstance(node, ast.Call):
        base = _dotted(node.func, aliases)
        return None if base is None else f"{base}()"
    return None


@pytest.mark.parametrize("path", sorted((REPO_ROOT / KIT_DIR).rglob("*.py")), ids=lambda p: p.name)
def test_every_kit_name_in_the_source_is_in_the_table(path: Path):
    """Static complement of the lifecycle test: every ``omni`` / ``carb`` / ``isaacsim`` attribute chain written
    in a Kit module (also on paths the lifecycle does not reach) is a member the table lists for some version."""
    specs = [kit_api_table.spec_for(v) for v in kit_api_table.VERSIONS]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in KIT_ROOTS:
                    aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in KIT_ROOTS:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    unknown = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            full = _dotted(node, aliases)
            if full is None:
                continue
            parent, _, name = full.rpartition(".")
            if parent.startswith(USD_VALUES):
                continue
            if not any(name in spec.members.get(parent, set()) for spec in specs):
                unknown.add(full)
    assert not unknown, f"not in docs/kit_api.toml: {sorted(unknown)}"
