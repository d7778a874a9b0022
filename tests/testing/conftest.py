"""The plugin tests run fresh pytest sessions with pytest's own ``pytester`` fixture."""

pytest_plugins = ["pytester"]
