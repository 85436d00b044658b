"""Stop the server that `make serve` started (exactly that process, from its pid file)."""

from .. import server
from . import handled


@handled
def main() -> int:
    print("server stopped" if server.stop() else "no server running (nothing to stop)")
    return 0
