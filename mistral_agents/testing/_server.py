"""`OfflineServer`: the offline model behind a real HTTP/1.1 server on loopback (stdlib only)."""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._wire_response import WireResponse, json_response

if TYPE_CHECKING:
    from ._model import OfflineModel

__all__ = ["OfflineServer"]


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, asks the model, plays the `WireResponse` (chunked and flushed when streamed)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stalls
    server: _HTTPServer

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self) -> None:
        body = self._read_body()
        try:
            wire = self.server.model.handle(self.command, self.path, self.headers.items(), body)
        except Exception as error:  # a policy bug: say so instead of dropping the connection
            wire = json_response(
                500,
                {
                    "object": "error",
                    "message": f"offline model policy failed: {error!r}",
                    "type": "server_error",
                    "param": None,
                    "code": None,
                },
            )
        stopping = self.server.stopping
        if wire.delay and stopping.wait(wire.delay):
            self.close_connection = True
            return
        if wire.disconnect:
            self.close_connection = True
            return
        try:
            self._play(wire, stopping)
        except OSError:  # the client went away
            self.close_connection = True

    def _play(self, wire: WireResponse, stopping: threading.Event) -> None:
        self.send_response(wire.status)
        for name, value in wire.headers:
            self.send_header(name, value)
        if not wire.streamed:
            body = wire.body
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            if wire.abort:
                self.close_connection = True
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for position, part in enumerate(wire.parts):
            if position and wire.part_delay and stopping.wait(wire.part_delay):
                break
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.flush()
        if wire.abort or stopping.is_set():
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # many concurrent clients connect at once in async tests

    def __init__(self, address: tuple[str, int], model: OfflineModel, verbose: bool) -> None:
        self.model = model
        self.verbose = verbose
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        self._tracking = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        worker = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            daemon=True,
            name=f"offline-model-{client_address}",
        )
        with self._tracking:
            self._connections.add(request)
            self._workers.add(worker)
        worker.start()

    def _serve_connection(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._tracking:
                self._connections.discard(request)
                self._workers.discard(threading.current_thread())

    def close_connections(self, timeout: float) -> None:
        """Wake every worker (shut its socket) and wait for it to finish."""
        self.stopping.set()
        with self._tracking:
            connections, workers = list(self._connections), list(self._workers)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for worker in workers:
            worker.join(timeout)


class OfflineServer:
    """Serve an [`OfflineModel`][mistral_agents.testing.OfflineModel] on ``http://host:port`` (port 0: a free
    one) from a background thread.

    Use it as a context manager, or call [`start`][mistral_agents.testing.OfflineServer.start] and
    [`close`][mistral_agents.testing.OfflineServer.close].
    """

    def __init__(self, model: OfflineModel, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False) -> None:
        self.model = model
        self._httpd = _HTTPServer((host, port), model, verbose)
        self._thread: threading.Thread | None = None
        self._serving = False
        self._closed = False
        self.host = host
        self.port: int = self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321`` (pass it as the client's ``endpoint``)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> OfflineServer:
        """Serve from a background (daemon) thread."""
        if self._thread is None and not self._closed:
            self._serving = True
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.01},
                daemon=True,
                name=f"offline-model-server-{self.port}",
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until [`close`][mistral_agents.testing.OfflineServer.close] is called
        from another thread (or Ctrl-C).
        """
        self._serving = True
        try:
            self._httpd.serve_forever(poll_interval=0.05)
        finally:
            self._serving = False
            self.close()

    def serve_until_stopped(self) -> None:
        """Serve from a background thread until Ctrl-C or SIGTERM, then close (call it from the main thread).

        The signals only set an event: the server closes from here, never from wherever an interrupt lands.
        """
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            with self:
                while not stop.wait(0.5):
                    pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def close(self, timeout: float = 5.0) -> None:
        """Stop accepting, close open connections, and join every thread. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._serving:
            self._httpd.shutdown()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._httpd.close_connections(timeout)
        self._httpd.server_close()

    def __enter__(self) -> OfflineServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OfflineServer(url={self.url!r}, running={self._thread is not None})"
