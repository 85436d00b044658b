"""One POST on a connection of its own, waited for while the server shows progress, and cancellable
by closing that connection (which is also how the server learns to drop the work)."""

import http.client
import socket
import threading
import urllib.parse


class Cancelled(Exception):
    """The client gave up on a request and closed its connection (the reason is the message)."""


class WatchedPost:
    """Sent at once, on a thread of its own; `done` is set on an answer, an error or cancel()."""

    def __init__(self, url: str, body: bytes, connect_timeout: float = 30.0):
        parts = urllib.parse.urlsplit(url)
        kind = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        self.connection = kind(parts.hostname, parts.port, timeout=connect_timeout)
        self.path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.body = body
        self.done = threading.Event()
        self.status, self.text, self.error = None, "", None
        threading.Thread(target=self._send, daemon=True).start()

    def _send(self) -> None:
        try:
            self.connection.connect()
            # the watcher decides how long to wait, not the socket
            self.connection.sock.settimeout(None)
            self.connection.request(
                "POST", self.path, body=self.body, headers={"Content-Type": "application/json"}
            )
            response = self.connection.getresponse()
            self.status, self.text = response.status, response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as e:
            self.error = e
        finally:
            self.connection.close()
            self.done.set()

    def cancel(self) -> None:
        sock = self.connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.done.wait(5.0)
