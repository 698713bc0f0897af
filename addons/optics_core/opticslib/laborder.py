"""Lab-order state machine: which transitions exist and which role may do each.

The table is data so that the Odoo model, its tests and the documentation
read the same thing.  Roles are the optics roles of the chain; a user holds
every role implied by their groups (an administrator holds all of them).

    draft -> confirmed -> ordered -> in_production -> quality_check -> ready -> issued
                  \\____________________/^     ^________ qc_fail ________/
    any open state -> cancelled; cancelled -> draft (reopen)
    remake: from quality_check / ready / issued, a NEW order linked to the original
"""

from dataclasses import dataclass

DRAFT = "draft"
CONFIRMED = "confirmed"
ORDERED = "ordered"
IN_PRODUCTION = "in_production"
QUALITY_CHECK = "quality_check"
READY = "ready"
ISSUED = "issued"
CANCELLED = "cancelled"
STATES = (DRAFT, CONFIRMED, ORDERED, IN_PRODUCTION, QUALITY_CHECK, READY, ISSUED, CANCELLED)
FINAL_STATES = (ISSUED, CANCELLED)
OPEN_STATES = tuple(s for s in STATES if s not in FINAL_STATES)
# States in which the order is with the lab: the prescription snapshot exists and is frozen.
FROZEN_STATES = (CONFIRMED, ORDERED, IN_PRODUCTION, QUALITY_CHECK, READY, ISSUED)

CASHIER = "cashier"
OPTICIAN = "optician"  # optician / lab technician (мастер-сборщик)
MANAGER = "manager"  # store manager
ACCOUNTANT = "accountant"
ADMIN = "admin"
ROLES = (CASHIER, OPTICIAN, MANAGER, ACCOUNTANT, ADMIN)


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    action: str
    roles: frozenset


def _t(source, target, action, *roles):
    return Transition(source, target, action, frozenset(roles) | {ADMIN})


TRANSITIONS = (
    _t(DRAFT, CONFIRMED, "confirm", CASHIER, OPTICIAN, MANAGER),
    _t(CONFIRMED, ORDERED, "order", OPTICIAN, MANAGER),
    # A stock lens goes straight to the workshop; an ordered one when it arrives.
    _t(CONFIRMED, IN_PRODUCTION, "start_production", OPTICIAN, MANAGER),
    _t(ORDERED, IN_PRODUCTION, "start_production", OPTICIAN, MANAGER),
    _t(IN_PRODUCTION, QUALITY_CHECK, "to_quality_check", OPTICIAN),
    # Only the lab technician signs the quality check off (or sends it back).
    _t(QUALITY_CHECK, READY, "quality_ok", OPTICIAN),
    _t(QUALITY_CHECK, IN_PRODUCTION, "quality_failed", OPTICIAN),
    _t(READY, ISSUED, "issue", CASHIER, OPTICIAN, MANAGER),
    _t(DRAFT, CANCELLED, "cancel", CASHIER, MANAGER),
    _t(CONFIRMED, CANCELLED, "cancel", MANAGER),
    _t(ORDERED, CANCELLED, "cancel", MANAGER),
    _t(IN_PRODUCTION, CANCELLED, "cancel", MANAGER),
    _t(QUALITY_CHECK, CANCELLED, "cancel", MANAGER),
    _t(READY, CANCELLED, "cancel", MANAGER),
    _t(CANCELLED, DRAFT, "reopen", MANAGER),
)
_BY_PAIR = {(t.source, t.target): t for t in TRANSITIONS}

REMAKE_FROM = (QUALITY_CHECK, READY, ISSUED)
REMAKE_ROLES = frozenset({OPTICIAN, MANAGER, ADMIN})
# The original is cancelled by its remake unless the customer already has it.
REMAKE_CANCELS_ORIGINAL = (QUALITY_CHECK, READY)


class TransitionError(Exception):
    """``code`` is 'unknown_state', 'not_allowed' (no such transition) or 'forbidden' (role)."""

    def __init__(self, code, source, target, roles=()):
        self.code, self.source, self.target, self.roles = code, source, target, frozenset(roles)
        super().__init__(f"{code}: {source} -> {target}")


def check_transition(source, target, roles):
    """The :class:`Transition` if ``roles`` may move an order from source to target, else raise."""
    if source not in STATES or target not in STATES:
        raise TransitionError("unknown_state", source, target, roles)
    transition = _BY_PAIR.get((source, target))
    if transition is None:
        raise TransitionError("not_allowed", source, target, roles)
    if not transition.roles & frozenset(roles):
        raise TransitionError("forbidden", source, target, roles)
    return transition


def is_allowed(source, target, roles):
    try:
        check_transition(source, target, roles)
    except TransitionError:
        return False
    return True


def targets(source, roles):
    """States the holder of ``roles`` may move an order to from ``source``."""
    roles = frozenset(roles)
    return tuple(t.target for t in TRANSITIONS if t.source == source and t.roles & roles)


def roles_for(source, target):
    transition = _BY_PAIR.get((source, target))
    return transition.roles if transition else frozenset()


def check_remake(source, roles):
    """Raise :class:`TransitionError` unless ``roles`` may remake an order in ``source``."""
    if source not in REMAKE_FROM:
        raise TransitionError("not_allowed", source, "remake", roles)
    if not REMAKE_ROLES & frozenset(roles):
        raise TransitionError("forbidden", source, "remake", roles)
