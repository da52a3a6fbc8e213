"""The installed townsim version."""

from __future__ import annotations

from importlib import metadata

__all__ = ["package_version"]


def package_version() -> str:
    """Installed townsim version ("unknown" when run from a source tree without install)."""
    try:
        return metadata.version("townsim")
    except metadata.PackageNotFoundError:
        return "unknown"
