"""Secret manage links for authors: only a hash of each token is stored."""

import hashlib
import secrets

TOKEN_BYTES = 32  # 256 bits of randomness, far beyond guessing


def new_manage_token() -> tuple[str, str]:
    """A fresh URL-safe token and the hash to store for it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    """The stored form of a token; lookups go by this hash, so timing reveals nothing."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
