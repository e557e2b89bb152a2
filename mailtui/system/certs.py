"""Certificates the daemons are configured with: subject names and expiry.

Paths come from ``postconf`` (``smtpd_tls_cert_file``, ``smtpd_tls_chain_files``) and
``doveconf`` (``ssl_cert = </path`` in 2.3, ``ssl_server_cert_file`` in 2.4). Only the
first (leaf) certificate of each file is read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from mailtui.core.files import read_capped

MAX_PEM_BYTES = 1 << 20


@dataclass
class CertInfo:
    path: str
    used_by: str  # "postfix smtpd_tls_cert_file", "dovecot ssl_cert", ...
    subject: str = ""
    names: list[str] = field(default_factory=list)
    not_after: float | None = None
    error: str = ""

    def days_left(self, now: float | None = None) -> float | None:
        return None if self.not_after is None else (self.not_after - (now or time.time())) / 86400

    def to_dict(self) -> dict[str, Any]:
        days = self.days_left()
        return {
            "path": self.path,
            "used_by": self.used_by,
            "subject": self.subject,
            "names": self.names,
            "not_after": self.not_after,
            "days_left": None if days is None else round(days, 1),
            "error": self.error,
        }


def describe_certificate(cert: Any) -> tuple[str, list[str], float]:
    """(subject CN, DNS names of the SAN, notAfter epoch) of a cryptography certificate."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    subject = str(cns[0].value) if cns else cert.subject.rfc4514_string()
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = [str(n) for n in san.value.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        names = []
    return subject, names, cert.not_valid_after_utc.timestamp()


def read_certificate(path: str, used_by: str) -> CertInfo:
    from cryptography import x509

    info = CertInfo(path, used_by)
    try:
        data = read_capped(path, MAX_PEM_BYTES)
    except PermissionError:
        info.error = "not readable (run as root or join the group that owns it)"
        return info
    except OSError as exc:
        info.error = exc.strerror or str(exc)
        return info
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        info.error = "no PEM certificate in this file"
        return info
    info.subject, info.names, info.not_after = describe_certificate(certs[0])
    return info


def configured_certificates(postfix_values: dict[str, str], dovecot_values: dict[str, str]) -> list[tuple[str, str]]:
    """(path, used_by) for every certificate file the configuration names, without duplicates."""
    out: dict[str, str] = {}
    for name in ("smtpd_tls_cert_file", "smtpd_tls_eccert_file", "smtpd_tls_chain_files"):
        for path in postfix_values.get(name, "").replace(",", " ").split():
            if path.endswith((".pem", ".crt", ".cert")) or name != "smtpd_tls_chain_files":
                out.setdefault(path, f"postfix {name}")
    for name in ("ssl_cert", "ssl_alt_cert", "ssl_server_cert_file"):
        value = dovecot_values.get(name, "").strip()
        if value:
            out.setdefault(value.removeprefix("<").strip(), f"dovecot {name}")
    return [(p, u) for p, u in out.items() if p and p != "none"]
