"""A server's log file, read for evidence the RPCs cannot carry (what the server stopped, and when)."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ServerLog:
    log_path: Path

    def log_mark(self) -> int:
        """The current end of the log; pass it to `log_since` to read only what comes after."""
        return self.log_path.stat().st_size

    def log_since(self, mark: int) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(mark)
            return log.read().decode(errors="replace")

    def wait_for_log(self, mark: int, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """The first match of `pattern` logged after `mark`, read as the server writes it: `tail -f`
        (inotify) blocks until the file grows, so no polling. `timeout` only guards against a hang."""
        follow = ["tail", "-c", f"+{mark + 1}", "-f", str(self.log_path)]
        tail = subprocess.Popen(follow, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        text = b""
        try:
            while (left := deadline - time.monotonic()) > 0:
                if select.select([tail.stdout], [], [], left)[0]:
                    chunk = os.read(tail.stdout.fileno(), 65536)
                    if not chunk:  # tail itself ended
                        break
                    text += chunk
                    match = re.search(pattern, text.decode(errors="replace"))
                    if match:
                        return match
        finally:
            tail.kill()
            tail.wait()
            tail.stdout.close()
        raise AssertionError(f"no log line matching {pattern!r}:\n{self.log_since(mark)[-3000:]}")
