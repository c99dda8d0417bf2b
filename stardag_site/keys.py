"""Development-only generation of secrets that must be shared by every server process.

In production (``DEBUG=0``) the settings refuse to start without configured keys. In development
the first process to start generates the secret and writes it with ``O_EXCL``, so concurrent
gunicorn workers never end up with different keys: whoever loses the race reads the winner's file.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Literal


def generate_rsa_private_key_pem(bits: int = 2048) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def load_or_create_dev_secret(path: Path, *, kind: Literal["secret", "rsa"]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        value = generate_rsa_private_key_pem() if kind == "rsa" else secrets.token_urlsafe(50)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(value)
            return value
    # Another process created it: wait until its content is complete.
    for _ in range(50):
        content = path.read_text()
        if content.strip():
            return content
        time.sleep(0.05)
    return path.read_text()
