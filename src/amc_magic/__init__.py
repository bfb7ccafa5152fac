"""amc-magic: run Amazon Marketing Cloud SQL from Jupyter.

In a notebook::

    %load_ext amc_magic

    %%amc reach start=2026-03-01 end=2026-03-31
    SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY campaign

From Python: :func:`query` returns a DataFrame, :func:`submit` a handle to a running query.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import backfill, query, submit

__version__ = "0.1.0"
__all__ = ["__version__", "backfill", "load_ipython_extension", "query", "submit", "unload_ipython_extension"]


def __getattr__(name: str) -> Any:
    """Import the Python API on first use, so that ``import amc_magic`` and the CLI start fast."""
    if name in ("backfill", "query", "submit"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'amc_magic' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%%amc`` / ``%amc`` (called by ``%load_ext amc_magic``)."""
    from .magics import AMCMagic

    ipython.register_magics(AMCMagic)


def unload_ipython_extension(ipython: Any) -> None:
    """Close the magic's session (called by ``%unload_ext`` / ``%reload_ext``)."""
    magics = ipython.magics_manager.registry.get("AMCMagic")
    if magics is not None:
        magics.close()


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """Where the Jupyter server finds the extension (imported only by the server, never by a kernel)."""
    from .server.app import AmcMagicServer

    return [{"module": "amc_magic.server.app", "app": AmcMagicServer}]
