"""RECIST 1.1 response assessment, usable on its own (stdlib only).

Sources followed:

* Eisenhauer EA et al., "New response evaluation criteria in solid tumours:
  revised RECIST guideline (version 1.1)", Eur J Cancer 2009;45:228-247:
  measurability, target selection (5 in all, 2 per organ, lymph nodes one
  organ), sum of diameters, target / non-target / overall response tables,
  the 5 mm "too small to measure" default, split and merged lesions, and the
  "missing assessment" rule (a time point with an unmeasured target is NE
  unless the measured lesions alone already show PD).
* EORTC RECIST 1.1 questions and clarifications (recist.eortc.org): SD is
  judged against the baseline for shrinkage and against the nadir for growth;
  a lesion that can be measured is recorded as measured, 5 mm only when it
  cannot be; all lymph nodes are one organ; a lesion that reappears after a
  (definitively assigned) overall CR is PD, and a node only "reappears" when
  its short axis is >= 10 mm.

Numbers: diameters arrive as floats, but every threshold is compared with
``fractions.Fraction`` built from the float's shortest decimal form
(``repr``), so 24.0 mm over a 20.0 mm nadir is exactly +20 % and the boundary
cases fall on the side the guideline says, never on a rounding error.

Targets: a ``target`` flag holds for its lesion across the series (flags are
usually recorded on the baseline scan only). When a series restarts after a PD,
the targets are re-selected on the new baseline scan: the lesions flagged target
on that scan when any are, otherwise the previous targets still measurable there
(``rebaseline_targets``).

New lesions: ``new=True`` marks an *unequivocal* new lesion (equivocal
findings should not be flagged; RECIST dates PD to the first scan once a
later scan confirms the lesion). A lesion flagged new counts as new only when
its id is absent from the baseline scan of the series.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from fractions import Fraction
from math import isfinite

NONTARGET_STATUSES = (None, "present", "absent", "unequivocal_progression")

# Thresholds of RECIST 1.1 as exact fractions (mm or ratios).
_MIN_NON_NODAL_MM = Fraction(10)
_MAX_THIN_SLICE_MM = Fraction(5)
# Slice thickness not recorded: from this diameter a lesion is measurable whatever the
# slice (LuMEn protocol notes, I13); between 10 mm and this it is unknown.
_MIN_UNKNOWN_SLICE_MM = Fraction(20)
_MIN_NODE_TARGET_MM = Fraction(15)
_MIN_NODE_PATHOLOGICAL_MM = Fraction(10)
_TOO_SMALL_DEFAULT_MM = Fraction(5)
_PD_RATIO = Fraction(6, 5)  # +20 % over nadir
_PD_ABSOLUTE_MM = Fraction(5)
_PR_RATIO = Fraction(7, 10)  # -30 % from baseline
_MAX_TARGETS = 5
_MAX_TARGETS_PER_ORGAN = 2
NODE_ORGAN = "lymph node"


def exact(value: float | int) -> Fraction:
    """Exact value of a measurement as written (0.1 is 1/10, not a binary float)."""
    if isinstance(value, int):
        return Fraction(value)
    return Fraction(repr(float(value)))


def _check_mm(name: str, value: float | None) -> None:
    if value is not None and (not isfinite(value) or value < 0):
        raise ValueError(f"{name} must be a finite number >= 0 mm, got {value!r}")


class Response(StrEnum):
    """RECIST 1.1 response categories; NA = not applicable (no such disease)."""

    CR = "CR"
    PR = "PR"
    SD = "SD"
    PD = "PD"
    NE = "NE"
    NON_CR_NON_PD = "non-CR/non-PD"
    NA = "NA"

    @property
    def short(self) -> str:
        """Two-letter code for narrow tables."""
        return "NN" if self is Response.NON_CR_NON_PD else self.value


@dataclass(frozen=True)
class LesionMeasurement:
    """One lesion on one scan. ``lesion_id`` is stable across scans."""

    lesion_id: str
    organ: str
    nodal: bool = False
    longest_diameter_mm: float | None = None
    short_axis_mm: float | None = None
    target: bool = False
    nontarget_status: str | None = None
    new: bool = False
    too_small: bool = False
    disappeared: bool = False
    merged_into: str | None = None
    split_parts_mm: tuple[float, ...] = ()
    source: str | None = None
    # an equivocal new lesion (possibly new, not yet unequivocal): once a later scan
    # flags it new, the progression dates from its first equivocal appearance
    equivocal: bool = False
    # A bone lesion: "lytic", "mixed", "blastic", or "unknown" (in bone, kind not
    # recorded); None: not a bone lesion. It is measured by its soft-tissue component.
    bone: str | None = None
    soft_tissue_mm: float | None = None

    def __post_init__(self) -> None:
        if not self.lesion_id:
            raise ValueError("lesion_id must not be empty")
        if self.nontarget_status not in NONTARGET_STATUSES:
            raise ValueError(
                f"lesion {self.lesion_id}: nontarget_status must be one of "
                f"{NONTARGET_STATUSES}, got {self.nontarget_status!r}"
            )
        _check_mm("longest_diameter_mm", self.longest_diameter_mm)
        _check_mm("short_axis_mm", self.short_axis_mm)
        for part in self.split_parts_mm:
            _check_mm("split_parts_mm", part)
        if self.merged_into == self.lesion_id:
            raise ValueError(f"lesion {self.lesion_id} cannot be merged into itself")

    @property
    def measured_mm(self) -> float | None:
        """The RECIST dimension: short axis for nodes, the soft-tissue component for a
        bone lesion (never its size), longest diameter otherwise."""
        if self.nodal:
            return self.short_axis_mm
        if self.bone is not None:
            return None if self.bone == "blastic" else self.soft_tissue_mm
        return self.longest_diameter_mm


@dataclass(frozen=True)
class Scan:
    """One imaging time point (CT or MRI for RECIST)."""

    date: dt.date
    modality: str
    lesions: tuple[LesionMeasurement, ...]
    slice_thickness_mm: float | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        _check_mm("slice_thickness_mm", self.slice_thickness_mm)
        # Keep lesions in id order so that results and messages never depend
        # on the order the lesions were recorded in.
        ordered = tuple(sorted(self.lesions, key=lambda lesion: lesion.lesion_id))
        object.__setattr__(self, "lesions", ordered)
        ids = [lesion.lesion_id for lesion in self.lesions]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"scan {self.date}: lesion ids repeated: {', '.join(duplicates)}")

    def lesion(self, lesion_id: str) -> LesionMeasurement | None:
        for lesion in self.lesions:
            if lesion.lesion_id == lesion_id:
                return lesion
        return None


# --------------------------------------------------------------------------
# Measurability and the baseline target set
# --------------------------------------------------------------------------


class LesionCategory(StrEnum):
    MEASURABLE = "measurable"
    NON_MEASURABLE = "non-measurable"
    PATHOLOGICAL_NODE = "pathological node, non-target"
    NORMAL_NODE = "normal node"
    UNKNOWN = "measurability unknown"


@dataclass(frozen=True)
class Measurability:
    measurable: bool | None  # None: cannot be told (slice thickness not recorded)
    category: LesionCategory
    reason: str


# Chest X-ray (DICOM modality codes CR, DX; "XR"): RECIST 1.1 requires 20 mm there.
X_RAY_MODALITIES = frozenset({"XR", "CR", "DX", "X-RAY", "CHEST X-RAY"})
_MIN_X_RAY_MM = Fraction(20)


def is_measurable(
    lesion: LesionMeasurement, slice_thickness_mm: float | None, modality: str | None = None
) -> Measurability:
    """RECIST 1.1 measurability of a lesion at baseline.

    Non-nodal: longest diameter >= 10 mm when the slice is <= 5 mm, else
    >= 2 x slice (a lesion must span at least two slices to be measured
    reliably). With the slice thickness not recorded, >= 20 mm is measurable
    and 10 to < 20 mm is unknown (``measurable`` None): the 10 mm minimum holds
    only on slices of 5 mm or less (LuMEn protocol notes, I13).
    Nodes: short axis >= 15 mm measurable; 10 to < 15 mm pathological but
    non-target; < 10 mm normal.
    """
    if lesion.nodal:
        return _node_measurability(lesion)
    if lesion.bone is not None:
        return _bone_measurability(lesion, slice_thickness_mm)
    if modality is not None and modality.strip().upper() in X_RAY_MODALITIES:
        return _x_ray_measurability(lesion)
    return _non_nodal_measurability(lesion, slice_thickness_mm)


def _bone_measurability(
    lesion: LesionMeasurement, slice_thickness_mm: float | None
) -> Measurability:
    """RECIST 1.1: a blastic bone lesion is never measurable; a lytic or mixed one only
    by its soft-tissue component (>= 10 mm, as any lesion). Kind or component not
    recorded: unknown, never measured by the size of the bone lesion."""
    if lesion.bone == "blastic":
        return Measurability(False, LesionCategory.NON_MEASURABLE,
                             "blastic bone lesion: never measurable")
    if lesion.soft_tissue_mm is None:
        return Measurability(None, LesionCategory.UNKNOWN, f"bone lesion ({lesion.bone}): no "
                             "soft-tissue component recorded, its size does not count")
    component = replace(lesion, bone=None, longest_diameter_mm=lesion.soft_tissue_mm)
    found = _non_nodal_measurability(component, slice_thickness_mm)
    return replace(found, reason=f"soft-tissue component of a bone lesion: {found.reason}")


def _x_ray_measurability(lesion: LesionMeasurement) -> Measurability:
    diameter = lesion.longest_diameter_mm
    if diameter is None:
        return Measurability(False, LesionCategory.NON_MEASURABLE, "no longest diameter recorded")
    shown = _fmt_mm(exact(diameter))
    if exact(diameter) >= _MIN_X_RAY_MM:
        return Measurability(True, LesionCategory.MEASURABLE,
                             f"longest diameter {shown} mm >= 20 mm (chest X-ray)")
    return Measurability(False, LesionCategory.NON_MEASURABLE,
                         f"longest diameter {shown} mm < 20 mm (chest X-ray)")


def _node_measurability(lesion: LesionMeasurement) -> Measurability:
    axis = lesion.short_axis_mm
    if axis is None:
        return Measurability(False, LesionCategory.NON_MEASURABLE, "node: no short axis recorded")
    shown = _fmt_mm(exact(axis))
    if exact(axis) >= _MIN_NODE_TARGET_MM:
        return Measurability(True, LesionCategory.MEASURABLE, f"node short axis {shown} >= 15 mm")
    if exact(axis) >= _MIN_NODE_PATHOLOGICAL_MM:
        return Measurability(
            False,
            LesionCategory.PATHOLOGICAL_NODE,
            f"node short axis {shown} mm is 10 to < 15 mm: pathological, non-target only",
        )
    return Measurability(
        False, LesionCategory.NORMAL_NODE, f"node short axis {shown} mm < 10 mm: normal node"
    )


def _non_nodal_measurability(
    lesion: LesionMeasurement, slice_thickness_mm: float | None
) -> Measurability:
    diameter = lesion.longest_diameter_mm
    if diameter is None:
        return Measurability(False, LesionCategory.NON_MEASURABLE, "no longest diameter recorded")
    shown = _fmt_mm(exact(diameter))
    if slice_thickness_mm is None and _MIN_NON_NODAL_MM <= exact(diameter) < _MIN_UNKNOWN_SLICE_MM:
        reason = (f"longest diameter {shown} mm: slice thickness not recorded, so measurable "
                  f"only from {_fmt_mm(_MIN_UNKNOWN_SLICE_MM)} mm for certain")
        return Measurability(None, LesionCategory.UNKNOWN, reason)
    minimum, why = _minimum_non_nodal(slice_thickness_mm)
    if exact(diameter) >= minimum:
        reason = f"longest diameter {shown} mm >= {_fmt_mm(minimum)} mm ({why})"
        return Measurability(True, LesionCategory.MEASURABLE, reason)
    reason = f"longest diameter {shown} mm < {_fmt_mm(minimum)} mm ({why})"
    return Measurability(False, LesionCategory.NON_MEASURABLE, reason)


def _minimum_non_nodal(slice_thickness_mm: float | None) -> tuple[Fraction, str]:
    if slice_thickness_mm is None:
        # below 10 mm nothing is measurable; from 20 mm every lesion is (notes, I13)
        return _MIN_NON_NODAL_MM, "slice thickness not recorded"
    thickness = exact(slice_thickness_mm)
    if thickness <= _MAX_THIN_SLICE_MM:
        return _MIN_NON_NODAL_MM, f"slice {_fmt_mm(thickness)} mm <= 5 mm"
    return 2 * thickness, f"twice the {_fmt_mm(thickness)} mm slice"


def organ_group(lesion: LesionMeasurement) -> str:
    """Organ for the 2-per-organ rule: every lymph node station is one organ."""
    return NODE_ORGAN if lesion.nodal else lesion.organ.strip().lower()


def check_target_set(scan: Scan) -> list[str]:
    """Human-readable problems with the baseline target set; empty when valid."""
    return target_set_breaks(scan) + [
        f"target {lesion.lesion_id} may not be measurable: "
        f"{is_measurable(lesion, scan.slice_thickness_mm, scan.modality).reason}"
        for lesion in doubtful_targets(scan)
    ]


def doubtful_targets(scan: Scan) -> list[LesionMeasurement]:
    """Targets whose measurability cannot be told (slice thickness not recorded)."""
    return [lesion for lesion in scan.lesions if lesion.target
            and is_measurable(lesion, scan.slice_thickness_mm, scan.modality).measurable is None]


def target_set_breaks(scan: Scan) -> list[str]:
    """The RECIST 1.1 rules the target set breaks (at most 5, 2 per organ, measurable)."""
    targets = [lesion for lesion in scan.lesions if lesion.target]
    messages: list[str] = []
    if len(targets) > _MAX_TARGETS:
        ids = ", ".join(t.lesion_id for t in targets)
        messages.append(
            f"{len(targets)} target lesions ({ids}); RECIST 1.1 allows at most {_MAX_TARGETS}"
        )
    by_organ: dict[str, list[str]] = {}
    for lesion in targets:
        by_organ.setdefault(organ_group(lesion), []).append(lesion.lesion_id)
    for organ, organ_ids in by_organ.items():
        if len(organ_ids) > _MAX_TARGETS_PER_ORGAN:
            note = " (all lymph nodes count as one organ)" if organ == NODE_ORGAN else ""
            messages.append(
                f"{len(organ_ids)} target lesions in {organ} ({', '.join(organ_ids)}); at most "
                f"{_MAX_TARGETS_PER_ORGAN} per organ{note}"
            )
    for lesion in targets:
        result = is_measurable(lesion, scan.slice_thickness_mm, scan.modality)
        if result.measurable is False:
            messages.append(f"target {lesion.lesion_id} is not measurable: {result.reason}")
    return messages


# --------------------------------------------------------------------------
# Sum of diameters
# --------------------------------------------------------------------------


def lesion_diameter(lesion: LesionMeasurement) -> Fraction | None:
    """Diameter the lesion adds to the sum, after RECIST conventions.

    Merged away (``merged_into`` set) or disappeared: 0 mm. Split: the sum of
    the parts. A recorded measurement wins over ``too_small`` (EORTC Q&A:
    record what can be measured); ``too_small`` without one: 5 mm.
    None when nothing was measured.
    """
    if lesion.merged_into is not None or lesion.disappeared:
        return Fraction(0)
    if lesion.split_parts_mm:
        return sum((exact(part) for part in lesion.split_parts_mm), Fraction(0))
    if lesion.measured_mm is not None:
        return exact(lesion.measured_mm)
    if lesion.too_small:
        return _TOO_SMALL_DEFAULT_MM
    return None


@dataclass(frozen=True)
class TargetSum:
    """Sum over the baseline targets at one scan; ``missing`` lists unmeasured ids."""

    total: Fraction
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing


def sum_of_diameters(scan: Scan, target_ids: tuple[str, ...] | None = None) -> TargetSum:
    """Sum of longest diameters (non-nodal) and short axes (nodal) of the targets.

    ``target_ids`` are the targets chosen at baseline; by default those flagged
    target on this scan. Unmeasured targets add 0 and are listed in ``missing``.
    """
    if target_ids is None:
        target_ids = tuple(lesion.lesion_id for lesion in scan.lesions if lesion.target)
    total = Fraction(0)
    missing: list[str] = []
    for lesion_id in target_ids:
        lesion = scan.lesion(lesion_id)
        diameter = None if lesion is None else lesion_diameter(lesion)
        if diameter is None:
            missing.append(lesion_id)
        else:
            total += diameter
    return TargetSum(total, tuple(missing))


# --------------------------------------------------------------------------
# Per-time-point responses
# --------------------------------------------------------------------------


def is_pd_growth(total: Fraction, nadir: Fraction) -> bool:
    """>= 20 % over the nadir AND >= 5 mm over it (both needed)."""
    return total >= nadir * _PD_RATIO and total - nadir >= _PD_ABSOLUTE_MM


def is_pr_shrinkage(total: Fraction, baseline: Fraction) -> bool:
    """>= 30 % below the baseline sum (not the nadir)."""
    return baseline > 0 and total <= baseline * _PR_RATIO


def _target_cr(scan: Scan, target_ids: tuple[str, ...]) -> bool:
    """CR: every non-nodal target gone and every nodal target short axis < 10 mm."""
    for lesion_id in target_ids:
        lesion = scan.lesion(lesion_id)
        diameter = None if lesion is None else lesion_diameter(lesion)
        if lesion is None or diameter is None:
            return False
        limit = _MIN_NODE_PATHOLOGICAL_MM if lesion.nodal else Fraction(0)
        if (lesion.nodal and diameter >= limit) or (not lesion.nodal and diameter > 0):
            return False
    return True


def target_response(
    scan: Scan,
    target_ids: tuple[str, ...],
    baseline_sum: Fraction | None,
    nadir: Fraction | None,
    after_cr: bool = False,
    nadir_date: date | None = None,
) -> tuple[Response, TargetSum | None, list[str]]:
    """Target response at a follow-up scan; also returns the sum and PD reasons.

    Order: missing measurements (NE, unless the measured ones alone give PD);
    CR (a sum rising among normal-sized nodes is not progression); PD;
    PR; SD. ``after_cr``: the previous time point was an overall CR, so any
    reappearing target (non-nodal > 0 mm, node >= 10 mm) is PD (EORTC Q&A).
    """
    if not target_ids:
        return Response.NA, None, []
    current = sum_of_diameters(scan, target_ids)
    if baseline_sum is None or nadir is None:
        return Response.NE, current, []
    if not current.complete:
        if is_pd_growth(current.total, nadir):
            reason = _growth_reason(current.total, nadir, nadir_date)
            unmeasured = ", ".join(current.missing)
            return Response.PD, current, [f"{reason} even without {unmeasured} (not measured)"]
        return Response.NE, current, []
    if _target_cr(scan, target_ids):
        return Response.CR, current, []
    if after_cr:
        return Response.PD, current, ["target lesion reappeared after complete response"]
    if is_pd_growth(current.total, nadir):
        return Response.PD, current, [_growth_reason(current.total, nadir, nadir_date)]
    if is_pr_shrinkage(current.total, baseline_sum):
        return Response.PR, current, []
    return Response.SD, current, []


def nontarget_response(
    scan: Scan,
    nontarget_ids: tuple[str, ...],
    baseline_ids: frozenset[str],
    after_cr: bool = False,
) -> tuple[Response, list[str]]:
    """Non-target response: PD on any unequivocal progression; NE when one of
    the baseline non-targets was not evaluated; CR when all are absent (a node
    counts as absent once its short axis is < 10 mm: normal); otherwise
    non-CR/non-PD. NA when there was no non-target disease. ``after_cr``: the
    previous time point was an overall CR, so a non-target that is present again
    is PD (RECIST 1.1: reappearance after CR is progression)."""
    progressed = [
        lesion.lesion_id
        for lesion in scan.lesions
        if lesion.nontarget_status == "unequivocal_progression"
        and not _is_new(lesion, baseline_ids)
    ]
    if progressed:
        return Response.PD, [f"unequivocal progression of non-target {i}" for i in progressed]
    if not nontarget_ids:
        return Response.NA, []
    statuses = {lesion_id: _nontarget_status(scan.lesion(lesion_id)) for lesion_id in nontarget_ids}
    if after_cr:
        back = [i for i, status in statuses.items() if status == "present"]
        if back:
            return Response.PD, [f"non-target {i} reappeared after complete response" for i in back]
    if any(status is None for status in statuses.values()):
        return Response.NE, []
    if all(status == "absent" for status in statuses.values()):
        return Response.CR, []
    return Response.NON_CR_NON_PD, []


def _nontarget_status(lesion: LesionMeasurement | None) -> str | None:
    """The status as RECIST counts it: a node whose short axis is < 10 mm is normal
    (absent for CR), whatever status was recorded with it."""
    if lesion is None:
        return None
    if lesion.nodal and lesion.short_axis_mm is not None and (
            exact(lesion.short_axis_mm) < _MIN_NODE_PATHOLOGICAL_MM):
        return "absent"
    return lesion.nontarget_status


def _is_new(lesion: LesionMeasurement, baseline_ids: frozenset[str]) -> bool:
    return lesion.new and lesion.lesion_id not in baseline_ids


def is_normal_node(lesion: LesionMeasurement) -> bool:
    """A node with a short axis < 10 mm: normal, not a lesion (RECIST 1.1). One that
    grows to >= 10 mm and is flagged new later is a new lesion."""
    return (lesion.nodal and not lesion.target and lesion.short_axis_mm is not None
            and exact(lesion.short_axis_mm) < _MIN_NODE_PATHOLOGICAL_MM)


def new_lesions(scan: Scan, baseline_ids: frozenset[str]) -> tuple[str, ...]:
    """Ids of lesions flagged new that were not on the series' baseline scan."""
    return tuple(lesion.lesion_id for lesion in scan.lesions if _is_new(lesion, baseline_ids))


_NONTARGET_VALUES = (Response.CR, Response.NON_CR_NON_PD, Response.NE, Response.PD, Response.NA)
_TARGET_VALUES = (Response.CR, Response.PR, Response.SD, Response.PD, Response.NE, Response.NA)


def overall_response(target: Response, nontarget: Response, new_lesion: bool) -> Response:
    """Overall time-point response (RECIST 1.1 tables 1 and 2).

    ``target`` NA means no target disease at baseline: the non-target-only
    table applies. ``nontarget`` NA means no non-target disease: it counts as
    non-PD (and as CR when the targets are in CR).
    """
    if target not in _TARGET_VALUES or nontarget not in _NONTARGET_VALUES:
        raise ValueError(f"impossible responses: target {target}, non-target {nontarget}")
    if new_lesion or target is Response.PD or nontarget is Response.PD:
        return Response.PD
    if target is Response.NA:
        # Non-target disease only; with no disease at all nothing is evaluable.
        return Response.NE if nontarget is Response.NA else nontarget
    if target is Response.CR:
        return Response.CR if nontarget in (Response.CR, Response.NA) else Response.PR
    if target in (Response.PR, Response.SD):
        return target
    return Response.NE


# --------------------------------------------------------------------------
# A series of time points
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TimePoint:
    """Assessment of one scan.

    ``nadir_mm`` is the nadir *before* this scan (smallest complete sum of the
    earlier scans of the series, baseline included), the reference for PD.
    Changes are None at the baseline or when a sum is unknown. ``reasons``
    explain a PD; ``notes`` flag data problems. ``restarts_series``: with
    ``restart_after_pd`` this PD scan is the baseline of the scans after it.
    """

    date: dt.date
    is_baseline: bool
    baseline_date: dt.date
    sum_mm: float | None
    baseline_sum_mm: float | None
    nadir_mm: float | None
    nadir_date: dt.date | None
    change_from_baseline_mm: float | None
    change_from_baseline_pct: float | None
    change_from_nadir_mm: float | None
    change_from_nadir_pct: float | None
    target: Response
    nontarget: Response
    new_lesions: tuple[str, ...]
    overall: Response
    reasons: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    source: str | None = None
    restarts_series: bool = False
    # The date of the progression a PD shows: the scan's date, or the first appearance
    # of an equivocal new lesion this scan confirms (RECIST 1.1). None unless PD.
    progression_date: dt.date | None = None


@dataclass
class _Series:
    """Running state of one series: its baseline, targets and nadir."""

    baseline: Scan
    target_ids: tuple[str, ...]
    nontarget_ids: tuple[str, ...]
    baseline_ids: frozenset[str]
    baseline_sum: Fraction | None
    nadir: Fraction | None
    nadir_date: date | None
    last_overall_cr: bool = False
    notes: list[str] = field(default_factory=list)
    # RECIST rules the target set breaks: its sum shows no progression (protocol notes)
    target_problems: tuple[str, ...] = ()
    # The targets measurable for certain (without those of unknown measurability), and
    # their nadir: a PD stands only when these alone show it too.
    certain_ids: tuple[str, ...] = ()
    certain_nadir: Fraction | None = None
    equivocal: dict[str, dt.date] = field(default_factory=dict)  # id -> first equivocal


def _start_series(scan: Scan, previous: _Series | None = None) -> _Series:
    targets = rebaseline_targets(scan, previous.target_ids) if previous else tuple(
        lesion.lesion_id for lesion in scan.lesions if lesion.target)
    nontargets = tuple(
        lesion.lesion_id
        for lesion in scan.lesions
        if lesion.lesion_id not in targets and lesion.nontarget_status != "absent"
        and not is_normal_node(lesion)
    )
    total = sum_of_diameters(scan, targets)
    baseline_sum = total.total if targets and total.complete else None
    doubtful = {lesion.lesion_id for lesion in doubtful_targets(scan)}
    certain_ids = tuple(t for t in targets if t not in doubtful)
    certain = sum_of_diameters(scan, certain_ids)
    series = _Series(
        baseline=scan,
        target_ids=targets,
        nontarget_ids=nontargets,
        baseline_ids=frozenset(
            lesion.lesion_id for lesion in scan.lesions if not is_normal_node(lesion)
        ),
        target_problems=tuple(target_set_breaks(scan)) if targets else (),
        certain_ids=certain_ids,
        baseline_sum=baseline_sum,
        nadir=baseline_sum,
        nadir_date=scan.date if baseline_sum is not None else None,
    )
    series.certain_nadir = certain.total if series.certain_ids and certain.complete else None
    if targets and baseline_sum is None:
        series.notes.append(f"baseline targets not measured: {', '.join(total.missing)}")
    return series


def rebaseline_targets(scan: Scan, previous: tuple[str, ...]) -> tuple[str, ...]:
    """The targets of a series that restarts at ``scan`` (after a PD).

    A target flag holds for its lesion across a series, so flags are usually recorded on
    the first baseline only. At a re-baseline the targets are re-selected from the
    lesions measured on the new baseline scan: by the flags on that scan when it carries
    any, otherwise the previous targets that are still measurable there (RECIST 1.1:
    targets are measurable lesions; at most 5, 2 per organ, which the previous set
    already respects).
    """
    flagged = tuple(lesion.lesion_id for lesion in scan.lesions if lesion.target)
    if flagged:
        return flagged
    return tuple(
        lesion_id for lesion_id in previous
        if (lesion := scan.lesion(lesion_id)) is not None and not lesion.merged_into
        and not lesion.disappeared
        and is_measurable(lesion, scan.slice_thickness_mm, scan.modality).measurable
    )


def _baseline_timepoint(series: _Series) -> TimePoint:
    scan = series.baseline
    notes = tuple(series.notes) + tuple(check_target_set(scan))
    return TimePoint(
        date=scan.date,
        is_baseline=True,
        baseline_date=scan.date,
        sum_mm=_float(series.baseline_sum),
        baseline_sum_mm=_float(series.baseline_sum),
        nadir_mm=None,
        nadir_date=None,
        change_from_baseline_mm=None,
        change_from_baseline_pct=None,
        change_from_nadir_mm=None,
        change_from_nadir_pct=None,
        target=Response.NA,
        nontarget=Response.NA,
        new_lesions=(),
        overall=Response.NA,
        notes=notes,
        source=scan.source,
    )


def _follow_up(series: _Series, scan: Scan) -> TimePoint:
    target, current, reasons = target_response(
        scan,
        series.target_ids,
        series.baseline_sum,
        series.nadir,
        after_cr=series.last_overall_cr,
        nadir_date=series.nadir_date,
    )
    if series.target_problems and target is Response.PD:
        # "A target set that breaks these rules does not show progression (unknown,
        # naming the rule)": the sum is shown, its PD is not evaluable. (A shrinking
        # sum is shown as it is: the notes speak of progression only.)
        target, reasons = Response.NE, []
    certain = _certain_sum(series, scan)
    if target is Response.PD and len(series.certain_ids) < len(series.target_ids) and not (
        certain is not None and series.certain_nadir is not None
        and is_pd_growth(certain, series.certain_nadir)
    ):
        # a target of unknown measurability: PD only when the sure targets show it too
        target, reasons = Response.NE, []
    nontarget, nt_reasons = nontarget_response(
        scan, series.nontarget_ids, series.baseline_ids, after_cr=series.last_overall_cr
    )
    new = new_lesions(scan, series.baseline_ids)
    overall = overall_response(target, nontarget, bool(new))
    first_seen = _progression_date(series, scan, new, target, nontarget)
    total = current.total if current is not None and current.complete else None
    notes = _follow_up_notes(series, scan, current) + [
        f"target set breaks RECIST 1.1, no progression shown by its sum: {m}"
        for m in series.target_problems
    ]
    point = TimePoint(
        date=scan.date,
        is_baseline=False,
        baseline_date=series.baseline.date,
        sum_mm=_float(total),
        baseline_sum_mm=_float(series.baseline_sum),
        nadir_mm=_float(series.nadir),
        nadir_date=series.nadir_date,
        change_from_baseline_mm=_float(_diff(total, series.baseline_sum)),
        change_from_baseline_pct=_pct_float(_pct(total, series.baseline_sum)),
        change_from_nadir_mm=_float(_diff(total, series.nadir)),
        change_from_nadir_pct=_pct_float(_pct(total, series.nadir)),
        target=target,
        nontarget=nontarget,
        new_lesions=new,
        overall=overall,
        reasons=tuple(reasons + [f"new lesion {i}" for i in new] + nt_reasons),
        notes=tuple(notes),
        source=scan.source,
        progression_date=first_seen if overall is Response.PD else None,
    )
    for lesion in scan.lesions:
        if lesion.equivocal and not lesion.new and lesion.lesion_id not in series.baseline_ids:
            series.equivocal.setdefault(lesion.lesion_id, scan.date)
    _update_nadir(series, scan, total)
    if certain is not None and series.certain_nadir is not None and certain < series.certain_nadir:
        series.certain_nadir = certain
    series.last_overall_cr = overall is Response.CR
    return point


def _progression_date(
    series: _Series, scan: Scan, new: tuple[str, ...], target: Response, nontarget: Response
) -> dt.date:
    """A PD shown only by new lesions that earlier scans showed as equivocal dates from
    their first appearance ("An equivocal new lesion confirmed later dates the
    progression at its first appearance"); any other PD dates from this scan."""
    if target is Response.PD or nontarget is Response.PD or not new:
        return scan.date
    dates = [series.equivocal.get(i, scan.date) for i in new]
    return min(dates)


def _certain_sum(series: _Series, scan: Scan) -> Fraction | None:
    if not series.certain_ids:
        return None
    found = sum_of_diameters(scan, series.certain_ids)
    return found.total if found.complete else None


def _follow_up_notes(series: _Series, scan: Scan, current: TargetSum | None) -> list[str]:
    notes: list[str] = []
    if scan.modality != series.baseline.modality:
        notes.append(f"modality {scan.modality} differs from baseline {series.baseline.modality}")
    if current is not None and current.missing:
        notes.append(f"targets not measured: {', '.join(current.missing)}")
    known = series.baseline_ids
    for lesion in scan.lesions:
        if lesion.lesion_id not in known and not lesion.new:
            notes.append(f"lesion {lesion.lesion_id} not on baseline and not flagged new: ignored")
    return notes


def _update_nadir(series: _Series, scan: Scan, total: Fraction | None) -> None:
    # The nadir is the smallest complete sum so far, baseline included; with
    # no complete baseline sum there is no reference at all (all NE).
    if series.nadir is not None and total is not None and total < series.nadir:
        series.nadir = total
        series.nadir_date = scan.date


def assess(scans: list[Scan] | tuple[Scan, ...], restart_after_pd: bool = False) -> list[TimePoint]:
    """Assess each scan in date order; the first scan is the baseline.

    With ``restart_after_pd`` a PD time point becomes the baseline (targets,
    non-targets and nadir) for the scans after it, as when a new line of
    therapy starts (LuMEn protocol notes, I3a); its targets are re-selected by
    ``rebaseline_targets``.
    """
    ordered = once_nodal(sorted(scans, key=lambda scan: scan.date))
    if not ordered:
        return []
    series = _start_series(ordered[0])
    points = [_baseline_timepoint(series)]
    for scan in ordered[1:]:
        if not series.target_ids and any(lesion.target for lesion in scan.lesions):
            # Targets are chosen on the baseline: a scan that first flags targets is
            # the baseline, not an older scan without them (an old diagnostic MRI).
            series = _start_series(scan)
            points.append(_baseline_timepoint(series))
            continue
        point = _follow_up(series, scan)
        if restart_after_pd and point.overall is Response.PD:
            series = _start_series(scan, series)
            # The PD scan is also the new baseline: show its target-set problems.
            extra = tuple(f"new baseline: {m}" for m in series.notes + check_target_set(scan))
            point = replace(point, restarts_series=True, notes=point.notes + extra)
        points.append(point)
    return points


def once_nodal(ordered: list[Scan]) -> list[Scan]:
    """Once nodal, always nodal (RECIST 1.1, 2016 clarification): a follow-up that omits
    a lesion's nodal flag does not make its long axis the measure."""
    nodal: set[str] = set()
    out = []
    for scan in ordered:
        nodal |= {lesion.lesion_id for lesion in scan.lesions if lesion.nodal}
        lesions = tuple(
            replace(lesion, nodal=True) if lesion.lesion_id in nodal else lesion
            for lesion in scan.lesions
        )
        out.append(replace(scan, lesions=lesions) if lesions != scan.lesions else scan)
    return out


@dataclass(frozen=True)
class ProgressionEvent:
    """A RECIST PD time point, dated at the first scan that shows it."""

    date: dt.date
    baseline_date: dt.date
    reasons: tuple[str, ...]
    sum_mm: float | None
    nadir_mm: float | None
    nadir_date: dt.date | None
    source: str | None


def progression_events(scans: list[Scan] | tuple[Scan, ...]) -> list[ProgressionEvent]:
    """Dates of RECIST PD, the series restarting at each PD scan.

    So a PD 13 months ago followed by stable scans yields one event 13 months
    ago, not a progression "ongoing" today.
    """
    return [
        ProgressionEvent(
            date=point.date,
            baseline_date=point.baseline_date,
            reasons=point.reasons,
            sum_mm=point.sum_mm,
            nadir_mm=point.nadir_mm,
            nadir_date=point.nadir_date,
            source=point.source,
        )
        for point in assess(scans, restart_after_pd=True)
        if point.overall is Response.PD
    ]


# --------------------------------------------------------------------------
# Lesion-level progression (LuMEn I13 reading)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class LesionProgression:
    """Why one lesion is progressive, with the scans it rests on."""

    lesion_id: str
    kind: str  # "new" or "growth"
    later_scan: Scan
    earlier_scan: Scan | None
    earlier_mm: float | None
    later_mm: float | None
    reason: str


def lesion_progression(
    scans: list[Scan] | tuple[Scan, ...], lesion_id: str
) -> LesionProgression | None:
    """First scan at which the lesion is progressive, or None.

    Progressive (protocol judgement for I13): flagged new, or its diameter
    (short axis for nodes) is >= 20 % AND >= 5 mm above its value on any
    earlier scan given. The caller restricts ``scans`` to the 12-month window.
    Merged lesions have no diameter of their own and are never compared.
    """
    ordered = once_nodal(sorted(scans, key=lambda scan: scan.date))
    earlier: list[tuple[Fraction, Scan]] = []
    seen = False
    for scan in ordered:
        lesion = scan.lesion(lesion_id)
        if lesion is None:
            continue
        # A lesion flagged new that was measured on an earlier scan is not new (notes).
        if lesion.new and not seen:
            return LesionProgression(
                lesion_id, "new", scan, None, None, _float(lesion_diameter(lesion)),
                f"lesion {lesion_id} new on {scan.date}",
            )  # fmt: skip
        seen = seen or not is_normal_node(lesion)
        diameter = None if lesion.merged_into else lesion_diameter(lesion)
        if diameter is None:
            continue
        found = _growth_over(lesion_id, earlier, diameter, scan)
        if found is not None:
            return found
        earlier.append((diameter, scan))
    return None


def _growth_over(
    lesion_id: str, earlier: list[tuple[Fraction, Scan]], diameter: Fraction, scan: Scan
) -> LesionProgression | None:
    if not earlier:
        return None
    # The smallest earlier value is the most favourable comparison: both the
    # +20 % and the +5 mm test only get easier as the reference shrinks.
    smallest, reference = min(earlier, key=lambda item: (item[0], item[1].date))
    if not is_pd_growth(diameter, smallest):
        return None
    reason = (
        f"lesion {lesion_id} {_fmt_mm(diameter)} mm on {scan.date}: "
        f"{_growth_reason(diameter, smallest, reference.date, label='')}"
    )
    return LesionProgression(
        lesion_id, "growth", scan, reference, _float(smallest), _float(diameter), reason
    )


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


def _diff(value: Fraction | None, reference: Fraction | None) -> Fraction | None:
    if value is None or reference is None:
        return None
    return value - reference


def _pct(value: Fraction | None, reference: Fraction | None) -> Fraction | None:
    if value is None or reference is None or reference == 0:
        return None
    return (value - reference) * 100 / reference


# The largest percentage shown as a number: a change over a near-zero reference (a
# diameter of 4.9e-324 mm) is beyond any float and says nothing a reader can use.
_MAX_SHOWN_PCT = Fraction(10**6)


def _float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


def _pct_float(value: Fraction | None) -> float | None:
    """A percentage as a float, None when it is too large to mean anything."""
    return None if value is None or abs(value) > _MAX_SHOWN_PCT else float(value)


def _fmt_mm(value: Fraction | float) -> str:
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _growth_reason(
    total: Fraction, nadir: Fraction, nadir_date: date | None, label: str = "sum "
) -> str:
    ratio = None if nadir == 0 else (total - nadir) * 100 / nadir
    pct = ("n/a" if ratio is None else f"> +{_MAX_SHOWN_PCT}" if ratio > _MAX_SHOWN_PCT
           else f"+{float(ratio):.1f}")
    at = f" at {nadir_date}" if nadir_date else ""
    reference = "nadir " if label else ""
    grew = f"+{_fmt_mm(total - nadir)} mm"
    return f"{label}{pct} % and {grew} over {reference}{_fmt_mm(nadir)} mm{at}"


def _signed(value: float | None, suffix: str = "") -> str:
    if value is None:
        return "-"
    text = f"{value:+.1f}" if suffix else f"{value:+.2f}".rstrip("0").rstrip(".")
    return text + suffix


def _change(mm: float | None, pct: float | None) -> str:
    if mm is None:
        return "-"
    return f"{_signed(mm)} ({_signed(pct, '%')})" if pct is not None else _signed(mm)


def _response_cells(point: TimePoint) -> tuple[str, str, str, str]:
    if point.is_baseline:
        return ("-", "-", "-", "-")
    new = "yes" if point.new_lesions else "no"
    return (point.target.short, point.nontarget.short, new, point.overall.short)


_TABLE_FORMAT = "{:<10}  {:>7}  {:<17}  {:<17}  {:<3} {:<3} {:<3} {:<3}"


def format_table(timepoints: list[TimePoint]) -> str:
    """Time-point table that fits in 80 columns; NN = non-CR/non-PD."""
    lines = [
        _TABLE_FORMAT.format("date", "sum mm", "vs baseline", "vs nadir", "tgt", "NT", "new", "ovr")
    ]
    for point in timepoints:
        lines.append(
            _TABLE_FORMAT.format(
                point.date.isoformat(),
                "-" if point.sum_mm is None else _fmt_mm(point.sum_mm),
                "baseline" if point.is_baseline else _change(
                    point.change_from_baseline_mm, point.change_from_baseline_pct
                ),
                _change(point.change_from_nadir_mm, point.change_from_nadir_pct),
                *_response_cells(point),
            ).rstrip()
        )  # fmt: skip
    lines.append("NN = non-CR/non-PD; NA = not applicable; changes in mm (%)")
    return "\n".join(lines)


def timepoints_to_json(timepoints: list[TimePoint]) -> list[dict]:
    """Plain JSON-ready dicts (ISO dates, response codes as strings)."""
    return [
        {
            "date": point.date.isoformat(),
            "is_baseline": point.is_baseline,
            "baseline_date": point.baseline_date.isoformat(),
            "sum_mm": point.sum_mm,
            "baseline_sum_mm": point.baseline_sum_mm,
            "nadir_mm": point.nadir_mm,
            "nadir_date": point.nadir_date.isoformat() if point.nadir_date else None,
            "change_from_baseline_mm": point.change_from_baseline_mm,
            "change_from_baseline_pct": point.change_from_baseline_pct,
            "change_from_nadir_mm": point.change_from_nadir_mm,
            "change_from_nadir_pct": point.change_from_nadir_pct,
            "target": point.target.value,
            "nontarget": point.nontarget.value,
            "new_lesions": list(point.new_lesions),
            "overall": point.overall.value,
            "reasons": list(point.reasons),
            "notes": list(point.notes),
            "source": point.source,
            "restarts_series": point.restarts_series,
        }
        for point in timepoints
    ]
