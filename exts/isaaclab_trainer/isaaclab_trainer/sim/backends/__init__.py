"""Physics backends. Only the interface and the registry are imported here; engine modules (e.g.
``newton_backend``) are imported when their backend is built, so this package works where an engine is absent."""

from .base import PhysicsBackend
from .factory import make_backend, register_backend, resolve_backend

__all__ = ["PhysicsBackend", "make_backend", "register_backend", "resolve_backend"]
