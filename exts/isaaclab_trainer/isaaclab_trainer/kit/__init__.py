"""Kit shell of Isaac Lab Trainer: the only package that imports omni / carb / isaacsim.

* ``extension.py``: the ``omni.ext.IExt`` (menu, window, per-frame update). Kit imports it through
  ``[[python.module]] name = "isaaclab_trainer.kit.extension"`` and finds the IExt there, so the
  extension class is reachable only inside Kit.
* ``window.py``: the omni.ui "Isaac Lab" window (draws ``ui.view_model.PanelState``, forwards clicks).
* ``render.py``: RenderMode -> viewport updates.
* ``physx_backend.py``: ``PhysxBackend`` over the live stage (omni.physx + omni.physics.tensors);
  importing it registers the "physx" backend (and makes it what "auto" means).
* ``app.py``: ``launch_app()`` for standalone scripts (``isaacsim.SimulationApp``).

This ``__init__`` deliberately imports nothing, so ``isaaclab_trainer.kit.physx_backend`` can be
imported from a headless ``SimulationApp`` without pulling in the UI modules. The Kit-free package
(``isaaclab_trainer``) never imports this package: it sits on top (tests/test_import_boundary.py).
"""
