"""Real certificates for the TLS tests, made with trustme: one CA, a server certificate for
127.0.0.1/localhost, and the gateway's client certificate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class Pem:
    cert: Path
    key: Path


@dataclass(frozen=True)
class Certs:
    ca: Path
    server: Pem
    client: Pem
    other_ca: Path  # a CA nobody here uses: trusting it alone must fail


def _leaf(ca: trustme.CA, folder: Path, name: str, *hosts: str) -> Pem:
    leaf = ca.issue_cert(*hosts)
    pem = Pem(folder / f"{name}.pem", folder / f"{name}.key")
    leaf.cert_chain_pems[0].write_to_path(str(pem.cert))
    leaf.private_key_pem.write_to_path(str(pem.key))
    return pem


def make_certs(folder: Path) -> Certs:
    ca, other = trustme.CA(), trustme.CA()
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    other.cert_pem.write_to_path(str(folder / "other-ca.pem"))
    return Certs(
        ca=folder / "ca.pem",
        server=_leaf(ca, folder, "server", "localhost", "127.0.0.1"),
        client=_leaf(ca, folder, "gateway-client", "gateway.synthmill.internal"),
        other_ca=folder / "other-ca.pem",
    )
