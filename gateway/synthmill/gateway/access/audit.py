"""The audit log: one structured line per action that matters (who submitted, cancelled or
downloaded what, and key changes), on the `synthmill.audit` logger. `who` is a key's name, never
its secret; an operator can route this logger to its own sink."""

from __future__ import annotations

import json
import logging
from typing import Any

log = logging.getLogger("synthmill.audit")


def audit(action: str, **fields: Any) -> None:
    """Logs `action` with `fields` as one JSON object: `audit {"action": "submit", "who": ...}`."""
    log.info("audit %s", json.dumps({"action": action, **fields}, ensure_ascii=False, sort_keys=True))
