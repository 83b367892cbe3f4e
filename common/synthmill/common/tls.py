"""TLS for every hop: the one place that turns certificate files into gRPC credentials.

A server with a certificate and key serves TLS; adding a CA requires every client to present a
certificate that chains to it (mutual TLS), which is how the inference servers accept only the
gateway. A client with a CA verifies the server; adding a certificate and key lets it prove itself.
With no files configured, servers and channels stay in clear text, as on 127.0.0.1 by default.
"""

from __future__ import annotations

from pathlib import Path

import grpc


class TlsConfigError(ValueError):
    """A certificate setting is incomplete or a file cannot be read; the message names the setting."""


def _read(path: Path | None, name: str) -> bytes | None:
    if path is None:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise TlsConfigError(f"{name}: cannot read {path}: {exc.strerror}") from None


def server_credentials(
    cert: Path | None, key: Path | None, ca: Path | None, prefix: str = ""
) -> grpc.ServerCredentials | None:
    """TLS (and, with `ca`, mutual TLS) credentials for a server; None when no certificate is set."""
    if cert is None and key is None:
        if ca is not None:
            raise TlsConfigError(f"{prefix}TLS_CA needs {prefix}TLS_CERT and {prefix}TLS_KEY")
        return None
    if cert is None or key is None:
        raise TlsConfigError(f"{prefix}TLS_CERT and {prefix}TLS_KEY go together")
    pair = (_read(key, f"{prefix}TLS_KEY"), _read(cert, f"{prefix}TLS_CERT"))
    roots = _read(ca, f"{prefix}TLS_CA")
    return grpc.ssl_server_credentials([pair], root_certificates=roots, require_client_auth=roots is not None)


def channel_credentials(
    ca: Path | None, cert: Path | None = None, key: Path | None = None, prefix: str = ""
) -> grpc.ChannelCredentials | None:
    """Credentials for a channel to a TLS server; None (clear text) when nothing is set. `ca` alone
    verifies the server; `cert` and `key` add this side's certificate for mutual TLS."""
    if ca is None and cert is None and key is None:
        return None
    if (cert is None) != (key is None):
        raise TlsConfigError(f"{prefix}TLS_CERT and {prefix}TLS_KEY go together")
    return grpc.ssl_channel_credentials(
        root_certificates=_read(ca, f"{prefix}TLS_CA"),
        private_key=_read(key, f"{prefix}TLS_KEY"),
        certificate_chain=_read(cert, f"{prefix}TLS_CERT"),
    )


def aio_channel(
    target: str, credentials: grpc.ChannelCredentials | None, options=(), interceptors=None
) -> grpc.aio.Channel:
    if credentials is None:
        return grpc.aio.insecure_channel(target, options=options, interceptors=interceptors)
    return grpc.aio.secure_channel(target, credentials, options=options, interceptors=interceptors)


def sync_channel(target: str, credentials: grpc.ChannelCredentials | None, options=()) -> grpc.Channel:
    if credentials is None:
        return grpc.insecure_channel(target, options=options)
    return grpc.secure_channel(target, credentials, options=options)
