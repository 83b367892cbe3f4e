"""A server's log file, read for evidence the RPCs cannot carry (what the server stopped, and when)."""

from __future__ import annotations

import re
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
        """The first match of `pattern` logged after `mark`, waiting for it to appear."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.log_since(mark))
            if match:
                return match
            time.sleep(0.05)
        raise AssertionError(f"no log line matching {pattern!r}:\n{self.log_since(mark)[-3000:]}")
