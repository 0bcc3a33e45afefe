"""Kit-native tests (``omni.kit.test``); run only inside Isaac Sim, see docs/README.md."""

scan_for_test_modules = True
