"""Prescription value rules.

Every rule is data (:data:`EYE_RULES`, :data:`PAIR_RULES`); :func:`validate`
returns a list of :class:`RxError`, each naming the field, the eye and the
allowed range, so that the caller (an Odoo constraint, an import, the POS) can
show one precise message per problem.  Nothing here raises on bad user input.

Values may be int, str, float or Decimal.  ``None`` means "not given".  For the
fields where a zero has no clinical meaning (ADD, prism, PD, heights, acuity,
contact-lens parameters, axis) a 0 is also "not given", because that is what an
empty numeric field of a form holds.  SPH 0.00 (plano) and CYL 0.00 are values.
"""

from dataclasses import dataclass
from decimal import Decimal

from .transpose import MINUS, to_convention, to_decimal

OD = "od"
OS = "os"
EYES = (OD, OS)
EYE_NAMES = {OD: "OD (right eye)", OS: "OS (left eye)", None: "Both eyes"}

SPECTACLES = "spectacles"
CONTACT_LENSES = "contact_lenses"

PRISM_BASES = ("up", "down", "in", "out", "angle")
VERTICAL_BASES = ("up", "down")
HORIZONTAL_BASES = ("in", "out")


@dataclass(frozen=True)
class Rule:
    field: str
    label: str
    minimum: Decimal
    maximum: Decimal
    step: Decimal
    unit: str
    signed: bool = False  # shown with an explicit sign (+1.25)
    zero_is_empty: bool = True

    def fmt(self, value):
        value = to_decimal(value)
        places = max(-self.step.as_tuple().exponent, 0)
        text = f"{value:.{places}f}" if places else f"{value:.0f}"
        if self.signed and value > 0:
            text = "+" + text
        return text

    @property
    def range_text(self):
        text = f"{self.fmt(self.minimum)} … {self.fmt(self.maximum)}"
        if self.step != 1 or self.unit not in ("°",):
            text += f" in steps of {self.fmt(self.step).lstrip('+')}"
        return f"{text} {self.unit}".rstrip()


def _r(field, label, lo, hi, step, unit, signed=False, zero_is_empty=True):
    return Rule(field, label, Decimal(lo), Decimal(hi), Decimal(step), unit, signed, zero_is_empty)


EYE_RULES = {
    "sph": _r("sph", "SPH", "-30.00", "30.00", "0.25", "D", signed=True, zero_is_empty=False),
    "cyl": _r("cyl", "CYL", "-10.00", "10.00", "0.25", "D", signed=True, zero_is_empty=False),
    "axis": _r("axis", "AXIS", "1", "180", "1", "°"),
    "add": _r("add", "ADD", "0.50", "4.00", "0.25", "D", signed=True),
    "prism1": _r("prism1", "Prism 1", "0.25", "10.00", "0.25", "Δ"),
    "prism1_angle": _r("prism1_angle", "Prism 1 base", "0", "359", "1", "°", zero_is_empty=False),
    "prism2": _r("prism2", "Prism 2", "0.25", "10.00", "0.25", "Δ"),
    "prism2_angle": _r("prism2_angle", "Prism 2 base", "0", "359", "1", "°", zero_is_empty=False),
    "pd_far": _r("pd_far", "Monocular PD far", "20.0", "40.0", "0.5", "mm"),
    "pd_near": _r("pd_near", "Monocular PD near", "20.0", "40.0", "0.5", "mm"),
    "fitting_height": _r("fitting_height", "Fitting height", "10.0", "40.0", "0.5", "mm"),
    "va_sc": _r("va_sc", "Visual acuity without correction", "0.01", "2.00", "0.01", ""),
    "va_cc": _r("va_cc", "Visual acuity with correction", "0.01", "2.00", "0.01", ""),
    "bc": _r("bc", "Base curve", "7.00", "10.50", "0.05", "mm"),
    "dia": _r("dia", "Diameter", "8.0", "16.0", "0.1", "mm"),
}

PAIR_RULES = {
    "pd_far": _r("pd_far", "Binocular PD far", "40.0", "80.0", "0.5", "mm"),
    "pd_near": _r("pd_near", "Binocular PD near", "40.0", "80.0", "0.5", "mm"),
    "vertex_distance": _r("vertex_distance", "Vertex distance", "5.0", "25.0", "0.5", "mm"),
}

# Fields whose presence makes an eye "prescribed" (so contact-lens BC/DIA become due).
POWER_FIELDS = ("sph", "cyl", "add")


@dataclass(frozen=True)
class RxError:
    """One problem.  ``code`` is stable (for tests and translations)."""

    code: str
    field: str
    eye: str | None
    value: object = None
    rule: Rule | None = None
    detail: str = ""

    @property
    def field_label(self):
        if self.rule:
            return self.rule.label
        return {"prism1_base": "Prism 1 base", "prism2_base": "Prism 2 base"}.get(self.field, self.field)

    @property
    def message(self):
        """English text; the Odoo layer builds a translated one from the same parts."""
        where = f"{EYE_NAMES[self.eye]}, {self.field_label}"
        if self.code in ("range", "step", "range_transposed"):
            shown = self.rule.fmt(self.value) if self.value is not None else ""
            extra = " (in minus-cylinder form)" if self.code == "range_transposed" else ""
            return f"{where}{extra} = {shown}: allowed {self.rule.range_text}."
        if self.code == "not_a_number":
            return f"{where}: {self.value!r} is not a number."
        if self.code == "axis_required":
            return f"{where}: required when CYL is not 0 (allowed {self.rule.range_text})."
        if self.code == "axis_forbidden":
            return f"{where}: must be empty when CYL is 0."
        if self.code == "prism_base_required":
            return f"{where}: a prism needs a base (up, down, in, out or degrees)."
        if self.code == "prism_base_invalid":
            return f"{where}: {self.value!r} is not a base (up, down, in, out or angle)."
        if self.code == "prism_base_without_prism":
            return f"{where}: a base is given without a prism amount."
        if self.code == "prism_same_direction":
            return (
                f"{where}: the two prism components must be one vertical (up/down) and one horizontal "
                "(in/out)."
            )
        if self.code == "prism2_without_prism1":
            return f"{where}: fill prism 1 before prism 2."
        if self.code == "required":
            return f"{where}: required for a contact-lens prescription ({self.rule.range_text})."
        return f"{where}: {self.code} {self.detail}".strip()


def _empty(rule, value):
    if value is None or value is False or value == "":
        return True
    return rule.zero_is_empty and to_decimal(value) == 0


def _check_value(rule, eye, value, errors):
    """Append range/step errors; return the Decimal value or None."""
    try:
        if _empty(rule, value):
            return None
        dec = to_decimal(value)
    except (ValueError, TypeError):
        errors.append(RxError("not_a_number", rule.field, eye, value, rule))
        return None
    if not dec.is_finite():
        errors.append(RxError("not_a_number", rule.field, eye, value, rule))
        return None
    if dec < rule.minimum or dec > rule.maximum:
        errors.append(RxError("range", rule.field, eye, dec, rule))
    elif (dec - rule.minimum) % rule.step != 0:
        errors.append(RxError("step", rule.field, eye, dec, rule))
    return dec


def _check_prism(eye, values, errors):
    directions = []
    for n in (1, 2):
        amount = _check_value(EYE_RULES[f"prism{n}"], eye, values.get(f"prism{n}"), errors)
        base = values.get(f"prism{n}_base") or None
        if base is not None and base not in PRISM_BASES:
            errors.append(RxError("prism_base_invalid", f"prism{n}_base", eye, base))
            continue
        if amount is None:
            if base is not None:
                errors.append(RxError("prism_base_without_prism", f"prism{n}_base", eye, base))
            continue
        if n == 2 and _empty(EYE_RULES["prism1"], values.get("prism1")):
            errors.append(RxError("prism2_without_prism1", "prism2", eye, amount, EYE_RULES["prism2"]))
        if base is None:
            errors.append(RxError("prism_base_required", f"prism{n}_base", eye))
        elif base == "angle":
            rule = EYE_RULES[f"prism{n}_angle"]
            angle = values.get(f"prism{n}_angle")
            if angle is None or angle is False or angle == "":
                errors.append(RxError("prism_base_required", f"prism{n}_angle", eye, None, rule))
            else:
                _check_value(rule, eye, angle, errors)
        else:
            directions.append("v" if base in VERTICAL_BASES else "h")
    if len(directions) == 2 and directions[0] == directions[1]:
        errors.append(RxError("prism_same_direction", "prism2_base", eye, values.get("prism2_base")))


def validate_eye(eye, values, kind=SPECTACLES):
    """Errors for one eye's values (a mapping with the keys of :data:`EYE_RULES`)."""
    errors = []
    checked = {}
    for name in ("sph", "cyl", "add", "pd_far", "pd_near", "fitting_height", "va_sc", "va_cc", "bc", "dia"):
        checked[name] = _check_value(EYE_RULES[name], eye, values.get(name), errors)
    cyl = checked["cyl"]
    axis_rule = EYE_RULES["axis"]
    axis_raw = values.get("axis")
    if cyl is not None and cyl != 0:
        if _empty(axis_rule, axis_raw):
            errors.append(RxError("axis_required", "axis", eye, None, axis_rule))
        else:
            _check_value(axis_rule, eye, axis_raw, errors)
    elif not _empty(axis_rule, axis_raw):
        errors.append(RxError("axis_forbidden", "axis", eye, axis_raw, axis_rule))
    _check_prism(eye, values, errors)
    # The written form may be plus-cylinder; its minus-cylinder sphere must fit too.
    if not errors and cyl:
        sph = checked["sph"] if checked["sph"] is not None else Decimal("0")
        t_sph, _cyl, _axis = to_convention(sph, cyl, int(to_decimal(axis_raw)), MINUS)
        rule = EYE_RULES["sph"]
        if t_sph < rule.minimum or t_sph > rule.maximum:
            errors.append(RxError("range_transposed", "sph", eye, t_sph, rule))
    if kind == CONTACT_LENSES and any(checked[f] is not None and checked[f] != 0 for f in POWER_FIELDS):
        for name in ("bc", "dia"):
            if checked[name] is None and not any(e.field == name for e in errors):
                errors.append(RxError("required", name, eye, None, EYE_RULES[name]))
    return errors


def validate_pair(values):
    """Errors for the values common to both eyes (binocular PD, vertex distance)."""
    errors = []
    for name, rule in PAIR_RULES.items():
        _check_value(rule, None, values.get(name), errors)
    return errors


def validate(od, os_, pair=None, kind=SPECTACLES):
    """All errors of a prescription, right eye first."""
    return validate_eye(OD, od or {}, kind) + validate_eye(OS, os_ or {}, kind) + validate_pair(pair or {})
