# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""A stand-in for the ``datasurface`` package: only ``python -m datasurface.cmd.platform
generatePlatformBootstrap``, for testing the datasurface_bootstrap module (see ../../README.md)."""

__version__ = "0.0.0+yellow.stub"
