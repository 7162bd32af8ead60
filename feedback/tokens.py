"""Secrets and hashes: authors' manage links, and keyed hashes of client addresses."""

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32  # 256 bits of randomness, far beyond guessing


def new_manage_token() -> tuple[str, str]:
    """A fresh URL-safe token and the hash to store for it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    """The stored form of a token; lookups go by this hash, so timing reveals nothing."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def client_hash(address: str | None, key: str) -> str:
    """A keyed hash of a client's network address: blockable and countable, not readable."""
    return hmac.new(key.encode(), (address or "unknown").encode(), hashlib.sha256).hexdigest()
