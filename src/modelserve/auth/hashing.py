"""API key secrets: generation, the digests stored at rest, and constant-time verification.

A key is `msk-` + 32 URL-safe characters (192 random bits). The store keeps, per key, a random
salt and SHA-256(salt + key), plus an unsalted, truncated SHA-256 `lookup` digest that finds the
candidate row without a scan; never the key. Imports nothing from the project.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

KEY_PREFIX = "msk-"
_RANDOM_BYTES = 24  # token_urlsafe(24) is exactly 32 characters
KEY_LENGTH = len(KEY_PREFIX) + 32
_LOOKUP_HEX = 32  # 128 bits of the unsalted digest: an index, not the verifier


@dataclass(frozen=True)
class KeyDigests:
    """What is stored for one key: index digest, salt, salted hash and a short display hint."""

    lookup: str
    salt: str
    key_hash: str
    hint: str


def new_secret() -> str:
    """A fresh key: `msk-` + 32 URL-safe random characters."""
    return KEY_PREFIX + secrets.token_urlsafe(_RANDOM_BYTES)


def looks_like_key(value: str) -> bool:
    """Whether `value` has the shape of a key (cheap pre-check before any lookup)."""
    return len(value) == KEY_LENGTH and value.startswith(KEY_PREFIX)


def lookup_digest(secret: str) -> str:
    """The indexed digest used to find a key's row (and to cache lookups without the key)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:_LOOKUP_HEX]


def salted_hash(secret: str, salt: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()


def hint(secret: str) -> str:
    """What lists show to tell keys apart: the prefix and the last four characters."""
    return f"{KEY_PREFIX}...{secret[-4:]}"


def digests(secret: str) -> KeyDigests:
    """The values to store for a new key (a fresh salt each time)."""
    salt = secrets.token_hex(16)
    return KeyDigests(lookup_digest(secret), salt, salted_hash(secret, salt), hint(secret))


def verify(secret: str, salt: str, key_hash: str) -> bool:
    """Whether `secret` hashes to `key_hash` under `salt`, compared in constant time."""
    return hmac.compare_digest(salted_hash(secret, salt), key_hash)
