"""Manager grants: a store manager's short-lived, single-use permission for one
manager-only till action, signed by central and checked by the till OFFLINE.

Why: every cashier's browser holds the till's pairing token (the POS calls the
till directly), so the token cannot tell a cashier from a store manager.  The
manager-only actions (``close_shift``, ``cash_out``, ``correction`` and the
``refund_override`` of a refund whose original cannot be verified) therefore
also need a grant:

* central issues it (``pos.config.ru54fz_issue_manager_grant``) only to a user
  of the store-manager group who may use that point of sale, after checking the
  manager's own login and password on the server;
* central signs it with an Ed25519 private key that never leaves central; the
  till holds only the public key, so it checks a grant without the network and
  a stolen till PC cannot mint grants;
* a grant names one till, one action, the manager, an expiry and a nonce.  The
  till accepts a nonce for one operation (one uuid) only: the POS may repeat the
  same operation after a lost reply (exactly-once retries), nothing else.

Wire form (HTTP header ``X-Till-Grant``)::

    v1.<base64url(JSON claims)>.<base64url(Ed25519 signature of "v1.<claims>")>

claims = ``{"till", "act", "uid", "user", "iat", "exp", "nonce"}`` (unix seconds).
"""

import base64
import json
import secrets
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from . import errors

VERSION = "v1"
#: the manager-only till actions a grant can be issued for
ACTIONS = ("close_shift", "cash_out", "correction", "refund_override")
DEFAULT_TTL = 300  # seconds: the manager confirms, the POS calls the till at once
MAX_TTL = 900  # a till refuses a grant valid for longer, whatever its signature
CLOCK_LEEWAY = 300  # till and central clocks may differ (the legal KKT tolerance is 5 min)
MAX_GRANT_CHARS = 2048


class GrantRefused(errors.FiscalError):
    """A store manager's grant is required for this operation."""

    code = "manager_grant_required"
    http_status = 403


def _b64e(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64d(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_keypair():
    """A new ``(private_b64, public_b64)`` pair (raw 32-byte keys, standard base64)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(private).decode(), base64.b64encode(public).decode()


def public_from_private(private_b64):
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def issue(private_b64, till_code, action, user, uid=0, ttl=DEFAULT_TTL, now=None, nonce=None):
    """Sign a grant (central side).  Returns ``(token, claims)``."""
    if action not in ACTIONS:
        raise ValueError(f"unknown manager action {action!r}")
    if not till_code:
        raise ValueError("a grant names its till")
    now = int(time.time() if now is None else now)
    claims = {
        "till": till_code,
        "act": action,
        "uid": int(uid or 0),
        "user": str(user or "")[:64],
        "iat": now,
        "exp": now + int(min(ttl, MAX_TTL)),
        "nonce": nonce or secrets.token_hex(16),
    }
    body = f"{VERSION}.{_b64e(json.dumps(claims, separators=(',', ':'), ensure_ascii=False).encode())}"
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
    return f"{body}.{_b64e(key.sign(body.encode()))}", claims


def verify(token, public_b64, till_code, action, now=None):
    """The claims of a valid grant for ``action`` on ``till_code``; ``GrantRefused``
    with the precise reason otherwise.  Does not look at the nonce (the till's
    journal keeps the used ones: ``Journal.use_grant``)."""
    if not token:
        raise GrantRefused(
            f"{action} needs a store manager's grant (X-Till-Grant)", action=action, reason="missing"
        )
    if not public_b64:
        raise GrantRefused(
            "this till has no manager-grant key configured: manager actions are refused",
            action=action,
            reason="no_key",
        )
    if not isinstance(token, str) or len(token) > MAX_GRANT_CHARS or token.count(".") != 2:
        raise GrantRefused("the manager grant is malformed", action=action, reason="malformed")
    version, body, signature = token.split(".")
    if version != VERSION:
        raise GrantRefused("the manager grant is malformed", action=action, reason="malformed")
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64))
        public.verify(_b64d(signature), f"{version}.{body}".encode())
    except (InvalidSignature, ValueError, TypeError):
        raise GrantRefused(
            "the manager grant's signature is not valid", action=action, reason="bad_signature"
        ) from None
    try:
        claims = json.loads(_b64d(body))
    except ValueError:
        raise GrantRefused("the manager grant is malformed", action=action, reason="malformed") from None
    if not isinstance(claims, dict):
        raise GrantRefused("the manager grant is malformed", action=action, reason="malformed")
    if claims.get("till") != till_code:
        raise GrantRefused(
            f"the manager grant is for till {claims.get('till')!r}, not {till_code!r}",
            action=action,
            reason="other_till",
        )
    if claims.get("act") != action:
        raise GrantRefused(
            f"the manager grant is for {claims.get('act')!r}, not {action!r}",
            action=action,
            reason="other_action",
        )
    now = time.time() if now is None else now
    iat, exp, nonce = claims.get("iat"), claims.get("exp"), claims.get("nonce")
    if (
        not all(isinstance(v, int) and not isinstance(v, bool) for v in (iat, exp))
        or not isinstance(nonce, str)
        or not 16 <= len(nonce) <= 64
    ):
        raise GrantRefused("the manager grant is malformed", action=action, reason="malformed")
    if exp - iat > MAX_TTL or iat > now + CLOCK_LEEWAY:
        raise GrantRefused(
            "the manager grant's validity is not acceptable", action=action, reason="bad_validity"
        )
    if exp + 60 < now:  # a minute's grace for the two clocks
        raise GrantRefused(
            "the manager grant has expired: ask for a new one", action=action, reason="expired"
        )
    return claims
