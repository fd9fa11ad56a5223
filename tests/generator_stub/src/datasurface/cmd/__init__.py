# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Command line entry points of the stand-in (only ``platform``)."""
