"""Physics backends: the interface and the registry by name. Engine modules (e.g. ``newton_backend``)
are imported only when their backend is built, so this package works where an engine is absent."""

from .base import PhysicsBackend
from .registry import backend_names, make_backend, register_backend, resolve_backend

__all__ = ["PhysicsBackend", "backend_names", "make_backend", "register_backend", "resolve_backend"]
