"""Run the extension in a real Kit 110.4 (Isaac Sim 6.2's kernel, from the package index) with stand-ins.

Python API (the pytest fixture ``kit_python`` in ``tests/conftest.py`` wraps the first call)::

    from kit_harness import ensure_kit_python, run_kit, start_kit

    python = ensure_kit_python()           # Kit's Python, made once under <repo>/.venv-kit (see below)
    run = run_kit(python, "scenario.py", tmp_path)   # one Kit process; the scenario runs inside it
    run.check()                           # AssertionError unless it ran clean (rules below)
    run.scenario                          # the dict the scenario filled in (kit.result)

    kit = start_kit(python, "serve.py", tmp_path, settings={"/exts/...": 1})  # the same, not waiting:
    ...                                   # talk to it (a browser) while its scenario runs kit.serve()
    kit.request_stop(); run = kit.wait()

A scenario is a Python file defining ``scenario(kit)``; ``kit`` is ``kit_driver.Kit``: ``kit.update(n)`` runs
app updates (Kit dispatches its update events to the extension's observer), ``kit.update_until(pred,
max_frames)``, ``kit.serve(max_frames)`` (update until the test asks to stop), ``kit.extension()`` the
running ``IsaacLabTrainerExtension``, ``kit.standins`` the stand-ins' ``kit_standins.StandInKit``
(``click("Build")``, ``choose(combo, i)``, ``world`` with every recorded call), ``kit.ext_manager`` Kit's
extension manager, ``kit.result`` a dict reported back.

What runs: ``omniverse-kit==110.4.0.386251`` started headless from Python (``omni.kit_app.KitApp``) with
the registry off, the ``exts/`` folder (or another one: ``ext_folder=``) and the generated stand-in
extensions of ``tests/kit_standins.py``; ``--enable isaaclab_trainer`` goes through Kit's own dependency
solver. Kit's Python is a venv holding only the kernel and what Isaac Sim ships in its Python (torch, numpy,
packaging, pyyaml, setuptools, at the versions of the interpreter running the tests); the extension's
``[python.pipapi]`` requirements are installed as omni.kit.pipapi would (``pip --isolated install
--target=<folder> <entry>`` for each entry, read from extension.toml) into a folder only the pipapi stand-in
puts on ``sys.path``; Kit's USD, Warp and Newton (``usd-core``, ``warp-lang``, ``newton``,
``newton-usd-schemas`` at the test interpreter's versions) into a folder only the stand-ins put on ``sys.path``.

:meth:`KitRun.check` fails on: a nonzero exit code, any error-level log event (``GLOBAL_EVENT_ERROR_LOG``
with ``level >= 1``, and ``[Error]`` / ``[Fatal]`` lines in Kit's log file, which also holds those logged
during start-up), Kit's own warning that a disabled extension's object is still alive, an exception out of
the scenario, an ``--enable`` extension that is not enabled, a stand-in
called outside the API table, or Kit still running after ``post_quit()``.

Kit accepts NVIDIA's Omniverse license for this throw-away Kit (``OMNI_KIT_ACCEPT_EULA=YES``); ``HOME`` is a
folder under the run's work directory. Linux x86_64 with Python 3.12 only (the kernel wheel is cp312):
:func:`kit_skip_reason` says why not elsewhere.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kit_standins
import tomllib

REPO = Path(__file__).resolve().parents[1]
EXTS = REPO / "exts"
MANIFEST = EXTS / "isaaclab_trainer" / "config" / "extension.toml"
DRIVER = Path(__file__).resolve().parent / "kit_driver.py"
KIT_VENV = REPO / ".venv-kit"
KIT_REQUIREMENT = "omniverse-kit==110.4.0.386251"
#: what Isaac Sim ships in Kit's Python (the list extension.toml's [python.pipapi] comment names)
ISAAC_SIM_SHIPS = ("torch", "numpy", "packaging", "pyyaml", "setuptools")
#: what Isaac Sim ships as extensions (Kit's USD, omni.warp.core, isaacsim.physics.newton): the stand-ins' engine
ENGINE_PACKAGES = ("usd-core", "warp-lang", "newton", "newton-usd-schemas")
EXTENSION = "isaaclab_trainer"
#: the file in the work directory whose existence ends ``kit.serve()`` (:meth:`KitProcess.request_stop`)
STOP_FILE = "stop"
#: log-file lines that fail a run: errors, and Kit's own check that a disabled extension's object was freed
LOG_ERROR = re.compile(r"\[(Error|Fatal)\]|extension object is still alive")


def kit_skip_reason() -> str | None:
    """Why real Kit cannot run with this interpreter (None if it can)."""
    if sys.version_info[:2] != (3, 12):
        return f"real Kit 110.4 needs Python 3.12 (omniverse-kit is cp312 only); this is {platform.python_version()}"
    if sys.platform != "linux" or platform.machine() != "x86_64":
        return f"real Kit 110.4 here needs Linux x86_64 (omniverse-kit wheel), not {sys.platform} {platform.machine()}"
    return None


def _pinned(names: tuple[str, ...]) -> list[str]:
    """``name==version`` of the test interpreter's distributions (pip's cache has them)."""
    return [f"{name}=={importlib.metadata.version(name)}" for name in names]


def _pip(python: Path, *args: str) -> None:
    cmd = [str(python), "-m", "pip", "--disable-pip-version-check", "-q", *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def _stamp(folder: Path, key: list[str]) -> tuple[Path, bool]:
    """The marker of a finished install of ``key`` into ``folder``, and whether it is there."""
    marker = folder / ".installed"
    digest = hashlib.sha256("\n".join(key).encode()).hexdigest()
    return marker, marker.is_file() and marker.read_text() == digest


def _mark(marker: Path, key: list[str]) -> None:
    marker.write_text(hashlib.sha256("\n".join(key).encode()).hexdigest())


def pipapi_requirements(manifest: Path = MANIFEST) -> list[str]:
    """The ``[python.pipapi] requirements`` entries of ``manifest``, as written."""
    return list(tomllib.loads(manifest.read_text(encoding="utf-8"))["python"]["pipapi"]["requirements"])


def ensure_kit_python(venv: Path = KIT_VENV) -> Path:
    """Kit's Python: a venv with the Kit kernel and what Isaac Sim ships, plus the two target folders
    (``pipapi/``: the extension's [python.pipapi]; ``engines/``: the stand-ins' USD / Warp / Newton).
    Made once; made again when a pinned version or the requirement list changes. Returns its python."""
    python = venv / "bin" / "python"
    base = [KIT_REQUIREMENT, *_pinned(ISAAC_SIM_SHIPS)]
    marker, done = _stamp(venv, base)
    if not done:
        if not python.exists():
            subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)], check=True)
        _pip(python, "install", *base)
        _mark(marker, base)
    pipapi = venv / "pipapi"
    entries = pipapi_requirements()
    marker, done = _stamp(pipapi, entries)
    if not done:
        pipapi.mkdir(exist_ok=True)
        for entry in entries:  # one pip run per entry, with the entry's own flags, as omni.kit.pipapi does
            _pip(python, "--isolated", "install", f"--target={pipapi}", "--upgrade", *entry.split())
        _mark(marker, entries)
    engines = venv / "engines"
    pins = _pinned(ENGINE_PACKAGES)
    marker, done = _stamp(engines, pins)
    if not done:
        engines.mkdir(exist_ok=True)
        _pip(python, "install", f"--target={engines}", "--upgrade", "--no-deps", *pins)
        _mark(marker, pins)
    return python


@dataclass
class KitRun:
    """The outcome of one Kit process."""

    exit_code: int
    errors: list[dict[str, str]]
    log_errors: list[str]
    missing: list[str]
    exception: str | None
    violations: list[str]
    still_running: bool
    scenario: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    output: str = ""

    def problems(self) -> list[str]:
        """Everything that makes the run fail, one line each (empty: it ran clean)."""
        found = [f"error event: {e.get('source', '')}: {e.get('message', '')}" for e in self.errors]
        found += [f"log: {line}" for line in self.log_errors]
        found += [f"extension not enabled: {name}" for name in self.missing]
        found += [f"stand-in called outside docs/kit_api.toml: {v}" for v in self.violations]
        if self.exception:
            found.append(f"exception: {self.exception}")
        if self.still_running:
            found.append("Kit still running after post_quit()")
        if self.exit_code != 0:
            found.append(f"exit code {self.exit_code}")
        return found

    def check(self) -> None:
        problems = self.problems()
        tail = self.output[-6000:]
        assert not problems, "real Kit run failed:\n" + "\n".join(problems) + "\n--- Kit output (tail) ---\n" + tail


class KitProcess:
    """A running Kit (from :func:`start_kit`): talk to it from the test (a browser, a socket) while its scenario
    runs, then :meth:`wait` for the :class:`KitRun`. The scenario can ``kit.serve(max_frames)``: update until
    the test calls :meth:`request_stop`."""

    def __init__(self, proc: subprocess.Popen, workdir: Path) -> None:
        self.proc = proc
        self.workdir = workdir

    def request_stop(self) -> None:
        """Ask ``kit.serve()`` in the scenario to return (it then finishes and Kit quits)."""
        (self.workdir / STOP_FILE).touch()

    def wait(self, timeout: float = 1200) -> KitRun:
        """Wait for Kit to exit (killed after ``timeout`` seconds); what happened."""
        try:
            stdout, stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            stdout, stderr = self.proc.communicate()
        result, log_file = self.workdir / "result.json", self.workdir / "kit.log"
        data = json.loads(result.read_text(encoding="utf-8")) if result.is_file() else {}
        log = log_file.read_text(encoding="utf-8", errors="replace") if log_file.is_file() else ""
        return KitRun(
            exit_code=self.proc.returncode,
            errors=data.get("errors", [{"message": "the driver wrote no result"}]),
            log_errors=[line for line in log.splitlines() if LOG_ERROR.search(line)],
            missing=data.get("missing", []),
            exception=data.get("exception"),
            violations=data.get("violations", []),
            still_running=bool(data.get("still_running_after_post_quit", False)),
            scenario=data.get("scenario", {}),
            timings=data.get("timings", {}),
            output=stdout + stderr,
        )


def start_kit(
    python: Path,
    scenario: Path | str,
    workdir: Path,
    *,
    ext_folder: Path = EXTS,
    enable: str = EXTENSION,
    standin_kwargs: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
) -> KitProcess:
    """Start Kit with ``ext_folder`` and the stand-ins, ``--enable enable``, running ``scenario`` (a file defining
    ``scenario(kit)``) inside it. ``settings`` are extra carb settings (``/path``: value)."""
    workdir.mkdir(parents=True, exist_ok=True)
    standins = workdir / "standins"
    kit_standins.write_standin_extensions(standins, standin_kwargs)
    all_settings = {
        "/app/extensions/registryEnabled": 0,
        "/app/fastShutdown": 0,
        "/app/runWithoutRunloop": "true",
        "/log/file": str(workdir / "kit.log"),
        kit_standins.PIPAPI_TARGET_SETTING: str(python.parents[1] / "pipapi"),
        kit_standins.ENGINES_SETTING: str(python.parents[1] / "engines"),
        f"/exts/{EXTENSION}/log_root": str(workdir / "logs"),
        **(settings or {}),
    }
    args = ["--no-window", "--allow-root", "--ext-folder", str(standins), "--ext-folder", str(ext_folder)]
    args += [f"--{key}={value}" for key, value in all_settings.items()]
    args += ["--enable", enable]
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    (workdir / STOP_FILE).unlink(missing_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "OMNI_KIT_ACCEPT_EULA": "YES",  # NVIDIA's Omniverse license, accepted for this throw-away Kit
        "PYTHONNOUSERSITE": "1",
        "PYTHONUNBUFFERED": "1",
        "WARP_CACHE_PATH": os.environ.get("WARP_CACHE_PATH", str(Path.home() / ".cache" / "warp")),
    }
    result = workdir / "result.json"
    cmd = [str(python), str(DRIVER), str(result), str(Path(scenario).resolve()), "--", *args]
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return KitProcess(proc, workdir)


def run_kit(python: Path, scenario: Path | str, workdir: Path, *, timeout: float = 1200, **kwargs: Any) -> KitRun:
    """:func:`start_kit` and wait for it: what happened (keyword arguments as :func:`start_kit`'s)."""
    return start_kit(python, scenario, workdir, **kwargs).wait(timeout)
