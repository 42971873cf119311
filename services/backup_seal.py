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
    # The parameters come from the archive: a forged one must not make scrypt take all the
    # memory or time there is (ours are 2**15, 8, 1; allowed up to 2**20, 16, 4).
    n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
    if not (2 <= n <= 2**20 and n & (n - 1) == 0 and 1 <= r <= 16 and 1 <= p <= 4):
        raise ConfigError(f"the backup's key derivation parameters are out of range "
                          f"(n={n}, r={r}, p={p})", source="restore")
    salt = base64.b64decode(kdf["salt"])
    key = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))
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
