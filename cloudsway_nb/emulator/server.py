"""Serve the emulator with uvicorn: in the foreground (the CLI) or on a background thread.

uvicorn is imported only when a server starts, so ``import cloudsway_nb.emulator`` stays light.
The listening socket is bound before uvicorn starts, which makes ``port=0`` (a free port)
possible and the base URL known at once.

Example:
    >>> with EmulatorServer(port=0, pacing="none") as server:
    ...     import httpx
    ...     httpx.get(server.base_url + "/health").json()["status"]
    'ok'
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from typing import Any, Self

from .app import DroppedConnection, EmulatorApp, create_app
from .options import EmulatorOptions, bundled_pacing

__all__ = ["EmulatorServer", "serve"]


class _QuietDrops(logging.Filter):
    """Hide uvicorn's traceback for connections dropped on purpose (the ``drop`` fault)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


def _install_filter() -> None:
    log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDrops) for f in log.filters):
        log.addFilter(_QuietDrops())


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted sockets
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def _base_url(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    return f"http://{shown}:{port}"


def _uvicorn_server(
    app: EmulatorApp, on_ready: Callable[[], None] | None, log_level: str, quiet: bool
) -> Any:
    import uvicorn

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if on_ready is not None and not self.should_exit:
                on_ready()

    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=log_level in ("debug", "info"),
        log_config=None if quiet else uvicorn.config.LOGGING_CONFIG,
        lifespan="off",
        http="h11",
        ws="none",
        timeout_graceful_shutdown=1,
        timeout_keep_alive=5,
    )
    _install_filter()
    return _Server(config)


class EmulatorServer:
    """The emulator on a loopback port, served by uvicorn on a daemon thread.

    Keyword arguments are :class:`~.options.EmulatorOptions` fields (``port=0`` picks a free
    port), and ``pacing`` (``"realistic"`` or ``"none"``). This is the bundled emulator as a
    user starts it (``%cloudsway emulator start``, ``cloudsway-nb demo``), so it is paced like a
    real model unless told otherwise: ``pacing`` defaults to :func:`~.options.bundled_pacing`
    (``realistic``, or ``$CLOUDSWAY_EMULATOR_PACING``); ``chunk_delay`` / ``first_token_delay``
    given explicitly win over the preset. :func:`~.testing.running_emulator` passes ``pacing="none"``.
    ``start()`` returns the base URL once the server accepts requests; ``stop()`` shuts
    it down. Also a context manager.

    Example:
        >>> server = EmulatorServer(pacing="none")
        >>> url = server.start()
        >>> url.startswith("http://127.0.0.1:")
        True
        >>> server.stop()
        >>> EmulatorServer(pacing="realistic", chunk_delay=0.05).options.chunk_delay
        0.05
    """

    def __init__(self, app: EmulatorApp | None = None, **options: Any) -> None:
        if app is None:
            options.setdefault("pacing", bundled_pacing())
        self.app = app if app is not None else create_app(**options)
        self.options: EmulatorOptions = self.app.options
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.base_url = ""

    def start(self, timeout: float = 10.0) -> str:
        """Start serving; returns the base URL (``http://127.0.0.1:PORT``)."""
        if self._thread is not None:
            return self.base_url
        sock = _bind(self.options.host, self.options.port)
        self.base_url = _base_url(sock, self.options.host)
        self._server = _uvicorn_server(self.app, self._ready.set, "warning", quiet=True)

        def run() -> None:
            try:
                self._server.run(sockets=[sock])
            except (OSError, RuntimeError, SystemExit) as exc:  # reported by start()
                self._error = exc
            finally:
                sock.close()
                self._ready.set()

        self._thread = threading.Thread(target=run, name="cloudsway-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None or not self._server.started:
            self.stop()
            raise RuntimeError(f"the emulator did not start: {self._error!r}")
        return self.base_url

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and wait for the thread to end."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None
        self._server = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    options: EmulatorOptions | None = None,
    *,
    on_ready: Callable[[str], None] | None = None,
    log_level: str = "warning",
) -> None:
    """Serve in the foreground until interrupted (Ctrl+C / SIGTERM); ``on_ready`` gets the base URL.

    Example:
        >>> serve  # doctest: +ELLIPSIS
        <function serve at ...>
    """
    app = create_app(options)
    sock = _bind(app.options.host, app.options.port)
    url = _base_url(sock, app.options.host)
    server = _uvicorn_server(app, (lambda: on_ready(url)) if on_ready else None, log_level, quiet=False)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
