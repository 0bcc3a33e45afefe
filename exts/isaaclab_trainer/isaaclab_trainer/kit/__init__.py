"""Kit shell of Isaac Lab Trainer: the only package that imports omni / carb / isaacsim.

* ``extension.py``: the ``omni.ext.IExt`` (menu, window, per-frame update). Kit imports it through
  ``[[python.module]] name = "isaaclab_trainer.kit.extension"`` and finds the IExt there, so the
  extension class is reachable only inside Kit.
* ``window.py``: the omni.ui "Isaac Lab" window (draws ``ui.view_model.PanelState``, forwards clicks).
* ``render.py``: RenderMode -> viewport updates.
* ``engines.py``: which physics engine Isaac Sim runs and switching it (the one Isaac Sim 5.1 / 6.x branch).
* ``backends.py``: ``PhysxBackend`` (5.1 and 6.x) and ``NewtonBackend`` (6.x) over the live stage through
  ``omni.physics.tensors`` views, registered as the ``physx`` / ``newton`` backends.
* ``app.py``: ``launch_app()`` for standalone scripts (``isaacsim.SimulationApp``).

This ``__init__`` deliberately imports nothing, so ``isaaclab_trainer.kit.backends`` can be
imported from a headless ``SimulationApp`` without pulling in the UI modules. The Kit-free package
(``isaaclab_trainer``) never imports this package: it sits on top (tests/test_import_boundary.py).
"""
