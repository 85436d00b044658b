"""The backend benchmark's memory reading, on real processes: it must count the whole server
group."""

import os
import signal
import subprocess
import sys
import time

from bench.common import group_rss_bytes

HOLD_200_MIB = "import time; block = bytearray(200 << 20); block[::4096] = b'x' * len(block[::4096]); time.sleep(30)"


def test_group_rss_counts_every_process_of_the_group():
    leader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {HOLD_200_MIB!r}]); "
            f"exec({HOLD_200_MIB!r})",
        ],
        start_new_session=True,
    )
    try:
        deadline = time.time() + 20
        while time.time() < deadline and group_rss_bytes(leader.pid) < 400 << 20:
            time.sleep(0.2)
        assert group_rss_bytes(leader.pid) >= 400 << 20  # leader and child hold 200 MiB each
        assert group_rss_bytes(leader.pid) < 600 << 20
    finally:
        os.killpg(leader.pid, signal.SIGKILL)
        leader.wait()
    assert group_rss_bytes(leader.pid) == 0
