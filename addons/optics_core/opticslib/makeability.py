"""Can a lens design be made for a prescription?

A design carries the manufacturer's range table: per blank diameter, the
range of each principal meridian (SPH and SPH + CYL, in the manufacturer's
cylinder convention), the cylinder range and, for multifocals, the ADD range.
The check is done per eye after transposing to the design's convention, on
BOTH principal meridians, then the fitting height of progressives is checked
against the design's minimum fitting height and the frame.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from .transpose import MINUS, principal_meridians, to_convention, to_decimal

SINGLE = "single"
BIFOCAL = "bifocal"
PROGRESSIVE = "progressive"
OFFICE = "office"
LENS_TYPES = (SINGLE, BIFOCAL, PROGRESSIVE, OFFICE)
MULTIFOCAL = (BIFOCAL, PROGRESSIVE, OFFICE)
NEEDS_FITTING_HEIGHT = (PROGRESSIVE,)


@dataclass(frozen=True)
class RangeLine:
    diameter: int
    sph_min: Decimal
    sph_max: Decimal
    cyl_min: Decimal = Decimal("0")
    cyl_max: Decimal = Decimal("0")
    add_min: Decimal | None = None
    add_max: Decimal | None = None

    @classmethod
    def make(cls, diameter, sph_min, sph_max, cyl_min=0, cyl_max=0, add_min=None, add_max=None):
        return cls(
            int(diameter),
            to_decimal(sph_min),
            to_decimal(sph_max),
            to_decimal(cyl_min),
            to_decimal(cyl_max),
            to_decimal(add_min),
            to_decimal(add_max),
        )


@dataclass(frozen=True)
class Design:
    lens_type: str
    ranges: tuple
    cyl_convention: str = MINUS
    min_fitting_height: Decimal | None = None
    name: str = ""


@dataclass(frozen=True)
class Problem:
    """``code`` is stable; ``values`` holds the numbers a message needs."""

    code: str
    eye: str | None = None
    values: dict = field(default_factory=dict)

    @property
    def message(self):
        v = self.values
        prefix = f"{self.eye.upper()}: " if self.eye else ""
        texts = {
            "no_ranges": "the design has no power range table",
            "no_common_diameter": "no blank diameter can be made for both eyes",
            "no_diameter": "no blank of {min_diameter} mm or more in this design",
            "meridian_out": "principal meridian {meridian} = {power} D is outside {low} … {high} D",
            "cyl_out": "cylinder {cyl} D is outside {low} … {high} D",
            "add_missing": "an ADD is required for a {lens_type} lens",
            "add_out": "ADD {add} D is outside {low} … {high} D",
            "fitting_height_missing": "the fitting height is required for a progressive lens",
            "fitting_height_low": (
                "fitting height {fitting_height} mm is below the design's minimum {min_fitting_height} mm"
            ),
            "fitting_height_above_frame": (
                "fitting height {fitting_height} mm exceeds the frame's B {frame_b} mm"
            ),
            "frame_too_shallow": (
                "the frame accepts progressive designs up to {frame_fh} mm minimum fitting "
                "height; this design needs {min_fitting_height} mm"
            ),
        }
        return prefix + texts.get(self.code, self.code).format(**{k: _fmt(k, x) for k, x in v.items()})


_DIOPTRE_KEYS = ("power", "low", "high", "cyl", "add")


def _fmt(key, value):
    """Dioptres signed with two decimals (+1.25), millimetres plain (18 or 17.5)."""
    if not isinstance(value, Decimal):
        return value
    if key in _DIOPTRE_KEYS:
        text = f"{value:.2f}"
        return "+" + text if value > 0 else text
    return f"{value.normalize():f}"


@dataclass(frozen=True)
class Result:
    ok: bool
    problems: tuple = ()
    diameters: tuple = ()  # blank diameters that can be made, ascending

    def __bool__(self):
        return self.ok


def minimum_blank_diameter(a, dbl, ed, mono_pd):
    """Smallest uncut blank: ED + 2 x decentration + 2 mm edging allowance.

    Decentration is the distance between the box centre ((A + DBL) / 2 from the
    bridge centre) and the pupil (monocular PD).
    """
    a, dbl, ed, mono_pd = (to_decimal(x) for x in (a, dbl, ed, mono_pd))
    decentration = abs((a + dbl) / 2 - mono_pd)
    return ed + 2 * decentration + 2


def _power_problems(line, eye, m1, m2, cyl, add, lens_type):
    problems = []
    for n, power in ((1, m1), (2, m2)):
        if power < line.sph_min or power > line.sph_max:
            problems.append(
                Problem(
                    "meridian_out",
                    eye,
                    {"meridian": n, "power": power, "low": line.sph_min, "high": line.sph_max},
                )
            )
    if cyl != 0 and not line.cyl_min <= cyl <= line.cyl_max:
        problems.append(Problem("cyl_out", eye, {"cyl": cyl, "low": line.cyl_min, "high": line.cyl_max}))
    if lens_type in MULTIFOCAL:
        if add is None or add == 0:
            problems.append(Problem("add_missing", eye, {"lens_type": lens_type}))
        elif (
            line.add_min is not None and line.add_max is not None and not line.add_min <= add <= line.add_max
        ):
            problems.append(Problem("add_out", eye, {"add": add, "low": line.add_min, "high": line.add_max}))
    return problems


def check_eye(design, sph, cyl=0, axis=None, add=None, eye=None, min_diameter=None):
    """Range-table check of one eye; returns a :class:`Result`."""
    if not design.ranges:
        return Result(False, (Problem("no_ranges", eye),))
    t_sph, t_cyl, _axis = to_convention(sph or 0, cyl or 0, axis, design.cyl_convention)
    m1, m2 = principal_meridians(t_sph, t_cyl)
    add = to_decimal(add) if add not in (None, False) else None
    lines = sorted(design.ranges, key=lambda r: r.diameter)
    if min_diameter is not None:
        min_diameter = to_decimal(min_diameter)
        lines = [r for r in lines if r.diameter >= min_diameter]
        if not lines:
            return Result(False, (Problem("no_diameter", eye, {"min_diameter": min_diameter}),))
    good, best = [], None
    for line in lines:
        problems = _power_problems(line, eye, m1, m2, t_cyl, add, design.lens_type)
        if not problems:
            good.append(line.diameter)
        elif best is None or len(problems) < len(best):
            best = problems
    if good:
        return Result(True, (), tuple(good))
    return Result(False, tuple(best))


def check_fitting(design, fitting_height=None, frame_b=None, frame_fh=None, eye=None):
    """Progressive lenses only.

    With ``eye`` None: does the frame accept the design (its progressive
    fitting height vs the design's minimum)?  With an eye: the measured fitting
    height vs the design's minimum and the frame's B.
    """
    if design.lens_type not in NEEDS_FITTING_HEIGHT:
        return []
    problems = []
    mfh = to_decimal(design.min_fitting_height) if design.min_fitting_height else None
    frame_fh = to_decimal(frame_fh) if frame_fh else None
    frame_b = to_decimal(frame_b) if frame_b else None
    if eye is None and mfh is not None and frame_fh is not None and frame_fh < mfh:
        problems.append(Problem("frame_too_shallow", None, {"frame_fh": frame_fh, "min_fitting_height": mfh}))
        return problems
    if eye is None:
        return problems
    if not fitting_height:
        problems.append(Problem("fitting_height_missing", eye))
        return problems
    fitting_height = to_decimal(fitting_height)
    if mfh is not None and fitting_height < mfh:
        problems.append(
            Problem("fitting_height_low", eye, {"fitting_height": fitting_height, "min_fitting_height": mfh})
        )
    if frame_b is not None and fitting_height > frame_b:
        problems.append(
            Problem("fitting_height_above_frame", eye, {"fitting_height": fitting_height, "frame_b": frame_b})
        )
    return problems


def check(design, eyes, frame_b=None, frame_fh=None, min_diameter=None):
    """Both eyes.  ``eyes`` maps 'od'/'os' to dicts with sph, cyl, axis, add, fitting_height.

    Returns a :class:`Result` whose diameters are those possible for every eye.
    """
    problems, diameters = [], None
    for eye, rx in eyes.items():
        res = check_eye(
            design,
            rx.get("sph"),
            rx.get("cyl"),
            rx.get("axis"),
            rx.get("add"),
            eye,
            min_diameter=rx.get("min_diameter", min_diameter),
        )
        problems.extend(res.problems)
        diameters = set(res.diameters) if diameters is None else diameters & set(res.diameters)
        problems.extend(check_fitting(design, rx.get("fitting_height"), frame_b, frame_fh, eye))
    problems.extend(check_fitting(design, None, frame_b, frame_fh, None))
    if not problems and not diameters:
        problems.append(Problem("no_common_diameter"))
    ok = not problems
    return Result(ok, tuple(problems), tuple(sorted(diameters or ())))
