"""The keys sealed for a backup (services/backup_seal.py) and a backup's name."""

from __future__ import annotations

import pendulum
import pytest

from domain.errors import ConfigError
from services.backup import file_name
from services.backup_seal import seal, unseal


def test_sealed_keys_open_with_their_passphrase_only_and_hold_nothing_in_clear():
    keys = {"audit-key": "a" * 64, "query-key": "查询密钥"}
    token, kdf = seal(keys, "口令 one")
    assert b"aaaa" not in token and kdf["name"] == "scrypt"
    assert unseal(token, kdf, "口令 one") == keys
    with pytest.raises(ConfigError, match="wrong passphrase"):
        unseal(token, kdf, "口令 two")
    other, kdf2 = seal(keys, "口令 one")
    assert kdf2["salt"] != kdf["salt"] and other != token  # a fresh salt each time
    with pytest.raises(ConfigError, match="passphrase is empty"):
        seal(keys, "")


def test_a_backup_is_named_by_the_local_time():
    assert file_name(pendulum.datetime(2026, 12, 3, 18, 30, 5)) == \
        "petitions-backup-20261204-023005.tar"


def test_a_forged_key_derivation_cannot_make_restore_eat_the_machine():
    token, kdf = seal({"audit-key": "k"}, "pass phrase")
    for forged in ({**kdf, "n": 2**30}, {**kdf, "r": 1024}, {**kdf, "p": 64}, {**kdf, "n": 3}):
        with pytest.raises(ConfigError, match="out of range"):
            unseal(token, forged, "pass phrase")
