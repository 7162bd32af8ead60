"""Secrets and hashes: authors' manage links, and keyed hashes of client addresses.

A manage token is derived from a random nonce (stored) and the app's secret key (not
stored): the app can mail a link again, but a copy of the database alone cannot. Only the
token's hash is looked up, so the lookup's timing says nothing about the token.
"""

import base64
import hashlib
import hmac
import secrets

NONCE_BYTES = 32  # 256 bits of randomness, far beyond guessing


def _derive(nonce: str, key: str) -> str:
    digest = hmac.new(key.encode(), f"manage:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_manage_token(key: str) -> tuple[str, str, str]:
    """A fresh token with the nonce and the hash to store for it."""
    nonce = secrets.token_urlsafe(NONCE_BYTES)
    token = _derive(nonce, key)
    return token, nonce, hash_token(token)


def manage_token(nonce: str, key: str) -> str:
    """The token a stored nonce stands for."""
    return _derive(nonce, key)


def hash_token(token: str) -> str:
    """The stored form of a token; lookups go by this hash."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def client_hash(address: str | None, key: str) -> str:
    """A keyed hash of a client's network address: blockable and countable, not readable."""
    return hmac.new(key.encode(), (address or "unknown").encode(), hashlib.sha256).hexdigest()
