"""Physics backends by name: engine modules register a factory here, and ``auto`` picks one.

Newton registers below (its module is imported only when a Newton backend is built). PhysX lives in
the Kit shell, which registers it as the ``auto`` choice when Isaac Sim loads it; until then its name
is known (help texts and messages list it) but building it says that it needs Isaac Sim.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pxr import Usd

    from .base import PhysicsBackend

#: ``factory(stage, num_envs=, physics_dt=, device=, **options)`` builds a backend over the envs authored in
#: ``stage``; ``options`` are a task's engine settings (e.g. Newton's ``solver=``, ``contacts=``), which an
#: engine that chooses its own ignores
BackendFactory = Callable[..., "PhysicsBackend"]

AUTO = "auto"
NEWTON = "newton"
PHYSX = "physx"
#: backends only Isaac Sim provides: registered by the Kit shell, named everywhere
ISAAC_SIM_BACKENDS = (PHYSX,)

_FACTORIES: dict[str, BackendFactory] = {}
_AUTO_CHOICE = [NEWTON]  # the last backend registered with auto=True wins


def register_backend(name: str, factory: BackendFactory, *, auto: bool = False) -> None:
    """Make ``name`` buildable by :func:`make_backend`; ``auto`` makes it what ``"auto"`` resolves to."""
    if name == AUTO:
        raise ValueError(f"'{AUTO}' is not a backend name; it resolves to a registered backend")
    _FACTORIES[name] = factory
    if auto:
        _AUTO_CHOICE.append(name)


def backend_names() -> tuple[str, ...]:
    """Every accepted ``backend`` value: ``auto``, the registered backends, then Isaac Sim's."""
    return (AUTO, *_FACTORIES, *(n for n in ISAAC_SIM_BACKENDS if n not in _FACTORIES))


def check_backend_name(name: str) -> str:
    """``name`` if it is one of :func:`backend_names` (buildable here or not), else ValueError listing them."""
    if name not in backend_names():
        raise ValueError(f"unknown physics backend '{name}'; accepted: {', '.join(backend_names())}")
    return name


def resolve_backend(name: str) -> str:
    """The registered backend ``name`` stands for (``auto`` resolved), else ValueError saying why."""
    if check_backend_name(name) == AUTO:
        return _AUTO_CHOICE[-1]
    if name not in _FACTORIES:
        raise ValueError(
            f"backend '{name}' needs Isaac Sim (run inside it, e.g. './isaaclab.sh -s'); use '{NEWTON}' here"
        )
    return name


def make_backend(
    name: str, stage: Usd.Stage, num_envs: int, physics_dt: float, device: str, **options: Any
) -> PhysicsBackend:
    """Build the backend ``name`` over the envs already authored in ``stage`` (``options``: see BackendFactory)."""
    factory = _FACTORIES[resolve_backend(name)]
    return factory(stage, num_envs=num_envs, physics_dt=physics_dt, device=device, **options)


def owns_its_stage(name: str) -> bool:
    """True when backend ``name`` is the headless Newton one, which simulates whatever stage it is given, so
    extra envs (the best-model evaluation's) can live in a stage of their own beside the live one."""
    return _FACTORIES.get(name) is _newton


def _newton(stage: Usd.Stage, **kwargs: Any) -> PhysicsBackend:
    from .newton_backend import NewtonBackend

    return NewtonBackend(stage, **kwargs)


register_backend(NEWTON, _newton)
