"""Physics backends. Only the interface is imported here; engine modules (e.g. ``newton_backend``)
are imported explicitly by callers so that this package works where an engine is absent."""

from .base import PhysicsBackend

__all__ = ["PhysicsBackend"]
