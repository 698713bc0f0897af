"""Lab-order state machine: every allowed and every forbidden transition, by role."""

import itertools

import pytest
from opticslib import laborder as lo

ALLOWED = {
    ("draft", "confirmed"): {"cashier", "optician", "manager", "admin"},
    ("confirmed", "ordered"): {"optician", "manager", "admin"},
    ("confirmed", "in_production"): {"optician", "manager", "admin"},
    ("ordered", "in_production"): {"optician", "manager", "admin"},
    ("in_production", "quality_check"): {"optician", "admin"},
    ("quality_check", "ready"): {"optician", "admin"},
    ("quality_check", "in_production"): {"optician", "admin"},
    ("ready", "issued"): {"cashier", "optician", "manager", "admin"},
    ("draft", "cancelled"): {"cashier", "manager", "admin"},
    ("confirmed", "cancelled"): {"manager", "admin"},
    ("ordered", "cancelled"): {"manager", "admin"},
    ("in_production", "cancelled"): {"manager", "admin"},
    ("quality_check", "cancelled"): {"manager", "admin"},
    ("ready", "cancelled"): {"manager", "admin"},
    ("cancelled", "draft"): {"manager", "admin"},
}
PAIRS = list(itertools.product(lo.STATES, lo.STATES))


@pytest.mark.parametrize("role", lo.ROLES)
@pytest.mark.parametrize("source,target", PAIRS)
def test_every_pair_for_every_role(role, source, target):
    expected = role in ALLOWED.get((source, target), set())
    assert lo.is_allowed(source, target, {role}) is expected
    if expected:
        assert lo.check_transition(source, target, {role}).target == target
    else:
        with pytest.raises(lo.TransitionError) as exc:
            lo.check_transition(source, target, {role})
        assert exc.value.code == ("forbidden" if (source, target) in ALLOWED else "not_allowed")


def test_table_matches_the_documented_set():
    assert {(t.source, t.target): set(t.roles) for t in lo.TRANSITIONS} == ALLOWED


def test_accountant_moves_nothing_and_final_states_are_final():
    for state in lo.STATES:
        assert lo.targets(state, {"accountant"}) == ()
    assert lo.targets("issued", set(lo.ROLES)) == ()
    assert lo.targets("cancelled", {"cashier"}) == ()


def test_roles_combine():
    assert lo.is_allowed("quality_check", "ready", {"cashier", "optician"})
    assert not lo.is_allowed("quality_check", "ready", {"cashier", "manager"})


def test_unknown_state():
    with pytest.raises(lo.TransitionError) as exc:
        lo.check_transition("draft", "teleported", {"admin"})
    assert exc.value.code == "unknown_state"


@pytest.mark.parametrize("state", lo.STATES)
@pytest.mark.parametrize("role", lo.ROLES)
def test_remake(state, role):
    allowed = state in ("quality_check", "ready", "issued") and role in ("optician", "manager", "admin")
    if allowed:
        lo.check_remake(state, {role})
    else:
        with pytest.raises(lo.TransitionError):
            lo.check_remake(state, {role})
