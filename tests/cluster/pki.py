# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The lab control plane's PKI, laid out as kubeadm lays out ``/etc/kubernetes/pki``.

One cluster CA signs the API server's serving certificate and every client certificate (admin,
controller-manager, scheduler, the API server's kubelet client, KWOK, the operator identity); a key pair
signs ServiceAccount tokens (``sa.key``/``sa.pub``). Keys are written mode 0600.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from pathlib import Path
from typing import Iterable, Optional, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=365)


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(common_name: str, organizations: Sequence[str] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


class Pki:
    """Create (once) and read the PKI under ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory)

    def path(self, name: str) -> Path:
        return self.dir / name

    def ensure(self, server_names: Iterable[str], server_ips: Iterable[str],
               clients: Iterable[tuple]) -> None:
        """Write ca, apiserver serving, sa key pair and ``clients`` ((file stem, CN, [O...]), ...)."""
        now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
        if not self.path("ca.crt").exists():
            key = _key()
            name = _name("kubernetes")
            cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                    .public_key(key.public_key()).serial_number(x509.random_serial_number())
                    .not_valid_before(now).not_valid_after(now + 10 * VALIDITY)
                    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                    .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                                   critical=True)
                    .sign(key, hashes.SHA256()))
            _write(self.path("ca.key"), _key_pem(key), 0o600)
            _write(self.path("ca.crt"), cert.public_bytes(serialization.Encoding.PEM), 0o644)
        if not self.path("sa.key").exists():
            key = _key()
            _write(self.path("sa.key"), _key_pem(key), 0o600)
            _write(self.path("sa.pub"), key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo), 0o644)
        sans = [x509.DNSName(name) for name in server_names]
        sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in server_ips]
        self._leaf("apiserver", "kube-apiserver", (), now, server=True, sans=sans)
        for stem, common_name, organizations in clients:
            self._leaf(stem, common_name, organizations, now)

    def client(self, stem: str, common_name: str, organizations: Sequence[str] = ()) -> None:
        """Another client certificate signed by the cluster CA (a real node's kubelet or kube-proxy)."""
        now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
        self._leaf(stem, common_name, organizations, now)

    def server(self, stem: str, common_name: str, names: Iterable[str], ips: Iterable[str]) -> None:
        """Another serving certificate signed by the cluster CA (KWOK's kubelet endpoint)."""
        now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
        sans = [x509.DNSName(name) for name in names] + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        self._leaf(stem, common_name, (), now, server=True, sans=sans)

    def _leaf(self, stem: str, common_name: str, organizations: Sequence[str], now,
              server: bool = False, sans: Optional[list] = None) -> None:
        if self.path(stem + ".crt").exists():
            return
        ca_key = serialization.load_pem_private_key(self.path("ca.key").read_bytes(), None)
        ca_cert = x509.load_pem_x509_certificate(self.path("ca.crt").read_bytes())
        key = _key()
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (x509.CertificateBuilder().subject_name(_name(common_name, organizations))
                   .issuer_name(ca_cert.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(now + VALIDITY)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False),
                                  critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        _write(self.path(stem + ".key"), _key_pem(key), 0o600)
        _write(self.path(stem + ".crt"), cert.public_bytes(serialization.Encoding.PEM), 0o644)
