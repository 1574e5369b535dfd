"""Workspace keys: a public write key for SDKs and a secret App API key stored only as a hash."""

import hashlib
import secrets

WRITE_KEY_PREFIX = "wk_"
API_KEY_PREFIX = "sk_"


def new_write_key() -> str:
    return WRITE_KEY_PREFIX + secrets.token_urlsafe(24)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    # The key has 256 bits of entropy, so a fast hash is enough (no brute-force risk) and
    # keeps API authentication to one indexed lookup.
    return hashlib.sha256(key.encode()).hexdigest()
