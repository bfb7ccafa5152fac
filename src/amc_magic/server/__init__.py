"""The Jupyter server extension: a REST API over the history, a dashboard, and the orphan poller.

Enabled by installing the package (``jupyter-config/jupyter_server_config.d/amc_magic.json``); the
server finds it through :func:`amc_magic._jupyter_server_extension_points`, which names
:class:`~amc_magic.server.app.AmcMagicServer`. Nothing here is imported by ``import amc_magic`` or
by a kernel: the extension lives in the server process and reaches the kernels only through the
history database they share.

- :mod:`.app`: the extension and its settings (traitlets ``AmcMagicServer.*``).
- :mod:`.service`: the history store, session and worker threads the handlers share.
- :mod:`.handlers`: ``/amc-magic/api/...``; :mod:`.dashboard`: ``/amc-magic/`` and its files.
- :mod:`.filters`, :mod:`.payloads`: query parameters in, JSON out.
- :mod:`.poller`: finishes executions no kernel follows any more, under a lease.
"""
