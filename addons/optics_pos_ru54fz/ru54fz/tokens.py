"""Pairing / central tokens: generated once, shown once, stored salted-hashed.

Stored form: ``sha256$<salt hex>$<sha256(salt + token) hex>``.  ``verify``
compares in constant time and never raises on garbage.
"""

import hashlib
import hmac
import re
import secrets
import time

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


# -- per-session tokens (issue 12, item 10) ---------------------------------------------------
#
# Central never stores the raw pairing token.  What it hands a POS (and uses itself for the back
# office) is a token derived from a per-till key:
#
#     key   = HMAC-SHA256(central secret, "ru54fz-session-key" NUL till_code NUL pairing hash)
#     token = "st1.<subject>.<expires unix>.<HMAC-SHA256(key, till_code NUL "st1.<subject>.<expires>")>"
#
# The subject says whom it was issued to (``pos<session id>`` or ``bo`` for the back office).
# A new pairing token changes the key, so every token derived from the old one dies with it;
# a stolen token dies at its expiry (and, on a central-served till, with its POS session).

SESSION_PREFIX = "st1"
_SUBJECT_RE = re.compile(r"^[a-z0-9]{1,32}$")


def derive_session_key(secret, till_code, pairing_hash):
    """The key a till checks session tokens with (hex); empty when the till is not paired."""
    if not secret or not till_code or not pairing_hash:
        return ""
    msg = f"ru54fz-session-key\x00{till_code}\x00{pairing_hash}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def _session_mac(key, till_code, payload):
    return hmac.new(key.encode(), f"{till_code}\x00{payload}".encode(), hashlib.sha256).hexdigest()


def issue_session_token(key, till_code, subject, expires_at):
    """A token for ``subject`` valid until ``expires_at`` (unix seconds)."""
    if not key:
        raise ValueError("the till is not paired: no session key")
    if not _SUBJECT_RE.match(subject or ""):
        raise ValueError(f"invalid token subject {subject!r}")
    payload = f"{SESSION_PREFIX}.{subject}.{int(expires_at)}"
    return f"{payload}.{_session_mac(key, till_code, payload)}"


def check_session_token(token, key, till_code, now=None):
    """The subject of a valid, unexpired session token for this till and key, else None
    (constant-time on the MAC; never raises on garbage)."""
    if not isinstance(token, str) or not key or len(token) > 200:
        return None
    parts = token.split(".")
    if (
        len(parts) != 4
        or parts[0] != SESSION_PREFIX
        or not _SUBJECT_RE.match(parts[1])
        or not parts[2].isdigit()
        or len(parts[2]) > 12
    ):
        return None
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(_session_mac(key, till_code, payload), parts[3]):
        return None
    if int(parts[2]) <= (time.time() if now is None else now):
        return None
    return parts[1]
