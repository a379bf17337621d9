"""The test suite's fixtures come from the ``servers`` plugin (tests/servers.py); what
tests share besides fixtures is in tests/helpers.py."""

pytest_plugins = ["servers"]
