"""What every server shares about who may reach it: its TLS files, and the rule that a server
reachable from other machines is not left open by accident.

A server bound to a loopback address (the default, 127.0.0.1) may run open: only this machine
reaches it. Bound to any other address, the gateway needs API keys and an inference server needs
mutual TLS, unless `ALLOW_UNAUTHENTICATED` (`--allow-unauthenticated`) says it is meant; and a server
that takes API keys there serves TLS, unless `ALLOW_CLEARTEXT` (`--allow-cleartext`) says keys may
cross the network in clear text (a mesh or a tunnel encrypting it, say). The HTTP service applies
the same two rules, with the gateway's keys as its own.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import grpc

from synthmill.common.tls import server_credentials


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class ServerSecurity:
    """Settings every server shares (`SYNTHMILL_<SERVICE>_TLS_*`); each service's settings extend it."""

    tls_cert: Path | None = field(
        default=None, metadata=_doc("PEM certificate chain this server presents; turns on TLS.")
    )
    tls_key: Path | None = field(default=None, metadata=_doc("PEM private key of the TLS certificate."))
    tls_ca: Path | None = field(
        default=None, metadata=_doc("PEM CA that client certificates must chain to; turns on mutual TLS.")
    )
    allow_unauthenticated: bool = field(
        default=False,
        metadata=_doc(
            "Start on a non-loopback address without API keys (gateway) or mutual TLS (inference servers)."
        ),
    )
    allow_cleartext: bool = field(
        default=False,
        metadata=_doc("Start on a non-loopback address with API keys but without TLS (keys in clear text)."),
    )

    def credentials(self, prefix: str) -> grpc.ServerCredentials | None:
        return server_credentials(self.tls_cert, self.tls_key, self.tls_ca, prefix)


class Exposure(Protocol):
    """The two switches of the bind rules, as every server's settings (and the HTTP service's) hold them."""

    allow_unauthenticated: bool
    allow_cleartext: bool


class ExposedWithoutAuth(RuntimeError):
    """A server would listen beyond this machine with nothing checking who calls it."""


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost, or a wildcard such as 0.0.0.0


def check_exposure(service: str, host: str, protected: bool, settings: Exposure, needs: str) -> None:
    """Refuses to start `service` on a non-loopback `host` when it is not `protected`."""
    if protected or settings.allow_unauthenticated or is_loopback(host):
        return
    raise ExposedWithoutAuth(
        f"{service}: refusing to listen on {host} without {needs}; configure it, bind 127.0.0.1, "
        "or pass --allow-unauthenticated"
    )


def check_cleartext(service: str, host: str, keyed: bool, tls: bool, settings: Exposure) -> None:
    """Refuses to start `service` on a non-loopback `host` when callers would send it keys in clear text."""
    if not keyed or tls or settings.allow_cleartext or is_loopback(host):
        return
    raise ExposedWithoutAuth(
        f"{service}: refusing to take API keys in clear text on {host}; set TLS_CERT and TLS_KEY, "
        "bind 127.0.0.1, or pass --allow-cleartext"
    )
