"""Generate examples 40-49 and the imaging examples of 70-89 from example 02's non-imaging
resources. Run from the project root: `.venv/bin/python examples/build_imaging_patients.py`
(importing the module builds the bundles in BUILT without writing them; the tests compare
them with the files)."""
import copy
import json
from pathlib import Path

EX = Path(__file__).resolve().parent / "patients"
P = "https://trialsieve.org/fhir/CodeSystem/trialsieve"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
BASE = json.loads((EX / "02-eligible-man.json").read_text())
BUILT: dict[str, dict] = {}  # file stem -> bundle
IMAGING_IDS = {"ex02-liver-1", "ex02-mri-1", "ex02-size-mri-1", "ex02-mri-2", "ex02-size-mri-2",
               "ex02-pet", "ex02-size-pet", "ex02-att-refractory-disease"}


def rid(s, n):
    return s.replace("ex02", f"ex{n}")


def renamed(obj, n):
    if isinstance(obj, dict):
        return {k: renamed(v, n) for k, v in obj.items()}
    if isinstance(obj, list):
        return [renamed(v, n) for v in obj]
    if isinstance(obj, str):
        return rid(obj, n)
    return obj


def entry(res):
    return {"fullUrl": f"https://trialsieve.org/examples/{res['resourceType']}/{res['id']}",
            "resource": res}


def mm(v):
    return {"value": v, "unit": "mm", "system": UCUM, "code": "mm"}


def pc(code):
    return {"coding": [{"system": P, "code": code}]}


class B:
    def __init__(self, n, note):
        self.n = n
        self.pid = f"ex{n}"
        self.entries = [entry(renamed(copy.deepcopy(e["resource"]), n))
                        for e in BASE["entry"] if e["resource"]["id"] not in IMAGING_IDS]
        self.bodies = set()
        self.note = note

    def subj(self):
        return {"reference": f"Patient/{self.pid}"}

    def body(self, lid, organ):
        if lid in self.bodies:
            return
        self.bodies.add(lid)
        self.entries.append(entry({
            "resourceType": "BodyStructure", "id": f"{self.pid}-{lid}", "patient": self.subj(),
            "identifier": [{"system": "https://trialsieve.org/examples/lesion", "value": lid}],
            "location": {"text": organ}}))

    def study(self, sid, kind, when, display, marrow=None, slice_mm=None, regions=()):
        res = {"resourceType": "DiagnosticReport", "id": f"{self.pid}-{sid}", "status": "final",
               "code": {"coding": [{"system": P, "code": kind, "display": display}]},
               "subject": self.subj(), "effectiveDateTime": when}
        if slice_mm is not None:
            res["extension"] = [{"url": P + "/slice-thickness-mm", "valueDecimal": slice_mm}]
        if regions:  # the body regions the study covers (SNOMED CT, DICOM CID 4031)
            res.setdefault("extension", []).append({
                "url": "http://hl7.org/fhir/StructureDefinition/bodySite",
                "valueCodeableConcept": {"coding": [
                    {"system": SNOMED, "code": code, "display": text}
                    for code, text in regions]}})
        if marrow is not None:
            code = "diffuse-marrow-infiltration" if marrow else "no-diffuse-marrow-infiltration"
            res["conclusionCode"] = [pc(code)]
        self.entries.append(entry(res))
        return res

    def size(self, sid, when, lid, organ, longest=None, transaxial=None, krenning=None,
             target=None, irradiated=None, new=None, short_axis=None, nodal=None):
        self.body(lid, organ)
        comps = []
        if longest is not None:
            comps.append({"code": {"coding": [{"system": LOINC, "code": "33728-7"}]},
                          "valueQuantity": mm(longest)})
        if short_axis is not None:
            comps.append({"code": {"coding": [{"system": LOINC, "code": "33729-5"}]},
                          "valueQuantity": mm(short_axis)})
        if transaxial is not None:
            comps.append({"code": pc("transaxial-diameter"), "valueQuantity": mm(transaxial)})
        if krenning is not None:
            comps.append({"code": pc("krenning-grade"), "valueInteger": krenning})
        for code, v in (("target", target), ("previously-irradiated", irradiated),
                        ("new-lesion", new), ("nodal", nodal)):
            if v is not None:
                comps.append({"code": pc(code), "valueBoolean": v})
        self.entries.append(entry({
            "resourceType": "Observation", "id": f"{self.pid}-size-{sid}-{lid}",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "21889-1", "display": "Size Tumor"}]},
            "subject": self.subj(), "effectiveDateTime": when,
            "focus": [{"reference": f"BodyStructure/{self.pid}-{lid}"}],
            "derivedFrom": [{"reference": f"DiagnosticReport/{self.pid}-{sid}"}],
            "component": comps}))

    def scan(self, sid, kind, when, lesions, marrow=None, display=None, regions=()):
        display = display or {"mri": "MRI abdomen", "ct": "CT thorax-abdomen",
                              "sstr-pet": "68Ga-DOTATATE PET/CT"}[kind]
        self.study(sid, kind, when, display, marrow, regions=regions)
        for lz in lesions:
            self.size(sid, when, **lz)

    def symptom(self, k, when, freq, grade=None, until=None):
        """A diarrhoea recording on `when`, or an episode from `when` to `until` ("" for an
        episode still ongoing: a period with no end)."""
        comps = [{"code": pc("daily-frequency"),
                  "valueQuantity": {"value": freq, "unit": "/d", "system": UCUM, "code": "/d"}}]
        if grade is not None:
            comps.append({"code": pc("ctcae-grade"), "valueInteger": grade})
        res = {"resourceType": "Observation", "id": f"{self.pid}-diarrhoea-{k}",
               "status": "final", "category": [pc("net-symptom")],
               "code": {"coding": [{"system": "http://snomed.info/sct", "code": "62315008",
                                    "display": "Diarrhea"}], "text": "diarrhoea"},
               "subject": self.subj()}
        if until is None:
            res["effectiveDateTime"] = when
        else:
            res["effectivePeriod"] = {"start": when, **({"end": until} if until else {})}
        res["component"] = comps
        self.entries.append(entry(res))

    def cga(self, k, when, value):
        self.entries.append(entry({
            "resourceType": "Observation", "id": f"{self.pid}-cga-{k}", "status": "final",
            "category": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "laboratory"}]}],
            "code": {"coding": [{"system": LOINC, "code": "9811-1",
                                 "display": "Chromogranin A [Mass/volume] in Serum or Plasma"}]},
            "subject": self.subj(), "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": "ug/L", "system": UCUM, "code": "ug/L"}}))

    def write(self, name):
        BUILT[f"{self.n}-{name}"] = {"resourceType": "Bundle", "id": f"bundle-{self.pid}",
                                     "type": "collection", "entry": self.entries}


def L(lid, organ="liver", **kw):
    return dict(lid=lid, organ=organ, **kw)


def pet(b, when, lesions, marrow=False, sid="pet"):
    b.scan(sid, "sstr-pet", when, lesions, marrow)


# 40: RECIST PD at exactly +20 % and +5 mm over the nadir.
b = B(40, "")
b.scan("mri-1", "mri", "2026-01-15", [L("L1", longest=25, target=True)])
b.scan("mri-2", "mri", "2026-11-10", [L("L1", longest=30, target=True)])
pet(b, "2026-11-13", [L("L1", transaxial=28, krenning=3, irradiated=False)])
b.write("recist-pd-20-percent-5-mm-at-bound")

# 41: +20 % but only +4 mm: no PD.
b = B(41, "")
b.scan("mri-1", "mri", "2026-01-15", [L("L1", longest=20, target=True)])
b.scan("mri-2", "mri", "2026-11-10", [L("L1", longest=24, target=True)])
pet(b, "2026-11-13", [L("L1", transaxial=24, krenning=3, irradiated=False)])
b.write("recist-20-percent-4-mm-no-pd")

# 42: growth measured from the nadir, not from the baseline.
b = B(42, "")
b.scan("mri-1", "mri", "2025-12-10", [L("L1", longest=40, target=True)])
b.scan("mri-2", "mri", "2026-05-12", [L("L1", longest=25, target=True)])
b.scan("mri-3", "mri", "2026-11-10", [L("L1", longest=30, target=True)])
pet(b, "2026-11-13", [L("L1", transaxial=29, krenning=4, irradiated=False)])
b.write("recist-pd-over-nadir-below-baseline")

# 43: PD 13 months before inclusion, then stable scans (series restarts at the PD).
b = B(43, "")
b.scan("mri-1", "mri", "2025-06-02", [L("L1", longest=20, target=True)])
b.scan("mri-2", "mri", "2025-11-01", [L("L1", longest=30, target=True)])
b.scan("mri-3", "mri", "2026-04-07", [L("L1", longest=31, target=True)])
b.scan("mri-4", "mri", "2026-11-10", [L("L1", longest=32, target=True)])
pet(b, "2026-11-13", [L("L1", transaxial=31, krenning=3, irradiated=False)])
b.write("recist-pd-13-months-ago-then-stable")

# 44: SSTR PET transaxial growth > 30 % (20 -> 26.1 mm), MRI stable.
b = B(44, "")
b.scan("mri-1", "mri", "2026-02-20", [L("L1", longest=24, target=True)])
b.scan("mri-2", "mri", "2026-11-10", [L("L1", longest=25, target=True)])
pet(b, "2026-03-02", [L("L1", transaxial=20, krenning=3, irradiated=False)], sid="pet-1")
pet(b, "2026-11-13", [L("L1", transaxial=26.1, krenning=3, irradiated=False)], sid="pet-2")
b.write("sstr-pet-growth-over-30-percent")

# 45: SSTR PET growth of exactly 30 % (20 -> 26 mm): not progression.
b = B(45, "")
b.scan("mri-1", "mri", "2026-02-20", [L("L1", longest=24, target=True)])
b.scan("mri-2", "mri", "2026-11-10", [L("L1", longest=25, target=True)])
pet(b, "2026-03-02", [L("L1", transaxial=20, krenning=3, irradiated=False)], sid="pet-1")
pet(b, "2026-11-13", [L("L1", transaxial=26, krenning=3, irradiated=False)], sid="pet-2")
b.write("sstr-pet-growth-exactly-30-percent")

# 46: clinical and biochemical progression; imaging stable.
b = B(46, "")
b.scan("mri-1", "mri", "2026-02-20", [L("L1", longest=24, target=True)])
b.scan("mri-2", "mri", "2026-11-10", [L("L1", longest=25, target=True)])
pet(b, "2026-11-13", [L("L1", transaxial=25, krenning=3, irradiated=False)])
b.symptom(1, "2026-06-01", 4, 1)
b.symptom(2, "2026-09-01", 6, 1)
b.symptom(3, "2026-09-20", 7, 2)
b.cga(1, "2026-05-04", 120)
b.cga(2, "2026-08-03", 180)
b.cga(3, "2026-11-02", 260)
b.write("clinical-and-biochemical-progression")

# 47: I13 lesion by lesion: L1 and L2 qualify; L3 Krenning 2; L4 19 mm; L5 irradiated.
b = B(47, "")
base = [("L1", "liver", 30), ("L2", "liver", 22), ("L3", "pancreas", 28),
        ("L4", "peritoneum", 16), ("L5", "lung", 24)]
b.scan("mri-1", "mri", "2026-01-15", [L(i, o, longest=d, target=True) for i, o, d in base])
b.scan("mri-2", "mri", "2026-11-10", [L(i, o, longest=d + 8, target=True) for i, o, d in base])
pet(b, "2026-11-13", [
    L("L1", transaxial=36, krenning=3, irradiated=False),
    L("L2", "liver", transaxial=29, krenning=4, irradiated=False),
    L("L3", "pancreas", transaxial=35, krenning=2, irradiated=False),
    L("L4", "peritoneum", transaxial=19, krenning=3, irradiated=False),
    L("L5", "lung", transaxial=31, krenning=3, irradiated=True)])
b.write("target-lesions-two-qualify-three-fail")

# 48: marrow infiltration suspected on the PET, no MRI (RECIST on CT).
b = B(48, "")
b.scan("ct-1", "ct", "2026-01-15", [L("L1", longest=25, target=True)])
b.scan("ct-2", "ct", "2026-11-10", [L("L1", longest=31, target=True)])
pet(b, "2026-11-13", [L("L1", transaxial=30, krenning=3, irradiated=False)], marrow=True)
b.write("marrow-infiltration-pet-only-no-mri")

# 49: marrow infiltration on the PET confirmed by MRI.
b = B(49, "")
b.scan("mri-1", "mri", "2026-01-15", [L("L1", longest=25, target=True)])
b.scan("mri-2", "mri", "2026-11-10", [L("L1", longest=31, target=True)], marrow=True,
       display="MRI abdomen and spine",
       regions=[("818981001", "Abdomen"), ("421060004", "Spine")])
pet(b, "2026-11-13", [L("L1", transaxial=30, krenning=3, irradiated=False)], marrow=True)
b.write("marrow-infiltration-pet-and-mri")

# --- 70-89: issue 7, clinical content (the imaging ones) ------------------------------

# 71: a diarrhoea episode of exactly 14 days (6/day over a 4/day baseline, 2026-06-01 to
# 2026-06-15) is not sustained: clinical progression not met, so (c) is not met although
# CgA rose twice; MRI and SSTR PET stable: I3 not met.
b = B(71, "")
b.scan("mri-1", "mri", "2026-01-15", [L("L1", longest=25, target=True)])
b.scan("mri-2", "mri", "2026-11-10", [L("L1", longest=26, target=True)])
pet(b, "2026-01-20", [L("L1", transaxial=25, krenning=3, irradiated=False)], sid="pet-1")
pet(b, "2026-11-13", [L("L1", transaxial=26, krenning=3, irradiated=False)], sid="pet-2")
b.symptom(1, "2026-03-02", 4)
b.symptom(2, "2026-06-01", 6, until="2026-06-15")
b.symptom(3, "2026-07-01", 4)
b.cga(1, "2026-05-04", 120)
b.cga(2, "2026-08-03", 180)
b.cga(3, "2026-11-02", 260)
b.write("symptom-episode-exactly-14-days-not-sustained")

# 72: stable MRI and SSTR PET, chromogranin A falling: each arm of I3 decided not met.
b = B(72, "")
b.scan("mri-1", "mri", "2026-01-15", [L("L1", longest=25, target=True)])
b.scan("mri-2", "mri", "2026-11-10", [L("L1", longest=26, target=True)])
pet(b, "2026-01-20", [L("L1", transaxial=25, krenning=3, irradiated=False)], sid="pet-1")
pet(b, "2026-11-13", [L("L1", transaxial=26, krenning=3, irradiated=False)], sid="pet-2")
b.cga(1, "2026-05-04", 260)
b.cga(2, "2026-08-03", 180)
b.cga(3, "2026-11-02", 150)
b.write("stable-scans-falling-markers-no-progression")

# 73: chromogranin A rose twice, nothing else: a marker rise alone is not a progression
# for I4 (nor for I3: (c) needs the clinical part too); MRI stable.
b = B(73, "")
b.scan("mri-1", "mri", "2026-01-15", [L("L1", longest=25, target=True)])
b.scan("mri-2", "mri", "2026-11-10", [L("L1", longest=26, target=True)])
pet(b, "2026-11-13", [L("L1", transaxial=26, krenning=3, irradiated=False)])
b.cga(1, "2026-05-04", 120)
b.cga(2, "2026-08-03", 180)
b.cga(3, "2026-11-02", 260)
b.write("marker-rise-alone-not-refractory")

# 74: L1 flagged target on the first MRI only; PD at 30 mm on 2025-11-01 (before the 12
# months), the series restarts there with L1 still the target: 31 mm, then 38 mm on
# 2026-11-10 (+26.7 % and +8 mm over the new nadir of 30 mm): PD within the 12 months.
b = B(74, "")
b.scan("mri-1", "mri", "2025-06-02", [L("L1", longest=20, target=True)])
b.scan("mri-2", "mri", "2025-11-01", [L("L1", longest=30)])
b.scan("mri-3", "mri", "2026-04-07", [L("L1", longest=31)])
b.scan("mri-4", "mri", "2026-11-10", [L("L1", longest=38)])
pet(b, "2026-11-13", [L("L1", transaxial=36, krenning=3, irradiated=False)])
b.write("recist-restart-keeps-baseline-targets")


if __name__ == "__main__":
    for stem, bundle in BUILT.items():
        (EX / f"{stem}.json").write_text(json.dumps(bundle, indent=2) + "\n")
