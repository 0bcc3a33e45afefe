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
arguments). None of this proves that Kit behaves as the doubles do: the doubles answer as the stand-ins of
``tests/kit_standins.py`` script them (a usd-core stage, Newton behind the tensor views), the same scripts the
real-Kit run (``tests/test_kit_real.py``) uses; only Isaac Sim itself can show that (``kit/tests``).
"""

from __future__ import annotations

import ast
import gc
import http.client
import importlib
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from browser_page import browser, choose, click, field, open_page, state, type_in, wait_until
from kit_doubles import Double, World
from kit_standins import STAGE_ID, STANDIN_EXTENSIONS, StandInKit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import kit_api_table  # noqa: E402

__all__ = ["browser"]  # the Chromium fixture
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
SM = "isaacsim.core.simulation_manager.SimulationManager"
OBSERVE = "carb.eventdispatcher.get_eventdispatcher().observe_event"
TIMELINE_SUB = "omni.timeline.get_timeline_interface().get_timeline_event_stream().create_subscription_to_pop_by_type"
NEWTON_STAGE = "isaacsim.physics.newton.acquire_stage()"


def _purge_kit_modules() -> None:
    for name in [n for n in sys.modules if n == "isaaclab_trainer.kit" or n.startswith("isaaclab_trainer.kit.")]:
        del sys.modules[name]


class FakeKit:
    """The doubles of one Isaac Sim version: the stand-ins' scripted answers (``kit_standins.StandInKit``, shared
    with the real-Kit run) plus the kernel's (carb settings, the app, the event dispatcher), which real Kit has."""

    def __init__(self, version: str, log_root: Path) -> None:
        other = "6" if version == "5.1" else "5.1"
        self.world = World(kit_api_table.spec_for(version), kit_api_table.spec_for(other))
        self.version = version
        # 6.x: isaacsim.physics.newton switched to Newton at startup
        engine = "newton" if version == "6" else "physx"
        self.standins = StandInKit(self.world, engine=engine, engines=("physx", "newton"))
        self.settings: dict[str, Any] = {
            "/app/player/playSimulations": True,
            "/exts/isaaclab_trainer/log_root": str(log_root),
        }
        self.enabled = {"omni.physx.fabric", "isaacsim.physics.newton.tensors"}  # extensions the app enabled
        self._script()

    @property
    def engine(self) -> str:
        return self.standins.engine

    def _script(self) -> None:
        call = self.world.on_call
        for path in (
            "carb.settings.get_settings",
            "carb.eventdispatcher.get_eventdispatcher",
            "omni.kit.app.get_app",
            "isaacsim.physics.newton.acquire_stage",
        ):
            call[path] = self.standins.once(path)
        call["carb.settings.get_settings().get"] = lambda fn, path: self.settings.get(path)
        call["carb.settings.get_settings().set"] = lambda fn, path, value: self.settings.__setitem__(path, value)
        ext_manager = "omni.kit.app.get_app().get_extension_manager()"
        call[f"{ext_manager}.is_extension_enabled"] = lambda fn, ext: ext in self.enabled

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
        self.standins.click(text)

    def choose(self, combo: Double, index: int) -> None:
        self.standins.choose(combo, index)


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


#: modules Kit 110.4's kernel wheel has itself (not stand-ins) in the real-Kit run
KERNEL_MODULES = ("carb", "omni.ext", "omni.kit.app")


def test_real_kit_column_matches_the_stand_ins():
    """``kit110`` says "stand-in only" exactly where a call's module is not the kernel's own in the real-Kit run
    (a generated stand-in, or not loaded there at all)."""
    standin_modules = {m for modules in STANDIN_EXTENSIONS.values() for m in modules}
    for row in kit_api_table.load_table()["api"]:
        roots = {kit_api_table.parse_call(c)[0].split("(")[0] for c in row["calls"]}
        kernel = all(any(r == k or r.startswith(f"{k}.") for k in KERNEL_MODULES) for r in roots)
        assert row["kit110"].startswith("stand-in only") != kernel, row["calls"]
        if any(r.startswith(tuple(standin_modules)) for r in roots):
            assert row["kit110"] == "stand-in only", row["calls"]
    for row in kit_api_table.load_table()["manifest"]:
        assert row["kit110"].startswith(("ran in real Kit 110.4", "stand-in only")), row["key"]


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
    viewport = kit.standins.viewport()
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
    assert set(threading.enumerate()) - threads_before == set()  # on_shutdown() returns with its threads ended
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


BROWSER_PORT, BROWSER_HOST, BROWSER_TOKEN = (f"/exts/isaaclab_trainer/browser_{k}" for k in ("port", "host", "token"))


def _start(kit: FakeKit) -> Any:
    ext = importlib.import_module("isaaclab_trainer.kit.extension").IsaacLabTrainerExtension()
    ext.on_startup("isaaclab_trainer-0.1.0")
    return ext


def _http_status(url: str) -> int:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", f"{parts.path}?{parts.query}" if parts.query else parts.path)
        return conn.getresponse().status
    finally:
        conn.close()


def test_browser_panel_served_by_the_extension(kit: FakeKit, browser, capsys):
    """browser_port = 0: the extension serves the browser panel as a second view of its one view-model. Clicks in
    Chromium run at Kit's next update (never on viser's thread), both views show the same state, a rendering mode
    chosen in the browser reaches Kit's viewport, and disabling the extension stops serving."""
    world = kit.world
    threads_before = set(threading.enumerate())
    kit.settings[BROWSER_PORT] = 0
    ext = _start(kit)
    vm, win, url = ext.view_model, ext.window, ext.browser.url
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url), url  # loopback, no token
    assert capsys.readouterr().out.count(f"Isaac Lab panel at {url}") == 1
    assert world.calls_to("carb.log_warn") == [] and world.calls_to("carb.log_error") == []
    kit.frames(1)

    page = open_page(browser, url)
    assert field(page, "Active engine").input_value() == ("Newton" if kit.version == "6" else "PhysX")
    choose(page, "Physics backend", "physx")
    type_in(page, "Environments", str(NUM_ENVS))
    click(page, "Build")
    # the click has reached the extension (queued on viser's thread); no update ran since, so no build
    wait_until(lambda: not ext.actions._actions.empty(), 30, "the Build click to be queued", page)
    assert vm.session is None, "a browser click must wait for Kit's update"
    assert kit.frames_until(lambda: vm.session is not None), vm.refresh().status_line
    assert vm.session.status.state.value == "BUILT", vm.refresh().status_line
    kit.frames(1)
    assert win.state_label.text == "Built"
    wait_until(lambda: state(page) == "Built", 30, "the browser to show the build", page)

    type_in(page, "Total timesteps", "128")
    click(page, "Start")
    assert kit.frames_until(lambda: vm.session.status.state.value == "DONE"), vm.refresh().status_line
    assert len(world.calls_to("omni.physx.get_physx_simulation_interface().simulate")) >= 2 * 128 // NUM_ENVS
    kit.frames(5)
    wait_until(lambda: state(page) == "Done", 30, "the browser to show the run's end", page)

    viewport = kit.standins.viewport()
    choose(page, "Rendering Mode", "No rendering")
    assert kit.frames_until(lambda: viewport.updates_enabled is False, 30), "the browser's mode must reach Kit"
    kit.frames(5)
    assert kit.standins.values[id(win.render_combo.model.get_item_value_model())] == 0  # the window shows it too
    page.close()

    port = ext.browser.server.get_port()
    ext.on_shutdown()
    assert ext.browser is None
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    ext = vm = win = None
    gc.collect()
    assert world.alive(f"{OBSERVE}()") == []
    deadline = time.monotonic() + 10
    while set(threading.enumerate()) - threads_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(threading.enumerate()) - threads_before == set()
    assert world.violations == []


def test_browser_panel_settings(kit: FakeKit, capsys):
    """Off by default; a bad setting is one error line naming it (the dock window still works); beyond loopback one
    warning, then a token inside the printed URL, without which the panel answers 403."""
    world = kit.world
    ext = _start(kit)
    assert ext.browser is None and ext.window is not None
    ext.on_shutdown()

    kit.settings[BROWSER_PORT] = 70000
    ext = _start(kit)
    assert ext.browser is None and ext.window is not None
    assert world.calls_to("carb.log_error") == [
        (
            (
                "[isaaclab_trainer] browser panel not served: /exts/isaaclab_trainer/browser_port 70000 is not "
                "accepted (accepted: -1, 0 to 65535; 0 picks a free port)",
            ),
            {},
        )
    ]
    ext.on_shutdown()

    kit.settings.update({BROWSER_PORT: 0, BROWSER_TOKEN: "short"})
    ext = _start(kit)
    assert ext.browser is None
    assert world.calls_to("carb.log_error")[-1][0][0].endswith(
        "/exts/isaaclab_trainer/browser_token has 5 characters (accepted: at least 16 of A-Z a-z 0-9 . _ ~ -)"
    )
    ext.on_shutdown()

    kit.settings.update({BROWSER_HOST: "0.0.0.0", BROWSER_TOKEN: ""})
    ext = _start(kit)
    ((warning,), _) = world.calls_to("carb.log_warn")[-1]
    assert "listening on 0.0.0.0: anyone who can reach port 0" in warning and "SSH tunnel" in warning, warning
    url = ext.browser.url
    assert re.fullmatch(r"http://localhost:\d+/\?token=[0-9a-f]{48}", url), url
    assert capsys.readouterr().out.count(url) == 1
    assert _http_status(url.split("?")[0]) == 403
    assert _http_status(url) == 200
    ext.on_shutdown()

    kit.settings[BROWSER_TOKEN] = "a-token-the-user-chose"
    ext = _start(kit)
    assert ext.browser.url.endswith("/?token=a-token-the-user-chose")
    ext.on_shutdown()
    assert world.violations == []


@pytest.mark.parametrize("kit", ["6"], indirect=True, ids=["isaacsim-6.x"])
def test_evaluate_a_run_that_train_py_writes(kit: FakeKit, tmp_path: Path):
    """The Runs and Evaluate frames as a user clicks them while train.py trains in another process: the run is
    listed as running, Evaluate plays each newer checkpoint (on the panel's own envs) and the run ends finished."""
    from test_evaluate import start_train

    kit.settings["/exts/isaaclab_trainer/log_root"] = str(tmp_path / "logs")
    for name in KIT_MODULES:
        importlib.import_module(name)
    ext = sys.modules["isaaclab_trainer.kit.extension"].IsaacLabTrainerExtension()
    ext.on_startup("isaaclab_trainer-0.1.0")
    vm, win = ext.view_model, ext.window
    train = start_train(tmp_path, n_timesteps=60000, checkpoint_interval=4096)  # several checkpoints while it plays
    try:
        win.num_envs_model.set_value(NUM_ENVS)  # the panel's own envs, built as usual
        kit.click("Build")
        assert vm.session.status.state.value == "BUILT", vm.refresh().status_line
        assert kit.frames_until(lambda: win.runs_frame.row_labels[0].text != ""), "train.py's run in the Runs list"
        select = [kw for args, kw in kit.world.calls_to("omni.ui.Button") if args == ("Select",)][0]
        select["clicked_fn"]()
        assert kit.frames_until(lambda: win.runs_frame.widgets["state_text"].text == "running"), vm.refresh().runs
        kit.click("Evaluate")
        seen: list[int] = []

        def advanced() -> bool:
            steps = vm.refresh().runs.playing_timesteps
            if steps is not None and (not seen or steps != seen[-1]):
                seen.append(steps)
            return len(seen) >= 3

        assert kit.frames_until(advanced, timeout_s=300), (seen, vm.refresh().status_line)
        assert train.poll() is None and seen == sorted(seen)
        assert win.runs_frame.widgets["playing_text"].text.startswith(f"model_{seen[-1]}_steps.zip")
        assert train.wait(timeout=600) == 0
        assert kit.frames_until(lambda: win.runs_frame.widgets["state_text"].text == "finished")
        assert win.runs_frame.widgets["last_return_text"].text != "-"
        assert kit.world.violations == []
    finally:
        train.kill()
        ext.on_shutdown()
