"""Stop the server that `make serve` started (exactly that process, from its pid file)."""

from .. import server
from ..settings import Settings
from . import handled


@handled
def main() -> int:
    stopped = server.stop(Settings.from_environ().output_dir)
    print("server stopped" if stopped else "no server running (nothing to stop)")
    return 0
