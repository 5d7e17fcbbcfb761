"""HTTPS for tablets on the LAN: a local CA and a server certificate, made once under DATA_ROOT/tls/.

The CA (10 years) signs a server certificate (825 days, the most browsers accept) whose SANs name the host,
`localhost`, the machine's addresses, and any extra names given (`--tls-name`, A3CP_TLS_NAMES: e.g. the
Docker host's LAN address, which a container cannot see). Both are reused while present and valid for the
same names; a given `--tls-cert/--tls-key` pair is used as it is. The CA's SHA-256 fingerprint lets a
person check the file they install on a tablet (README: "use it from a tablet").
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from a3cp.config import Settings
from a3cp.storage_layout import tls_dir

CA_DAYS = 3650
SERVER_DAYS = 825
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"({_LABEL}\.)*{_LABEL}")  # RFC 1123 host names


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path
    ca_cert: Path | None  # None when the certificate was given, not generated
    ca_fingerprint: str | None  # SHA-256 of the CA certificate, colon-separated hex


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def machine_addresses() -> list[IPAddress]:
    """Loopback plus the addresses this host's name resolves to (no network traffic)."""
    found: set[IPAddress] = {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            found.add(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
    except (OSError, ValueError):
        pass
    return sorted(found, key=_address_order)


def _address_order(address: IPAddress) -> tuple[int, int]:
    return address.version, int(address)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _load_ca(cert_path: Path, key_path: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey) and cert.not_valid_after_utc > _now():
            return cert, key
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"A3CP local CA ({socket.gethostname()})")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, _key_pem(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _split_names(names: Iterable[str]) -> tuple[set[str], set[IPAddress]]:
    """Host names and IP addresses, apart; a name that is neither is refused, naming it."""
    dns: set[str] = set()
    addresses: set[IPAddress] = set()
    for name in (name.strip() for name in names):
        try:
            addresses.add(ipaddress.ip_address(name))
        except ValueError:
            if not _HOST_NAME.fullmatch(name):
                raise ValueError(f"TLS name {name!r} is neither a host name nor an IP address") from None
            dns.add(name.lower())
    return dns, addresses


def _server_names(host: str, extra_names: Iterable[str]) -> list[x509.GeneralName]:
    dns, addresses = _split_names(extra_names)
    dns |= {"localhost", socket.gethostname()}
    addresses |= set(machine_addresses())
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if host not in {"", "0.0.0.0", "::"}:
            dns.add(host)
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in sorted(dns) if name]
    names += [x509.IPAddress(address) for address in sorted(addresses, key=_address_order)]
    return names


def _server_is_current(cert_path: Path, ca: x509.Certificate, names: list[x509.GeneralName]) -> bool:
    if not cert_path.exists():
        return False
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    try:
        cert.verify_directly_issued_by(ca)  # a regenerated CA keeps its name but not its key
    except (ValueError, TypeError, InvalidSignature):
        return False
    renew_by = cert.not_valid_after_utc - dt.timedelta(days=30)
    return set(sans) >= set(names) and renew_by > _now()


def _issue_server(
    ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, names: list[x509.GeneralName]
) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "A3CP server")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def ensure_local_certificate(settings: Settings, host: str, extra_names: Iterable[str] = ()) -> TlsFiles:
    """The generated CA and a server certificate for `host` and `extra_names` (made now only if missing,
    outdated, or not naming them all)."""
    names = _server_names(host, extra_names)  # a bad name is refused before anything is made
    directory = tls_dir(settings)
    ca_cert_path, ca_key_path = directory / "ca.pem", directory / "ca-key.pem"
    cert_path, key_path = directory / "server.pem", directory / "server-key.pem"
    ca, ca_key = _load_ca(ca_cert_path, ca_key_path)
    if not _server_is_current(cert_path, ca, names):
        cert_pem, key_pem = _issue_server(ca, ca_key, names)
        _write_private(key_path, key_pem)
        cert_path.write_bytes(cert_pem)
    return TlsFiles(cert_path, key_path, ca_cert_path, fingerprint(ca))


def tls_files(
    settings: Settings, host: str, cert: Path | None, key: Path | None, extra_names: Iterable[str] = ()
) -> TlsFiles:
    """The given certificate and key, or the generated local ones (naming `extra_names` too) when neither
    is given."""
    if cert is None and key is None:
        return ensure_local_certificate(settings, host, extra_names)
    if cert is None or key is None:
        raise ValueError("--tls-cert and --tls-key go together")
    return TlsFiles(cert, key, None, None)
