"""A throwaway self-signed certificate for the rig's daemons (openssl, never the machine's)."""

from __future__ import annotations

from pathlib import Path

from tests.rig.base import need, run

RIG_HOSTNAME = "mail.rig.test"


def make_cert(dir: Path, cn: str = RIG_HOSTNAME) -> tuple[Path, Path]:
    cert, key = dir / "cert.pem", dir / "key.pem"
    if not cert.exists():
        run(
            [
                need("openssl"),
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "30",
                "-subj",
                f"/CN={cn}",
                "-addext",
                f"subjectAltName=DNS:{cn}",
                "-keyout",
                str(key),
                "-out",
                str(cert),
            ]
        )
        key.chmod(0o600)
    return cert, key
