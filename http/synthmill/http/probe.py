"""`python -m synthmill.http.probe HOST:PORT`: exits 0 when the HTTP service answers `GET /` with 200,
1 otherwise. Used by the container health check (the gRPC servers use synthmill.common.probe)."""

from __future__ import annotations

import sys
import urllib.request


def answers(target: str, timeout: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://{target}/", timeout=timeout) as reply:
            return reply.status == 200
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(0 if answers(sys.argv[1] if len(sys.argv) > 1 else "localhost:8000") else 1)
