"""Strict recording doubles of the Kit / Isaac Sim modules, generated from ``docs/kit_api.toml``.

A double answers only the member names the API table lists for that node and accepts only the positional
count and keyword names the table lists for a call; anything else raises ``KitContractError``. Every call
is recorded (bound methods passed to it weakly, see ``WeakCallback``). A test may script what a listed call or
attribute gives back (``World.on_call`` / ``World.on_get``, keyed by table paths such as
``"omni.usd.get_context().get_stage"``); everything else returns a fresh double (``tests/kit_standins.py``
holds the scripts shared with the real-Kit run). These are stand-ins for Kit, for a contract check: they say
nothing about how Kit behaves.
"""

from __future__ import annotations

import inspect
import sys
import time
import types
import weakref
from collections.abc import Callable
from typing import Any

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "scripts"))
from kit_api_table import ApiSpec  # noqa: E402


class KitContractError(AttributeError):
    """The shell used a name or argument the API table does not list (an ``AttributeError``, so that
    ``hasattr`` probing a name of the other Isaac Sim version answers False)."""


class WeakCallback:
    """A bound method handed to a double, held weakly: a recorded callback keeps nothing alive, so Kit's own
    check ("extension object is still alive") and ``gc`` see only the references the shell itself leaves."""

    def __init__(self, method: Any) -> None:
        self._ref = weakref.WeakMethod(method)
        self.__name__ = method.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        method = self._ref()
        if method is None:
            raise ReferenceError(f"the owner of callback {self.__name__} is gone")
        return method(*args, **kwargs)


def _weak(value: Any) -> Any:
    return WeakCallback(value) if inspect.ismethod(value) else value


class Double:
    """One object of the Kit API (a call result or an attribute value) at table path ``path``."""

    def __init__(self, world: World, path: str, owner: Double | None = None) -> None:
        object.__setattr__(self, "_world", world)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_owner", owner)
        object.__setattr__(self, "_children", {})
        object.__setattr__(self, "_state", {})
        world.created.append((path, weakref.ref(self)))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._world.get(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._world.set(self, name, value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._world.call(self, args, kwargs)

    def _child(self, name: str) -> Double:
        """The member ``name`` of this object, created once (``x.model`` is the same object every time)."""
        children = object.__getattribute__(self, "_children")
        if name not in children:
            children[name] = Double(self._world, f"{self._path}.{name}", owner=self)
        return children[name]

    def __enter__(self) -> Double:  # omni.ui containers are used as `with` blocks
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __int__(self) -> int:  # enum members: int(TimelineEventType.STOP)
        return sum(self._path.encode()) % 10_000

    __index__ = __int__

    def __repr__(self) -> str:
        return f"<kit double {self._path}>"


class ModuleDouble(types.ModuleType):
    """A Kit module: its members are the table's, nothing else."""

    def __init__(self, world: World, name: str) -> None:
        super().__init__(name)
        self.__path__: list[str] = []  # a package, so `import a.b` resolves through sys.modules
        self._world = world

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_world":
            raise AttributeError(name)
        return self._world.get_module_member(self, name)


class World:
    """The doubles of one Isaac Sim version, their call log and the test's scripted answers."""

    def __init__(self, spec: ApiSpec, other: ApiSpec | None = None) -> None:
        self.spec = spec
        #: the other version's API: probing one of its names (``hasattr``) is a version check, not a violation
        self.other = other
        #: every use of a name or argument that neither version lists (also those an ``except`` swallowed)
        self.violations: list[str] = []
        self.log: list[tuple[str, tuple, dict]] = []
        self.created: list[tuple[str, weakref.ref]] = []
        #: table path of a call -> fn(callable_double, *args, **kwargs) giving its result
        self.on_call: dict[str, Callable[..., Any]] = {}
        #: table path of an attribute -> fn(owner_double) giving its value
        self.on_get: dict[str, Callable[[Any], Any]] = {}
        self.modules = {name: ModuleDouble(self, name) for name in spec.modules}
        self._classes: dict[str, type] = {}
        #: wall seconds spent inside calls of doubles, their scripted answers included
        self.call_s = 0.0

    # -- lookups -----------------------------------------------------------------------------------

    def _violation(self, message: str, *, probe: bool = False) -> KitContractError:
        if not probe:
            self.violations.append(message)
        return KitContractError(message)

    def _check_member(self, path: str, name: str) -> str:
        if name not in self.spec.members.get(path, set()):
            in_other = self.other is not None and name in self.other.members.get(path, set())
            raise self._violation(
                f"`{path}.{name}` is not in the Kit API table for Isaac Sim {self.spec.version}", probe=in_other
            )
        return f"{path}.{name}"

    def get_module_member(self, module: ModuleDouble, name: str) -> Any:
        path = self._check_member(module.__name__, name)
        if path in self.modules:
            return self.modules[path]
        if path in self.spec.classes:
            return self._classes.setdefault(path, type(name, (), {"__module__": module.__name__}))
        if path in self.on_get:
            return self.on_get[path](module)
        cache = module.__dict__.setdefault("_members", {})
        if name not in cache:
            cache[name] = Double(self, path)
        return cache[name]

    def get(self, obj: Double, name: str) -> Any:
        path = self._check_member(obj._path, name)
        state = object.__getattribute__(obj, "_state")
        if name in state:
            return state[name]
        if path in self.on_get:
            return self.on_get[path](obj)
        return obj._child(name)

    def set(self, obj: Double, name: str, value: Any) -> None:
        path = self._check_member(obj._path, name)
        self.log.append((f"{path} =", (value,), {}))
        object.__getattribute__(obj, "_state")[name] = value

    def call(self, fn: Double, args: tuple, kwargs: dict) -> Any:
        started = time.perf_counter()
        try:
            return self._call(fn, args, kwargs)
        finally:
            self.call_s += time.perf_counter() - started

    def _call(self, fn: Double, args: tuple, kwargs: dict) -> Any:
        path = fn._path
        sig = self.spec.calls.get(path)
        if sig is None:
            raise self._violation(f"`{path}(...)` is not a call in the Kit API table for Isaac Sim {self.spec.version}")
        if sig.max_positional is not None and len(args) > sig.max_positional:
            raise self._violation(f"`{path}` takes at most {sig.max_positional} positional arguments, got {len(args)}")
        unknown = set(kwargs) - sig.keywords
        if unknown:
            raise self._violation(f"`{path}` has no keyword {sorted(unknown)} in the Kit API table")
        args = tuple(_weak(a) for a in args)
        kwargs = {k: _weak(v) for k, v in kwargs.items()}
        self.log.append((path, args, kwargs))
        if path in self.on_call:
            return self.on_call[path](fn, *args, **kwargs)
        return Double(self, f"{path}()", owner=fn)

    # -- queries for assertions ----------------------------------------------------------------------

    def calls_to(self, path: str) -> list[tuple[tuple, dict]]:
        return [(args, kwargs) for p, args, kwargs in self.log if p == path]

    def alive(self, path: str) -> list[Double]:
        """Doubles created at ``path`` that are still referenced somewhere."""
        return [obj for p, ref in self.created if p == path and (obj := ref()) is not None]
