"""Prescription value rules: every field just inside / just outside, both eyes, both notations."""

from decimal import Decimal

import pytest
from opticslib import rx

EYES = ("od", "os")

# field -> (just-inside values, just-outside values, extra values needed to make the field relevant)
BOUNDS = {
    "sph": (["-30.00", "30.00", "0"], ["-30.25", "30.25"], {}),
    "cyl": (["-10.00", "10.00"], ["-10.25", "10.25"], {"axis": 90}),
    "axis": ([1, 180], [181, -1], {"cyl": "-1.00"}),
    "add": (["0.50", "4.00"], ["0.25", "4.25"], {}),
    "prism1": (["0.25", "10.00"], ["10.25", "-0.25"], {"prism1_base": "up"}),
    "pd_far": (["20.0", "40.0"], ["19.5", "40.5"], {}),
    "pd_near": (["20.0", "40.0"], ["19.5", "40.5"], {}),
    "fitting_height": (["10.0", "40.0"], ["9.5", "40.5"], {}),
    "va_sc": (["0.01", "2.00"], ["2.01", "-0.01"], {}),
    "va_cc": (["0.01", "2.00"], ["2.01", "-0.01"], {}),
    "bc": (["7.00", "10.50"], ["6.95", "10.55"], {}),
    "dia": (["8.0", "16.0"], ["7.9", "16.1"], {}),
}
STEP_ERRORS = {
    "sph": "-2.10",
    "cyl": "-1.10",
    "add": "1.10",
    "prism1": "0.30",
    "pd_far": "30.2",
    "fitting_height": "20.3",
    "bc": "8.62",
    "dia": "14.15",
}


@pytest.mark.parametrize("eye", EYES)
@pytest.mark.parametrize("field", sorted(BOUNDS))
def test_just_inside_is_accepted(eye, field):
    inside, _outside, extra = BOUNDS[field]
    for value in inside:
        values = dict(extra, **{field: value})
        errors = rx.validate_eye(eye, values)
        assert errors == [], (field, value, [e.message for e in errors])


@pytest.mark.parametrize("eye", EYES)
@pytest.mark.parametrize("field", sorted(BOUNDS))
def test_just_outside_names_field_eye_and_range(eye, field):
    _inside, outside, extra = BOUNDS[field]
    rule = rx.EYE_RULES[field]
    for value in outside:
        values = dict(extra, **{field: value})
        errors = [e for e in rx.validate_eye(eye, values) if e.field == field]
        assert [e.code for e in errors] == ["range"], (field, value)
        err = errors[0]
        assert err.eye == eye
        assert err.rule.minimum == rule.minimum and err.rule.maximum == rule.maximum
        msg = err.message
        assert rx.EYE_NAMES[eye] in msg and rule.label in msg
        assert rule.fmt(rule.minimum) in msg and rule.fmt(rule.maximum) in msg


@pytest.mark.parametrize("eye", EYES)
@pytest.mark.parametrize("field,value", sorted(STEP_ERRORS.items()))
def test_off_step_is_rejected(eye, field, value):
    extra = dict(BOUNDS[field][2])
    errors = [e for e in rx.validate_eye(eye, dict(extra, **{field: value})) if e.field == field]
    assert [e.code for e in errors] == ["step"]
    assert "steps of" in errors[0].message


@pytest.mark.parametrize("eye", EYES)
def test_axis_required_iff_cylinder(eye):
    assert [e.code for e in rx.validate_eye(eye, {"sph": "-1", "cyl": "-0.25"})] == ["axis_required"]
    assert [e.code for e in rx.validate_eye(eye, {"sph": "-1", "cyl": "+0.25"})] == ["axis_required"]
    assert [e.code for e in rx.validate_eye(eye, {"sph": "-1", "cyl": "0", "axis": 90})] == ["axis_forbidden"]
    assert rx.validate_eye(eye, {"sph": "-1", "cyl": "0"}) == []
    assert rx.validate_eye(eye, {"sph": "-1", "cyl": "-0.25", "axis": 180}) == []


@pytest.mark.parametrize("eye", EYES)
@pytest.mark.parametrize("notation_cyl", ["-2.00", "+2.00"])
def test_both_notations_sph_bounds(eye, notation_cyl):
    # minus-cyl: SPH itself is the extreme meridian; plus-cyl: SPH + CYL is checked after transposition.
    cyl = Decimal(notation_cyl)
    low_ok = Decimal("-30.00") if cyl < 0 else Decimal("-30.00")
    high_ok = Decimal("30.00") if cyl < 0 else Decimal("28.00")
    for sph in (low_ok, high_ok):
        assert rx.validate_eye(eye, {"sph": sph, "cyl": cyl, "axis": 45}) == []
    errors = rx.validate_eye(eye, {"sph": high_ok + Decimal("0.25"), "cyl": cyl, "axis": 45})
    assert len(errors) == 1 and errors[0].eye == eye and errors[0].field == "sph"
    assert errors[0].code == ("range" if cyl < 0 else "range_transposed")
    assert "minus-cylinder" in errors[0].message or cyl < 0


@pytest.mark.parametrize("eye", EYES)
def test_prism_rules(eye):
    ok = {"prism1": "2.00", "prism1_base": "up", "prism2": "1.50", "prism2_base": "in"}
    assert rx.validate_eye(eye, ok) == []
    assert rx.validate_eye(eye, {"prism1": "1", "prism1_base": "angle", "prism1_angle": 0}) == []
    assert rx.validate_eye(eye, {"prism1": "1", "prism1_base": "angle", "prism1_angle": 359}) == []
    codes = lambda v: [e.code for e in rx.validate_eye(eye, v)]  # noqa: E731
    assert codes({"prism1": "1", "prism1_base": "angle", "prism1_angle": 360}) == ["range"]
    assert codes({"prism1": "1", "prism1_base": "angle"}) == ["prism_base_required"]
    assert codes({"prism1": "1"}) == ["prism_base_required"]
    assert codes({"prism1_base": "up"}) == ["prism_base_without_prism"]
    assert codes({"prism1": "1", "prism1_base": "sideways"}) == ["prism_base_invalid"]
    assert codes({"prism1": "1", "prism1_base": "up", "prism2": "1", "prism2_base": "down"}) == [
        "prism_same_direction"
    ]
    assert codes({"prism2": "1", "prism2_base": "in"}) == ["prism2_without_prism1"]


def test_pair_rules():
    assert rx.validate_pair({"pd_far": "40.0", "pd_near": "80.0", "vertex_distance": "5.0"}) == []
    errs = rx.validate_pair({"pd_far": "39.5", "pd_near": "80.5", "vertex_distance": "25.5"})
    assert [(e.field, e.eye, e.code) for e in errs] == [
        ("pd_far", None, "range"),
        ("pd_near", None, "range"),
        ("vertex_distance", None, "range"),
    ]
    assert "Binocular PD far" in errs[0].message and "40.0 … 80.0" in errs[0].message


@pytest.mark.parametrize("eye", EYES)
def test_contact_lens_needs_bc_and_dia(eye):
    codes = [(e.code, e.field) for e in rx.validate_eye(eye, {"sph": "-3.00"}, kind=rx.CONTACT_LENSES)]
    assert codes == [("required", "bc"), ("required", "dia")]
    assert rx.validate_eye(eye, {"sph": "-3.00", "bc": "8.60", "dia": "14.2"}, kind=rx.CONTACT_LENSES) == []
    assert rx.validate_eye(eye, {"sph": "-3.00"}, kind=rx.SPECTACLES) == []


def test_floats_from_forms_are_exact_and_zero_means_empty():
    # What an Odoo float field hands over: 0.0 for empty ADD/prism/PD, binary floats for powers.
    values = {
        "sph": -2.25,
        "cyl": -0.75,
        "axis": 10,
        "add": 0.0,
        "prism1": 0.0,
        "pd_far": 31.5,
        "fitting_height": 0.0,
        "bc": 0.0,
        "dia": 0.0,
    }
    assert rx.validate_eye("od", values) == []
    assert [e.code for e in rx.validate_eye("od", {"sph": "abc"})] == ["not_a_number"]


def test_validate_orders_right_eye_first():
    errs = rx.validate({"sph": "31"}, {"sph": "-31"}, {"pd_far": "90"})
    assert [(e.eye, e.field) for e in errs] == [("od", "sph"), ("os", "sph"), (None, "pd_far")]
