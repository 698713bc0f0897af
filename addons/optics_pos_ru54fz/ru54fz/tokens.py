"""Pairing / central tokens: generated once, shown once, stored salted-hashed.

Stored form: ``sha256$<salt hex>$<sha256(salt + token) hex>``.  ``verify``
compares in constant time and never raises on garbage.
"""
import hashlib
import hmac
import secrets

PREFIX = "sha256"


def generate():
    """A new random token (URL-safe, 32 characters)."""
    return secrets.token_urlsafe(24)


def hash_token(token, salt=None):
    salt = salt if salt is not None else secrets.token_hex(8)
    digest = hashlib.sha256((salt + token).encode()).hexdigest()
    return f"{PREFIX}${salt}${digest}"


def verify(token, stored):
    """True when ``token`` matches the stored hash; constant-time."""
    if not isinstance(token, str) or not isinstance(stored, str) or not token:
        # still spend the time of one comparison
        hmac.compare_digest("x" * 64, "y" * 64)
        return False
    parts = stored.split("$")
    if len(parts) != 3 or parts[0] != PREFIX:
        hmac.compare_digest("x" * 64, "y" * 64)
        return False
    expected = hash_token(token, parts[1]).split("$")[2]
    return hmac.compare_digest(expected, parts[2])
