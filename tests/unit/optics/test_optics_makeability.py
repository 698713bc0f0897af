"""Makeability of a lens design: both principal meridians, diameters, ADD, fitting height."""

from decimal import Decimal

from opticslib import makeability as mk

SV = mk.Design(
    "single",
    (
        mk.RangeLine.make(65, "-10.00", "6.00", "-4.00", "0"),
        mk.RangeLine.make(70, "-8.00", "4.00", "-2.00", "0"),
    ),
)
PAL = mk.Design(
    "progressive",
    (mk.RangeLine.make(70, "-8.00", "6.00", "-4.00", "0", "0.75", "3.50"),),
    min_fitting_height=Decimal("18"),
)
PLUS_CYL_DESIGN = mk.Design(
    "single", (mk.RangeLine.make(65, "-6.00", "6.00", "0", "4.00"),), cyl_convention="plus"
)


def codes(result):
    return [p.code for p in result.problems]


def test_inside_everywhere_lists_all_diameters():
    res = mk.check_eye(SV, "-2.00", "-1.00", 90)
    assert res.ok and res.diameters == (65, 70)


def test_second_meridian_outside_even_if_sphere_inside():
    # SPH -9.00 is inside the 65 mm line, but SPH + CYL = -11.00 is not.
    res = mk.check_eye(SV, "-9.00", "-2.00", 180)
    assert not res.ok
    assert any(
        p.code == "meridian_out" and p.values["meridian"] == 2 and p.values["power"] == Decimal("-11.00")
        for p in res.problems
    )


def test_plus_cyl_prescription_is_transposed_before_checking():
    # written +6.50 / -1.00: minus form is +6.50 -1.00 -> M1 +6.50 outside +6.00
    assert not mk.check_eye(SV, "6.50", "-1.00", 90).ok
    # written +5.50 / +1.00 x 90 = +6.50 / -1.00 x 180 in minus form: M1 +6.50 out of range
    res = mk.check_eye(SV, "5.50", "1.00", 90)
    assert not res.ok and codes(res) == ["meridian_out"]
    # written -10.50 / +1.00 = -9.50 / -1.00: both meridians -9.50 and -10.50 -> M2 outside at 65 too
    assert not mk.check_eye(SV, "-10.50", "1.00", 45).ok
    # written -11.00 / +2.00 x 45 = -9.00 / -2.00 x 135: meridians -9 and -11 -> outside
    # but written -10.00 / +2.00 = -8.00 / -2.00: meridians -8 and -10 -> inside at 65 only
    res = mk.check_eye(SV, "-10.00", "2.00", 45)
    assert res.ok and res.diameters == (65,)


def test_exact_range_edges_are_inside():
    assert mk.check_eye(SV, "6.00", "0").diameters == (65,)
    assert mk.check_eye(SV, "-6.00", "-4.00", 10).diameters == (65,)
    assert mk.check_eye(SV, "-6.00", "-4.25", 10).ok is False
    assert mk.check_eye(SV, "6.25", "0").ok is False


def test_plus_cylinder_design():
    # minus-cyl Rx -2.00 / -1.00 x 20 is +1.00 cyl for this manufacturer: fine
    assert mk.check_eye(PLUS_CYL_DESIGN, "-2.00", "-1.00", 20).ok
    res = mk.check_eye(PLUS_CYL_DESIGN, "-2.00", "-4.25", 20)
    assert not res.ok and "cyl_out" in codes(res)


def test_min_diameter_filters_blanks():
    assert mk.check_eye(SV, "-1", "0", min_diameter=66).diameters == (70,)
    res = mk.check_eye(SV, "-1", "0", min_diameter=71)
    assert not res.ok and codes(res) == ["no_diameter"]


def test_minimum_blank_diameter_formula():
    # A 52, DBL 18, ED 56, mono PD 31: decentration |35 - 31| = 4 -> 56 + 8 + 2
    assert mk.minimum_blank_diameter(52, 18, 56, 31) == Decimal("66")


def test_add_required_and_in_range_for_progressives():
    eyes = {"od": {"sph": "-1", "fitting_height": 19}}
    assert codes(mk.check(PAL, eyes)) == ["add_missing"]
    eyes["od"]["add"] = "0.50"
    assert codes(mk.check(PAL, eyes)) == ["add_out"]
    eyes["od"]["add"] = "3.50"
    assert mk.check(PAL, eyes).ok
    eyes["od"]["add"] = "3.75"
    assert codes(mk.check(PAL, eyes)) == ["add_out"]


def test_fitting_height_against_design_and_frame():
    base = {"sph": "1", "add": "2"}
    assert mk.check(PAL, {"od": dict(base, fitting_height=18)}, frame_b=30, frame_fh=18).ok
    assert codes(mk.check(PAL, {"od": dict(base, fitting_height="17.5")})) == ["fitting_height_low"]
    assert codes(mk.check(PAL, {"od": dict(base)})) == ["fitting_height_missing"]
    assert codes(mk.check(PAL, {"od": dict(base, fitting_height=31)}, frame_b=30)) == [
        "fitting_height_above_frame"
    ]
    assert codes(mk.check(PAL, {"od": dict(base, fitting_height=20)}, frame_fh=17)) == ["frame_too_shallow"]
    # single vision never asks for a fitting height
    assert mk.check(SV, {"od": {"sph": "1"}}, frame_fh=5).ok


def test_both_eyes_need_a_common_diameter():
    eyes = {"od": {"sph": "-9", "cyl": "0", "min_diameter": 60}, "os": {"sph": "-1", "min_diameter": 66}}
    res = mk.check(SV, eyes)
    assert not res.ok and codes(res) == ["no_common_diameter"]
    eyes["os"]["min_diameter"] = 60
    assert mk.check(SV, eyes).diameters == (65,)


def test_problem_messages_carry_numbers():
    res = mk.check_eye(SV, "-9.00", "-2.00", 180, eye="od")
    text = " ".join(p.message for p in res.problems)
    assert "OD" in text and "-11.00" in text


def test_design_without_ranges():
    assert codes(mk.check_eye(mk.Design("single", ()), "0")) == ["no_ranges"]
