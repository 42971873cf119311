"""The installation's keys sealed with a passphrase for a backup: ``cryptography``'s Fernet
(AES-128-CBC with an HMAC-SHA256 over it, so a wrong passphrase or a changed byte is refused,
never decrypted into garbage), its key derived from the passphrase by scrypt (2**15, 8, 1:
32 MiB and about a tenth of a second a guess) with a random salt kept in the manifest.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from domain.errors import ConfigError

PASSPHRASE_ENV = "PETITIONS_BACKUP_PASSPHRASE"
_N, _R, _P = 2**15, 8, 1


def _fernet(passphrase: str, kdf: dict[str, Any]) -> Fernet:
    salt = base64.b64decode(kdf["salt"])
    key = Scrypt(salt=salt, length=32, n=int(kdf["n"]), r=int(kdf["r"]),
                 p=int(kdf["p"])).derive(passphrase.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secrets: dict[str, str], passphrase: str) -> tuple[bytes, dict[str, Any]]:
    """``secrets`` (file name → content) encrypted, and the KDF's parameters to keep."""
    if not passphrase:
        raise ConfigError("the backup passphrase is empty", source=PASSPHRASE_ENV)
    kdf = {"name": "scrypt", "n": _N, "r": _R, "p": _P,
           "salt": base64.b64encode(os.urandom(16)).decode("ascii")}
    token = _fernet(passphrase, kdf).encrypt(json.dumps(secrets).encode("utf-8"))
    return token, kdf


def unseal(token: bytes, kdf: dict[str, Any], passphrase: str) -> dict[str, str]:
    """The secrets back; a wrong passphrase is one ``ConfigError`` line."""
    try:
        data = _fernet(passphrase, kdf).decrypt(token)
    except InvalidToken:
        raise ConfigError("wrong passphrase: the backup's keys do not open with it",
                          source="restore") from None
    found: dict[str, str] = json.loads(data)
    return found
