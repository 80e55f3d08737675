"""Build ``models/adult_standing/model.toml`` from sourced anatomical parameters.

The model file is the contract the package reads; this script is its provenance. Every
coordinate in the file is computed here from a handful of anatomical quantities (segment
lengths, spinal curve angles, pelvic landmark regressions), each cited below, so a reader can
see *why* a landmark sits where it does and change the anatomy in one place.

Run ``python tools/build_adult_standing.py`` to regenerate the file (it is overwritten), and
``python tools/build_adult_standing.py --trunk`` for ``models/adult_standing_trunk/model.toml``: the
same body with the trunk physics of issue 16 (end-range stops on every spinal joint, rectus abdominis
inserting on the upper rib cage, the pressure's rest part recalibrated). It becomes the default once
the regression tests are re-derived on it (see the issue's notes).

Coordinates: the reference configuration (all joint angles zero), metres, x anterior, y up,
z to the subject's left; origin on the floor below the hip joint centre. Left-side points are
given (z > 0); the loader mirrors bilateral parts to the right (z -> -z).
"""

from __future__ import annotations

import math
from pathlib import Path

import sys

#: Issue 16's trunk physics (``--trunk``): end-range stops, rectus abdominis on the upper rib cage.
TRUNK = "--trunk" in sys.argv[1:]
NAME = "adult_standing_trunk" if TRUNK else "adult_standing"
OUT = Path(__file__).resolve().parents[1] / "models" / NAME / "model.toml"

MASS_KG = 70.0
HEIGHT_M = 1.75
PI_DEG = 52.0

DE_LEVA = "de Leva 1996, J Biomech 29:1223 (male mass fractions, via REFERENCE.md section C)"
HARRINGTON = ("Harrington et al. 2007, J Biomech 40:595 (hip-centre regression from ASIS/PSIS: "
              "0.24 pelvis depth + 9.9 mm posterior, 0.30 pelvis width + 10.9 mm inferior)")
SEGMENTAL_LL = ("segmental lordosis L1-2 1.2, L2-3 5.9, L3-4 9.1, L4-5 12.7, L5-S1 21.6 deg "
                "(Sci Rep 2022, n=324; REFERENCE.md section A) scaled to a total of 55 deg")


def rot(v, deg):
    """Pitch a 2-D (x, y) vector forward by ``deg`` (top goes anterior)."""
    a = math.radians(deg)
    x, y = v
    return (x * math.cos(a) + y * math.sin(a), -x * math.sin(a) + y * math.cos(a))


def add(p, v):
    return (p[0] + v[0], p[1] + v[1])


def axis(deg, length):
    """Vector of ``length`` along a segment axis pitched ``deg`` forward of vertical."""
    return rot((0.0, length), deg)


# ---------------------------------------------------------------- legs (vertical at reference)
# Legs: knee straight, the hip 4.5 cm ahead of the ankle (about 3 deg of forward shank lean), so the
# plumb line through the hip falls ~5 cm ahead of the ankle as in quiet stance (Winter 1995;
# classical plumb line through the greater trochanter and ahead of the malleolus, Kendall 2005) [M]
ANKLE = (-0.045, 0.080)        # lateral malleolus height ~4.5 % of stature (Drillis & Contini 1966) [M]
KNEE = add(ANKLE, (0.0225, 0.435))  # de Leva shank length 434 mm (male, 1.74 m) scaled to 1.75 m
HIP = add(KNEE, (0.0225, 0.425))    # de Leva thigh length 422 mm scaled

# ---------------------------------------------------------------- pelvis (world, at 13 deg ASIS-PSIS tilt)
PELVIS_TILT_DEG = 13.0   # Preece 2008 cadaver ASIS-PSIS 13 +/- 5 deg anterior
PELVIS_DEPTH = 0.160     # ASIS-PSIS distance [M] (Harrington 2007 sample mean ~ 0.16 m)
PELVIS_WIDTH = 0.250     # inter-ASIS distance [M]
ex = (math.cos(math.radians(PELVIS_TILT_DEG)), -math.sin(math.radians(PELVIS_TILT_DEG)))
ey = (math.sin(math.radians(PELVIS_TILT_DEG)), math.cos(math.radians(PELVIS_TILT_DEG)))
hip_in_asis = (-(0.24 * PELVIS_DEPTH + 0.0099), -(0.30 * PELVIS_WIDTH + 0.0109))
hip_rel_asis = (hip_in_asis[0] * ex[0] + hip_in_asis[1] * ey[0], hip_in_asis[0] * ex[1] + hip_in_asis[1] * ey[1])
ASIS = (HIP[0] - hip_rel_asis[0], HIP[1] - hip_rel_asis[1])
PSIS = (ASIS[0] - PELVIS_DEPTH * ex[0], ASIS[1] - PELVIS_DEPTH * ex[1])
PUBIS = (ASIS[0] - 0.005, ASIS[1] - 0.085)  # anterior pelvic plane near vertical in stance (Lewinnek) [M]

# Sacral plate: radiographic pelvic tilt 12 deg, hip-axis to S1 midpoint 0.11 m, sacral slope 40 deg
PT_DEG, SS_DEG, HS_LEN = 12.0, PI_DEG - 12.0, 0.110
S1_MID = add(HIP, (-HS_LEN * math.sin(math.radians(PT_DEG)), HS_LEN * math.cos(math.radians(PT_DEG))))
S1_HALF = 0.0225  # S1 endplate antero-posterior depth ~45 mm [M]
S1_ANT = add(S1_MID, (S1_HALF * math.cos(math.radians(SS_DEG)), -S1_HALF * math.sin(math.radians(SS_DEG))))
S1_POST = add(S1_MID, (-S1_HALF * math.cos(math.radians(SS_DEG)), S1_HALF * math.sin(math.radians(SS_DEG))))

# ---------------------------------------------------------------- lumbar spine
# Superior-endplate slopes (anterior edge down positive) follow the segmental lordosis.
seg_ll = {"L5S1": 21.6, "L4L5": 12.7, "L3L4": 9.1, "L2L3": 5.9, "L1L2": 1.2}
scale = 55.0 / sum(seg_ll.values())
LEVEL = 0.042      # disc-centre spacing per lumbar level (body ~30 mm + disc ~10 mm; L1-S1 ~ 0.2 m) [M]
HALF_DISC = 0.006
slope = SS_DEG
centre = add(S1_MID, axis(slope, HALF_DISC))  # L5-S1 disc centre
lumbar = {}
for name, below in [("L5", "L5S1"), ("L4", "L4L5"), ("L3", "L3L4"), ("L2", "L2L3"), ("L1", "L1L2")]:
    slope = slope - seg_ll[below] * scale
    top = add(centre, axis(slope, LEVEL))
    lumbar[name] = {"joint": centre, "slope": slope, "top": top}
    centre = top
L1_SLOPE = lumbar["L1"]["slope"]


def endplate(mid, slope_deg, half=0.018):
    a = math.radians(slope_deg)
    return (add(mid, (half * math.cos(a), -half * math.sin(a))), add(mid, (-half * math.cos(a), half * math.sin(a))))


def vbody(name, frac=0.5, dx=0.0):
    """A point on lumbar vertebra ``name``: ``frac`` up its axis, ``dx`` anterior to it."""
    v = lumbar[name]
    up = add(v["joint"], axis(v["slope"], LEVEL * frac))
    return add(up, rot((dx, 0.0), v["slope"]))


L1_SUP_MID = add(lumbar["L1"]["top"], axis(L1_SLOPE, -HALF_DISC))
L1_SUP_ANT, L1_SUP_POST = endplate(L1_SUP_MID, L1_SLOPE)

# ---------------------------------------------------------------- thorax (two rigid parts) and head
T12L1 = lumbar["L1"]["top"]
LOW_T_LEN, UP_T_LEN = 0.140, 0.185   # T12-T8 and T7-T1 heights (~28 mm per thoracic level) [M]
LOW_T_AXIS = -12.0    # lower thorax axis leans back: T9 behind the hip axis (T9 tilt about -10 deg, Legaye/Le Huec) [M]
T7T8 = add(T12L1, axis(LOW_T_AXIS, LOW_T_LEN))
UP_T_AXIS = 9.0       # upper thorax axis: C7 plumb line ~1 cm ahead of the S1 corner (SVA, Schwab < 4 cm) [M]
C7 = add(T7T8, axis(UP_T_AXIS, UP_T_LEN))
T12_INF_SLOPE = L1_SLOPE            # T12-L1 disc taken as parallel
T4_SUP_SLOPE = T12_INF_SLOPE + 42.0  # thoracic kyphosis 42 deg (surface, men 42.8; REFERENCE.md A)
T12_INF_MID = add(T12L1, axis(L1_SLOPE, HALF_DISC))
T4_SUP_MID = add(T7T8, axis(UP_T_AXIS, 0.090))
NECK = add(C7, axis(UP_T_AXIS, 0.010))
CVA_DEG = 52.0   # craniovertebral angle, normal > ~50 deg (Oakley 2024 via REFERENCE.md A)
TRAGUS = add(C7, (0.110 / math.tan(math.radians(CVA_DEG)), 0.110))
HEAD_COM = add(TRAGUS, (0.010, 0.020))

# ---------------------------------------------------------------- masses (de Leva 1996, male)
mf = {
    "foot": 0.0137, "shank": 0.0433, "thigh": 0.1416, "head_neck": 0.0694,
    "upper_trunk": 0.1596, "middle_trunk": 0.1633, "lower_trunk": 0.1117,
    "arms": 2 * (0.0271 + 0.0162 + 0.0061),
}


def fmt(v):
    return f"{v:.4f}"


def pt3(p, z=0.0):
    return f"[{fmt(p[0])}, {fmt(p[1])}, {fmt(z)}]"


out: list[str] = []
w = out.append
w(f"# musclesim model: {NAME}")
w("# GENERATED by tools/build_adult_standing.py from sourced anatomical parameters; edit that")
w("# script (it says where every number comes from) and re-run it, or edit here and say why.")
w("# Units: SI, in the key names (_m, _kg, _N, _deg). Coordinates: reference configuration")
w("# (all joint angles zero), x anterior, y up, z to the left; origin on the floor below the hip.")
w("# Bilateral parts are given for the LEFT side (z > 0) and mirrored to the right by the loader.")
w("")
w("schema_version = 1")
w("")
w("[model]")
w(f'name = "{NAME}"')
w('description = "Adult male standing posture: sagittal chain foot-shank-thigh-pelvis-L5..L1-thorax-head with the muscles of the psoas articles'
  + ('; trunk physics of issue 16 (end-range stops on the spine, rectus abdominis on the upper rib cage)."' if TRUNK else '."'))
w("")
w("[subject]")
w(f"body_mass_kg = {MASS_KG}")
w(f"height_m = {HEIGHT_M}")
w(f"pelvic_incidence_deg = {PI_DEG}")
w("gravity_m_per_s2 = 9.81")
w('source = "Reference adult (70 kg, 1.75 m). PI 52 deg: between the meta-analysis mean 50.6 (PMID 28368866) and Vialle 2005 54.7 (REFERENCE.md A)."')
w("")

# --------------------------------------------------- segments
def segment(sid, parent, joint, mass_fraction, mf_src, com, com_src, landmarks, lm_src, bilateral=False, z=0.0):
    w("[[segments]]")
    w(f'id = "{sid}"')
    w(f"bilateral = {'true' if bilateral else 'false'}")
    w(f'parent = "{parent}"')
    w(f'joint = "{joint}"')
    w(f"mass_fraction = {mass_fraction:.5f}")
    w(f'mass_source = "{mf_src}"')
    w(f"com_m = {pt3(com, z)}")
    w(f'com_source = "{com_src}"')
    w(f'landmarks_source = "{lm_src}"')
    w("[segments.landmarks]")
    for k, (p, zz) in landmarks.items():
        w(f"{k} = {pt3(p, zz)}")
    w("")


LEG_Z = 0.085
# intra-abdominal pressure: the resultant of the pressure on diaphragm and pelvic floor acts along the abdominal
# cavity, about 6 cm in front of the lumbar joint centres (DESIGN.md section 5, from a prototype of this model)
IAP_STRUT_AHEAD_M = 0.06
IAP_STRUT_SRC = ("diaphragm / pelvic_floor: ends of the intra-abdominal pressure's strut, 6 cm anterior to the T12-L1 "
                 "and L5-S1 joint centres (the line of action of the pressure's resultant; estimate, DESIGN.md section 5)")
segment("foot", "", "", mf["foot"], DE_LEVA, add(ANKLE, (0.045, -0.040)),
        "de Leva 1996: foot COM 44 % of heel-toe length from the heel; heel 5 cm behind the ankle [M]",
        {"ankle_centre": (ANKLE, LEG_Z), "medial_malleolus": (ANKLE, LEG_Z - 0.02),
         "heel": (add(ANKLE, (-0.055, -0.080)), LEG_Z), "toe": (add(ANKLE, (0.200, -0.080)), LEG_Z),
         "heel_back": (add(ANKLE, (-0.065, -0.045)), LEG_Z)},
        "foot length 0.26 m (de Leva 1996), malleoli at the ankle centre; heel_back: where the heel rests when lying [M]", bilateral=True, z=LEG_Z)
segment("shank", "foot", "ankle", mf["shank"], DE_LEVA, add(ANKLE, (0.0, 0.435 * (1 - 0.4459))),
        "de Leva 1996: shank COM 44.59 % from the knee",
        {"knee_centre": (KNEE, LEG_Z), "tibial_tuberosity": (add(KNEE, (0.035, -0.060)), LEG_Z),
         "calf_back": (add(KNEE, (-0.060, -0.150)), LEG_Z)},
        "joint centres from de Leva segment lengths; tuberosity 6 cm below the knee; calf surface [M]", bilateral=True, z=LEG_Z)
segment("thigh", "shank", "knee", mf["thigh"], DE_LEVA, add(HIP, (0.0, -0.425 * 0.4095)),
        "de Leva 1996: thigh COM 40.95 % from the hip",
        {"hip_centre": (HIP, LEG_Z), "greater_trochanter": (add(HIP, (-0.010, -0.010)), LEG_Z + 0.085),
         "lesser_trochanter": (add(HIP, (-0.005, -0.060)), LEG_Z - 0.015),
         "thigh_back": (add(HIP, (-0.070, -0.200)), LEG_Z), "knee_back": (add(KNEE, (-0.060, 0.060)), LEG_Z)},
        "trochanters relative to the femoral head; posterior thigh surface at mid-thigh and just above the knee [M]", bilateral=True, z=LEG_Z)
segment("pelvis", "thigh", "hip", mf["lower_trunk"], DE_LEVA + ", lower trunk (omphalion to hips)",
        add(HIP, (0.005, 0.070)), "estimate: lower-trunk COM above the hip axis (classical plumb line through the greater trochanter)",
        {"asis": (ASIS, PELVIS_WIDTH / 2), "psis": (PSIS, 0.045), "pubic_symphysis": (PUBIS, 0.0),
         "s1_endplate_anterior": (S1_ANT, 0.0), "s1_endplate_posterior": (S1_POST, 0.0), "s1_endplate_mid": (S1_MID, 0.0),
         "iliac_crest": (add(HIP, (-0.010, 0.165)), 0.140), "ischial_tuberosity": (add(HIP, (-0.050, -0.060)), 0.060),
         "hip_axis": (HIP, 0.0), "sacrum_back": (add(PSIS, (-0.010, -0.050)), 0.0),
         "pelvic_floor": (add(lumbar["L5"]["joint"], (IAP_STRUT_AHEAD_M, 0.0)), 0.0)},
        f"ASIS/PSIS/hip centre: {HARRINGTON}, pelvis depth 0.16 m, width 0.25 m, ASIS-PSIS tilted 13 deg (Preece 2008); "
        f"S1 plate from PI 52 = PT 12 + SS 40 with hip-axis to S1 distance 0.11 m [M]; crest and ischium [M]; "
        f"{IAP_STRUT_SRC}")
vmass = mf["middle_trunk"] * 0.40 / 5
parent, joint = "pelvis", "L5S1"
for name in ["L5", "L4", "L3", "L2", "L1"]:
    v = lumbar[name]
    lms = {"body_centre": (vbody(name), 0.0)}
    if name == "L3":
        # umbilicus: apparent leg length is measured from it to each medial malleolus
        lms["umbilicus"] = (add(lumbar["L4"]["top"], (0.150, 0.0)), 0.0)
    if name == "L1":
        lms["l1_endplate_anterior"] = (L1_SUP_ANT, 0.0)
        lms["l1_endplate_posterior"] = (L1_SUP_POST, 0.0)
    segment(name, parent, joint, vmass, DE_LEVA + ": 40 % of the middle trunk shared equally by L1-L5 (estimate: abdominal wall and viscera at these levels)",
            vbody(name, 0.5, 0.035), "estimate: abdominal mass centre ~3.5 cm anterior to the vertebral body",
            lms, SEGMENTAL_LL + f"; {LEVEL * 1000:.0f} mm per level [M]"
            + ("; umbilicus at the L3-L4 disc level on the abdominal wall, 15 cm anterior to the disc "
               "(abdominal depth at the navel ~0.2 m for a 70 kg man) [M]" if name == "L3" else ""))
    parent = name
    joint = {"L5": "L4L5", "L4": "L3L4", "L3": "L2L3", "L2": "L1L2", "L1": "T12L1"}[name]
XIPHOID = add(T12L1, (0.145, 0.100))
segment("thorax_lower", "L1", "T12L1", mf["middle_trunk"] * 0.60, DE_LEVA + ": 60 % of the middle trunk (xiphion to omphalion)",
        add(T12L1, (0.050, 0.070)), "estimate: lower ribcage centroid ~5 cm anterior to the vertebral bodies",
        {"t12_endplate_anterior": (endplate(T12_INF_MID, T12_INF_SLOPE)[0], 0.0),
         "t12_endplate_posterior": (endplate(T12_INF_MID, T12_INF_SLOPE)[1], 0.0),
         "xiphoid": (XIPHOID, 0.0), "rib10_anterior": (add(T12L1, (0.110, 0.040)), 0.110),
         "rib12_tip": (add(T12L1, (-0.010, 0.020)), 0.090),
         "diaphragm": (add(T12L1, (IAP_STRUT_AHEAD_M, 0.0)), 0.0)},
        "T8-T12, 28 mm per level; chest depth ~0.2 m (xiphoid ~0.15 m ahead of the spine) [M]; " + IAP_STRUT_SRC)
segment("thorax_upper", "thorax_lower", "T7T8", mf["upper_trunk"] + mf["arms"],
        DE_LEVA + ": upper trunk plus both arms (arms hang from the shoulders)",
        add(T7T8, (0.030, 0.100)), "estimate: upper trunk and arm mass centre ~3 cm anterior to T4-T5 (arms hang on the plumb line through the hip)",
        {"t4_endplate_anterior": (endplate(T4_SUP_MID, T4_SUP_SLOPE)[0], 0.0),
         "t4_endplate_posterior": (endplate(T4_SUP_MID, T4_SUP_SLOPE)[1], 0.0),
         "c7": (C7, 0.0), "upper_back": (add(T7T8, (-0.075, 0.060)), 0.0)},
        "T1-T7, 28 mm per level; kyphosis 42 deg (men 42.8 +/- 8.8, REFERENCE.md A)")
segment("head_neck", "thorax_upper", "neck", mf["head_neck"], DE_LEVA,
        HEAD_COM, "estimate: head-neck COM just above and ahead of the tragus",
        {"tragus": (TRAGUS, 0.070), "occiput": (add(TRAGUS, (-0.090, 0.010)), 0.0)},
        f"occiput 9 cm behind the tragus (where the head rests lying) [M]; craniovertebral angle {CVA_DEG} deg with tragus 0.11 m above C7 (normal CVA > ~50 deg) [M]")

# --------------------------------------------------- joints
def joint(jid, parent, child, centre, rng, law, law_src, bilateral=False, z=0.0, sign=1, oop=None):
    w("[[joints]]")
    w(f'id = "{jid}"')
    w(f"bilateral = {'true' if bilateral else 'false'}")
    w(f'parent = "{parent}"')
    w(f'child = "{child}"')
    w(f"centre_m = {pt3(centre, z)}")
    w(f"flexion_pitches_child = {sign}")
    w(f"range_deg = [{rng[0]}, {rng[1]}]")
    w('range_source = "typical active range of motion (AAOS) [M]"')
    w("[joints.passive]")
    for k, v in law.items():
        w(f"{k} = {v}")
    w(f'source = "{law_src}"')
    if oop is not None:  # (lateral N·m/deg, axial N·m/deg, source): used by the frontal/transverse model
        w("[joints.out_of_plane]")
        w(f"lateral_Nm_per_deg = {oop[0]}")
        w(f"axial_Nm_per_deg = {oop[1]}")
        w(f'source = "{oop[2]}"')
    w("")


def lin_exp(k, lo, hi, kexp=2.0, bexp=0.25):
    """Linear stiffness k N·m/deg plus exponential end-range terms beyond lo/hi deg."""
    # term (s, a, b): s*exp(a + b*theta_deg); the first resists extension below lo, the second
    # flexion above hi; the constant makes the moment zero in the reference configuration.
    t1, t2 = (kexp, bexp * lo, -bexp), (-kexp, -bexp * hi, bexp)
    const = -(t1[0] * math.exp(t1[1]) + t2[0] * math.exp(t2[1]))
    return {"constant_Nm": round(const, 5), "linear_Nm_per_deg": -k,
            "exp_terms": f"[[{t1[0]}, {t1[1]:.3f}, {t1[2]}], [{t2[0]}, {t2[1]:.3f}, {t2[2]}]]"}


# End-range stops of the spine (issue 16): the range of motion is where the bony and ligamentous limits
# stop the motion whatever the muscles do, so each spinal joint gets a steep exponential stop at its range:
# STOP_NM at the limit, falling e-fold every 1 / STOP_PER_DEG deg inside it (5.5 N·m 2 deg inside, 0.7 N·m 3 deg inside, so the
# neutral zone keeps its sourced linear stiffness). STOP_NM exceeds the strongest pull of the model about a
# lumbar level (erector spinae at full activation: 2 x 2500 N x 0.05 m = 250 N·m) [M]. In vitro, segments
# reach their physiological range at 7.5-10 N·m and stiffen steeply beyond it (Panjabi et al. 1994).
STOP_NM, STOP_PER_DEG = 300.0, 2.0
STOP_SOURCE = ("; end-range stops: 300 N·m at each end of the range, e-fold per 0.5 deg (the range of motion is "
               "the limit no muscle of the model can pass: erector at full activation pulls 250 N·m about a lumbar level) [M]")


def with_stops(law, lo, hi):
    """``law`` plus the end-range stops at ``lo``/``hi`` deg; the constant keeps the reference moment
    (``law`` unchanged for the default model, which has no stops)."""
    if not TRUNK:
        return law
    b = STOP_PER_DEG
    t1 = (1.0, math.log(STOP_NM) + b * lo, -b)   # resists extension below lo: +300 N·m at lo
    t2 = (-1.0, math.log(STOP_NM) - b * hi, b)   # resists flexion above hi: -300 N·m at hi
    terms = law["exp_terms"].rstrip("]") + f"], [{t1[0]}, {t1[1]:.4f}, {t1[2]}], [{t2[0]}, {t2[1]:.4f}, {t2[2]}]]"
    const = law["constant_Nm"] - (t1[0] * math.exp(t1[1]) + t2[0] * math.exp(t2[1]))
    return dict(law, constant_Nm=round(const, 6), exp_terms=terms)


# Knee: Riener & Edrich (1999), the passive moment of relaxed subjects measured over hip, knee and ankle
# angles (deg, knee flexion +, hip flexion +, ankle dorsiflexion +; moment flexion +):
#   M = exp(1.800 + 0.0460 A - 0.0352 K + 0.0217 H) - exp(-3.971 + 0.0004 A + 0.0495 K - 0.0128 H) - 4.820
#       + exp(2.220 - 0.150 K)
# Coefficients as published (checked against the open implementation in gurchiek/nms-dyn). The model keeps its
# two exponential terms with their hip and ankle coupling (two-joint muscles) but not their hyperextension stop:
# the first versions' steeper stop 5 exp(-0.6 K) stays, with the constant (-6.03 instead of -4.82) that keeps the
# moment at full extension at +5 N·m as before, so the standing knee (which sits on that stop) is unchanged. The
# result is within 1.4 N·m of the published law from 35 to 110 deg of flexion (beyond, its own high-flexion
# stop): -6.3 against -5.1 N·m at 90 deg with the hip at 45 deg; -3.1 against -1.4 N·m at 20 deg). It replaces the earlier -0.5 N·m/deg throughout, which gave -45 N·m per knee at
# 90 deg: the knees could not bend in hook lying. That linear stiffness is kept where it acts, in standing, as
# the knees' postural regulation ([regulation] knee_*).
KNEE_LAW = {"constant_Nm": -6.030, "linear_Nm_per_deg": 0.0,
            "exp_terms": "[[1.0, 1.800, -0.0352], [-1.0, -3.971, 0.0495], [5.0, 0.0, -0.6], [-2.0, -30.0, 0.25]]",
            "exp_coupling": "{ hip = [0.0217, -0.0128, 0.0, 0.0], ankle = [0.0460, 0.0004, 0.0, 0.0] }"}
KNEE_LAW_SRC = ("Riener & Edrich 1999 knee law (its two exponential terms with their hip and ankle coupling: two-joint "
                "muscles); hyperextension stop 5 exp(-0.6 deg) and high-flexion stop beyond 120 deg kept from the first "
                "versions [M], constant -6.03 N·m so the moment at full extension stays +5 N·m; -6.3 N·m at 90 deg with the "
                "hip at 45 deg (published: -5.1)")

joint("ankle", "foot", "shank", ANKLE, (-50, 20),
      {"constant_Nm": 0.013450, "linear_Nm_per_deg": -1.0, "exp_terms": "[[2.0, -11.25, -0.25], [-2.0, -5.0, 0.25]]"},
      "estimate: ~57 N·m/rad passive (non-muscular) ankle stiffness per side; muscle short-range stiffness adds the rest (Loram & Lakie 2002 total intrinsic ~0.9 mgh); exponential stops beyond 45 deg plantarflexion and 20 deg dorsiflexion (ROM 50/20 deg, AAOS) [M]",
      bilateral=True, z=LEG_Z, sign=1,
      oop=(0.6, 0.0, "estimate: passive inversion-eversion stiffness of the loaded ankle-subtalar complex ~0.6 N·m/deg per side "
                     "near neutral (no peroneals or tibialis posterior in this model; frontal balance is regulated) [M]; "
                     "axial: the leg does not twist on the planted foot (knee and ankle locked in rotation)"))
joint("knee", "shank", "thigh", KNEE, (-5, 140),
      KNEE_LAW, KNEE_LAW_SRC,
      bilateral=True, z=LEG_Z, sign=-1)
joint("hip", "thigh", "pelvis", HIP, (-20, 120),
      {"constant_Nm": 8.072, "linear_Nm_per_deg": 0.0, "exp_terms": "[[1.0, 1.4655, -0.0750], [-1.0, 1.3403, 0.0305]]",
       "exp_coupling": "{ knee = [-0.0034, -0.0226] }"},
      "Riener & Edrich 1999 hip law (REFERENCE.md C) with its knee terms: +8.6 N·m at 0 with the knee straight, zero "
      "near 27 deg, -25 N·m/rad; bending the knee slackens the hamstrings (-0.0226/deg in the extension term) so "
      "the hip flexes freely with the knee bent",
      bilateral=True, z=LEG_Z, sign=1,
      oop=(0.4, 0.2, "estimate: passive hip ab/adduction ~0.4 N·m/deg and rotation ~0.2 N·m/deg per side near neutral "
                     "(capsule and ligaments; the order of the passive moments reported by Yoon & Mansour 1982) [M]"))
LUMBAR_K = 1.5
LUMBAR_OOP = (1.5, 4.0, "lateral bending as stiff as flexion-extension (similar 5-6 deg per side at 7.5 N·m) and axial rotation "
                        "about 2.5x stiffer (1.5-2 deg at 7.5 N·m) per lumbar level in vitro (Panjabi et al. 1994; Yamamoto "
                        "et al. 1989) [M]")
prev = "pelvis"
for name, jn in [("L5", "L5S1"), ("L4", "L4L5"), ("L3", "L3L4"), ("L2", "L2L3"), ("L1", "L1L2")]:
    rng = (-4, 8) if jn != "L5S1" else (-5, 10)
    joint(jn, prev, name, lumbar[name]["joint"], rng,
          with_stops(lin_exp(LUMBAR_K, -6, 10), *rng),
          "1.5 N·m/deg (~86 N·m/rad) per level in flexion-extension: in-vitro segments give 5-7 deg for 7.5 N·m (Panjabi et al. 1994, Yamamoto et al. 1989) and compressive preload stiffens them in vivo (Gardner-Morse & Stokes 2003) [M]; exponential end range" + (STOP_SOURCE if TRUNK else ""),
          sign=1, oop=LUMBAR_OOP)
    prev = name
joint("T12L1", "L1", "thorax_lower", T12L1, (-4, 8), with_stops(lin_exp(LUMBAR_K, -6, 10), -4, 8),
      "as the lumbar levels (thoracolumbar junction) [M]" + (STOP_SOURCE if TRUNK else ""), sign=1, oop=LUMBAR_OOP)
T7T8_LAW = lin_exp(0.8, -12, 20)
T7T8_LAW["constant_Nm"] = round(T7T8_LAW["constant_Nm"] - 0.8 * 10.0, 5)
T7T8_RANGE = (-20, 20) if TRUNK else (-10, 20)  # trunk: lying supine the lumped joint extends ~17 deg
T7T8_LAW = with_stops(T7T8_LAW, *T7T8_RANGE)
joint("T7T8", "thorax_lower", "thorax_upper", T7T8, T7T8_RANGE, T7T8_LAW,
      "estimate: thoracic levels T4-T12 lumped in one joint, 0.8 N·m/deg; rib cage stiffens the thoracic spine "
      "(Watkins 2005) [M]. Passive neutral 10 deg more extended than the standing reference (kyphosis is smaller lying "
      "than standing [M]), i.e. pre-loaded by -8 N·m in the reference" + (
          ". Range 20 deg either way from standing (lying supine the lumped thoracic joint extends about 17 deg) [M]"
          + STOP_SOURCE if TRUNK else ""), sign=1,
      oop=(0.8, 1.0, "estimate: thoracic levels T4-T12 lumped; side-bend as stiff as flexion (0.8 N·m/deg), twist a little "
                     "stiffer (the thoracic spine rotates more freely than the lumbar, but the rib cage stiffens it) [M]"))
joint("neck", "thorax_upper", "head_neck", NECK, (-60, 50), lin_exp(0.3, -50, 40),
      "estimate: cervical passive stiffness ~0.3 N·m/deg over the whole neck [M]", sign=1)

# --------------------------------------------------- muscles
def P(seg, p, z=0.0):
    return f'{{ segment = "{seg}", point_m = {pt3(p, z)} }}'


def muscle(mid, groups, origin, insertion, via, F0, lopt, f_src, tone, tone_src, path_src,
           bilateral=True, lref=1.0, slack=1.0, notes=""):
    w("[[muscles]]")
    w(f'id = "{mid}"')
    w(f"bilateral = {'true' if bilateral else 'false'}")
    w(f"groups = [{', '.join(repr(g).replace(chr(39), chr(34)) for g in groups)}]")
    w(f"origin = {origin}")
    w("via = [" + ", ".join(via) + "]")
    w(f"insertion = {insertion}")
    w(f'path_source = "{path_src}"')
    w(f"max_isometric_force_N = {F0}")
    w(f"optimal_fiber_length_m = {lopt}")
    w(f'force_source = "{f_src}"')
    w(f"fiber_length_at_reference_normalized = {lref}")
    w(f"passive_slack_length_normalized = {slack}")
    w('length_source = "estimate: fibres at optimal length in habitual standing (tendon slack derived from it); passive force starts at optimal length (Thelen 2003)"')
    w(f"default_tone = {tone}")
    w(f'tone_source = "{tone_src}"')
    if notes:
        w(f'notes = "{notes}"')
    w("")


G2392 = "OpenSim gait2392 (Delp 1990), REFERENCE.md B / reference-data"
QUIET = "estimate: quiet-standing EMG is a few % of maximum in trunk and hip muscles (Basmajian & De Luca 1985) [M]"
BRIM = add(HIP, (0.040, 0.012))         # iliopubic eminence / pelvic brim, ahead of and above the femoral head
LT = add(HIP, (-0.005, -0.060))
PATELLA = add(KNEE, (0.050, 0.020))
TUB = add(KNEE, (0.035, -0.060))
CALC = add(ANKLE, (-0.050, -0.030))

muscle("psoas_major", ["hip_flexors", "iliopsoas"], P("L1", vbody("L1", 0.5, 0.012), 0.030),
       P("thigh", LT, LEG_Z - 0.015), [P("pelvis", BRIM, 0.075)], 1113, 0.100, G2392 + ": psoas 1113 N, 0.100 m",
       0.05, QUIET + "; psoas shows slight continuous activity in stance (Basmajian 1958)",
       "L1 vertebral body to lesser trochanter, bending over the pelvic brim (iliopubic eminence); one line for fascicles T12-L5 [M]. "
       "Brim placed so the hip moment arm (about 3 cm) lies between gait2392 3.85 cm and Rajagopal 2.41 cm")
muscle("psoas_minor", ["iliopsoas"], P("L1", vbody("L1", 0.8, 0.012), 0.025), P("pelvis", add(BRIM, (-0.005, 0.010)), 0.070), [],
       100, 0.080, "estimate: small muscle (absent in about half of people); PCSA ~2 cm^2 at 50 N/cm^2",
       0.05, QUIET, "T12-L1 bodies to the iliopubic eminence [M]")
muscle("iliacus", ["hip_flexors", "iliopsoas"], P("pelvis", add(HIP, (0.015, 0.100)), 0.090),
       P("thigh", LT, LEG_Z - 0.015), [P("pelvis", add(BRIM, (0.002, -0.004)), 0.080)], 1073, 0.100, G2392 + ": iliacus 1073 N, 0.100 m",
       0.05, QUIET, "iliac fossa over the pelvic brim to the lesser trochanter [M]")
muscle("rectus_abdominis", ["abdominals"], P("pelvis", PUBIS, 0.015), P("thorax_upper" if TRUNK else "thorax_lower", XIPHOID, 0.030), [],
       297, 0.300, "Christophy 2012 lumbar model via MyoTorso: 297 N (REFERENCE.md B)",
       0.02, QUIET, "pubic crest to the xiphoid and the 5th-7th costal cartilages; straight line [M]" + (
           ". The cartilages belong to ribs 5-7, which articulate with T5-T7, so the insertion moves with the model's upper "
           "thoracic segment (T1-T7): the muscle crosses T7-T8 and can round the upper back (Gray's Anatomy: rectus abdominis "
           "insertion)" if TRUNK else ""))
muscle("external_oblique", ["abdominals", "obliques"], P("pelvis", add(ASIS, (-0.010, 0.005)), 0.120),
       P("thorax_lower", add(T12L1, (0.120, 0.060)), 0.120), [], 900, 0.120, G2392 + ": extobl 900 N, 0.120 m",
       0.02, QUIET, "lower ribs (outer surface, ribs 5-12) to the anterior iliac crest; sagittal projection [M]")
muscle("internal_oblique", ["abdominals", "obliques"], P("pelvis", add(HIP, (0.030, 0.150)), 0.135),
       P("thorax_lower", add(T12L1, (0.080, 0.040)), 0.110), [], 900, 0.100, G2392 + ": intobl 900 N, 0.100 m",
       0.03, QUIET, "anterior iliac crest and thoracolumbar fascia to ribs 10-12 and linea alba; sagittal projection [M]")
muscle("transversus_abdominis", ["abdominals"], P("pelvis", add(HIP, (0.010, 0.155)), 0.140),
       P("thorax_lower", add(T12L1, (0.050, 0.030)), 0.120), [], 250, 0.100,
       "estimate: PCSA ~5 cm^2 at 50 N/cm^2 (Stokes & Gardner-Morse 1999 order of magnitude) [M]",
       0.04, QUIET, "iliac crest to lower costal cartilages; mostly circumferential, small sagittal moment arm [M]")
ES_VIA = [P(n, vbody(n, 0.5, -0.050), 0.030) for n in ["L5", "L4", "L3", "L2", "L1"]]
muscle("erector_spinae", ["back_extensors"], P("pelvis", add(PSIS, (0.022, -0.010)), 0.030),
       P("thorax_lower", add(T12L1, (-0.052, 0.080)), 0.035), ES_VIA, 2500, 0.120, G2392 + ": ercspn 2500 N, 0.120 m",
       0.04, "estimate: quiet-standing erector spinae EMG ~1-5 % MVC [M]; 0.04 keeps the reference lumbar curve near equilibrium (the regulation adds what uprightness needs)",
       "sacrum and PSIS, following the lumbar curve ~5 cm behind the disc centres, to the lower ribs (lumbar parts of "
       "iliocostalis and longissimus with multifidus). The thoracic parts are a separate muscle: one cable from pelvis to "
       "upper thorax would couple every spinal level through its tension [M]")
muscle("thoracic_extensors", ["back_extensors"], P("thorax_lower", add(T12L1, (-0.050, 0.030)), 0.030),
       P("thorax_upper", add(T7T8, (-0.045, 0.080)), 0.030), [], 543, 0.120,
       "Christophy 2012 via MyoTorso: longissimus thoracis pars thoracis 543 N (REFERENCE.md B)",
       0.04, QUIET, "thoracic parts of longissimus and iliocostalis and spinalis, lower to upper thoracic spine [M]")
muscle("quadratus_lumborum", ["back_extensors"], P("pelvis", add(HIP, (-0.030, 0.160)), 0.070),
       P("thorax_lower", add(T12L1, (-0.020, 0.020)), 0.050), [P("L3", vbody("L3", 0.5, -0.020), 0.050)], 208, 0.080,
       "Christophy 2012 via MyoTorso: 208 N (REFERENCE.md B)", 0.03, QUIET,
       "posterior iliac crest to the 12th rib, along the lumbar transverse processes [M]")
muscle("gluteus_maximus", ["glutes", "hip_extensors"], P("pelvis", add(PSIS, (-0.005, -0.060)), 0.050),
       P("thigh", add(HIP, (-0.015, -0.130)), LEG_Z + 0.020), [P("thigh", add(HIP, (-0.050, -0.050)), LEG_Z + 0.02)],
       1944, 0.144, G2392 + ": glut_max1-3 sum 1944 N, 0.144 m", 0.03, QUIET,
       "posterior ilium and sacrum, behind the greater trochanter, to the gluteal tuberosity [M]; the via point's lateral "
       "offset set so the external rotation moment arm (about 2.9 cm) lies near gait2392's 2.2 cm (reference-data)")
muscle("gluteus_medius", ["glutes"], P("pelvis", add(HIP, (-0.025, 0.120)), 0.125),
       P("thigh", add(HIP, (-0.010, -0.015)), LEG_Z + 0.045), [], 2045, 0.070, G2392 + ": glut_med1-3 sum 2045 N, ~0.07 m",
       0.04, QUIET, "outer ilium to the greater trochanter; sagittal projection of the three bundles [M]; lateral "
       "offsets set so the abduction moment arm (about 4.5 cm) lies near gait2392's 4.3 cm (reference-data)")
muscle("gluteus_minimus", ["glutes"], P("pelvis", add(HIP, (0.012, 0.090)), 0.120),
       P("thigh", add(HIP, (-0.004, -0.010)), LEG_Z + 0.040), [], 878, 0.068, G2392 + ": glut_min1-3 sum 878 N, 0.068 m",
       0.04, QUIET, "outer ilium (anterior part) to the front of the greater trochanter [M]; lateral offsets set so "
       "the abduction moment arm (about 4 cm) lies near gait2392's 4.1 cm (reference-data)")
muscle("hamstrings", ["hamstrings", "hip_extensors"], P("pelvis", add(HIP, (-0.050, -0.060)), 0.060),
       P("shank", add(KNEE, (-0.020, -0.045)), LEG_Z - 0.010), [P("thigh", add(KNEE, (-0.035, 0.040)), LEG_Z)],
       2594, 0.100, G2392 + ": biceps femoris long head 896 + semimembranosus 1288 + semitendinosus 410 N; l_opt weighted ~0.10 m",
       0.04, QUIET, "ischial tuberosity, behind the knee, to the proximal tibia and fibula [M]")
muscle("rectus_femoris", ["hip_flexors", "quadriceps"], P("pelvis", add(HIP, (0.040, 0.045)), 0.080),
       P("shank", TUB, LEG_Z), [P("thigh", PATELLA, LEG_Z)], 1169, 0.114, G2392 + ": rect_fem 1169 N, 0.114 m",
       0.02, QUIET, "anterior inferior iliac spine over the patella to the tibial tuberosity [M]")
muscle("vasti", ["quadriceps"], P("thigh", add(HIP, (0.030, -0.200)), LEG_Z),
       P("shank", TUB, LEG_Z), [P("thigh", PATELLA, LEG_Z)], 4530, 0.087, G2392 + ": vastus medialis 1294 + intermedius 1365 + lateralis 1871 N",
       0.03, QUIET, "femoral shaft over the patella to the tibial tuberosity [M]")
muscle("gastrocnemius", ["calves"], P("thigh", add(KNEE, (-0.020, 0.025)), LEG_Z),
       P("foot", CALC, LEG_Z), [P("shank", add(KNEE, (-0.030, -0.040)), LEG_Z)], 2241, 0.060, G2392 + ": med_gas 1558 + lat_gas 683 N",
       0.05, "estimate: calf EMG in quiet stance ~5-10 % MVC (Joseph 1960s; Loram 2004) [M]",
       "femoral condyles to the calcaneus [M]")
muscle("soleus", ["calves"], P("shank", add(KNEE, (-0.015, -0.150)), LEG_Z), P("foot", CALC, LEG_Z), [],
       3549, 0.050, G2392 + ": soleus 3549 N, 0.050 m", 0.08,
       "estimate: soleus is the main tonic muscle of stance, ~5-10 % MVC (Loram 2004) [M]", "posterior tibia and fibula to the calcaneus [M]")
muscle("tibialis_anterior", ["shin"], P("shank", add(KNEE, (0.020, -0.120)), LEG_Z),
       P("foot", add(ANKLE, (0.070, -0.050)), LEG_Z - 0.020), [P("shank", add(ANKLE, (0.038, 0.030)), LEG_Z)],
       905, 0.098, G2392 + ": tib_ant 905 N, 0.098 m", 0.02, QUIET, "lateral tibia under the extensor retinaculum to the medial cuneiform [M]")
muscle("diaphragm", ["breathing"], P("L3", vbody("L3", 0.5, 0.020), 0.0), P("thorax_lower", add(T12L1, (0.090, 0.050)), 0.0),
       [], 300, 0.100, "estimate: crural part only; its dome is not modelled [M]", 0.05,
       "estimate: tonic inspiratory and postural activity [M]",
       "crura on L1-L3 to the lower costal margin; sagittal projection; a posture model sees only its pull on the spine [M]",
       bilateral=False)

# --------------------------------------------------- groups, coupling, regulation, relations
w("[groups]")
w('hip_flexors = ["psoas_major", "iliacus", "rectus_femoris"]')
w('iliopsoas = ["psoas_major", "psoas_minor", "iliacus"]')
w('abdominals = ["rectus_abdominis", "external_oblique", "internal_oblique", "transversus_abdominis"]')
w('obliques = ["external_oblique", "internal_oblique"]')
w('glutes = ["gluteus_maximus", "gluteus_medius", "gluteus_minimus"]')
w('hip_extensors = ["gluteus_maximus", "hamstrings"]')
w('calves = ["gastrocnemius", "soleus"]')
w('quadriceps = ["rectus_femoris", "vasti"]')
w('back_extensors = ["erector_spinae", "thoracic_extensors", "quadratus_lumborum"]')
w("")
w("[muscle_model]")
w("short_range_stiffness_gamma = 23.0")
w('short_range_stiffness_source = "Cui et al. 2008: k = gamma * a * F0 / l_opt with gamma ~ 23 (DESIGN.md section 5)"')
w("force_length_width = 0.45")
w('force_length_source = "Gaussian active force-length curve, width 0.45 (Thelen 2003 default)"')
w("passive_strain_at_F0 = 0.6")
w("passive_shape = 4.0")
w('passive_source = "Thelen 2003 exponential passive force-length curve (strain 0.6 at F0, shape 4)"')
w("")
w("[coupling]")
w("synergist_gain = 0.05")
w("antagonist_gain = -0.05")
w("min_moment_arm_m = 0.01")
# The gains are not measured: a literature search (issue 16) found reciprocal Ia inhibition measured as a
# conditioning of reflexes (H-reflex depression after antagonist-nerve stimulation, stronger standing than
# walking: Physiol Rep 2015, doi 10.14814/phy2.12276), which gives the sign of a coupling but no steady
# resting-tone gain, and no study of synergist co-activation of resting tone in quiet standing. The
# source string must start with "estimate": musclesim.attribution grades the coupling from it.
w('source = "estimate, unsourced: weak reciprocal inhibition and synergist co-activation between same-side muscles sharing a joint, a guess at a few % per unit tone change; no measurement of such a resting-tone gain in quiet standing was found (reciprocal Ia inhibition is measured as reflex conditioning, which gives its sign, not a tone gain). Its share of every change is reported separately (Result.split, docs/validation.md); coupling=False or gains of 0 isolate the mechanics"')
w("")
w("[regulation]")
w("com_anterior_of_ankle_m = 0.05")
w('com_source = "quiet stance: centre of pressure about 4-6 cm anterior to the ankle joint (Winter 1995, Gait Posture 3:193) [M]"')
w('upright_segment = "thorax_lower"')
w('gaze_segment = "head_neck"')
w('ankle_joint = "ankle"')
w('neck_joint = "neck"')
w('trunk_extensor = "erector_spinae"')
w('trunk_flexor = "rectus_abdominis"')
w('source = "DESIGN.md section 5: centre of mass over the feet by an ankle torque, level gaze by a neck torque, the rib cage\'s pitch in space kept by extra trunk-muscle force (kept exactly: within-person lordosis changes about as much as pelvic tilt, Levine & Whittle 1996, so the upper trunk keeps its orientation; upright_gain_N_per_deg would make it a spring)"')
# The rib cage's pitch in space is a hard goal (no upright_gain_N_per_deg): within-person data give a lumbar
# lordosis change about equal to the pelvic tilt change (Levine & Whittle 1996), i.e. the upper trunk keeps its
# orientation when the pelvis tilts. A proportional regulator is available (upright_gain_N_per_deg, N of trunk
# effort per degree of rib-cage pitch): the gain of a minimal stabilising controller, 1.3 m g h of the body above
# L5-S1 (Peterka 2002's ratio at the ankle; 34.4 kg, 0.394 m, over the erector's 0.05 m arm: 60 N/deg), lets the
# rib cage follow the pelvis and gives dLL/dPT 0.0-0.2 for the hip muscles, against ~1 measured; at 1000 N/deg and
# above the answers approach the hard goal (docs/validation.md, "Rib-cage regulation").
# The knees: the passive knee of Riener & Edrich 1999 (relaxed subjects) is soft beyond ~10 deg of flexion, and
# standing on it the knees would fold under a little hamstring or calf tone. Standing people keep them extended
# with the quadriceps; the model writes that as a spring about the reference angle (the knee's postural
# regulation, like the ankle's and the neck's), in standing only. Its stiffness is the linear stiffness the
# first versions gave the passive knee (0.5 N·m/deg per knee), which kept the standing answers of the claims
# catalogue; it is an estimate of the regulation's strength, not a measurement.
w('knee_joint = "knee"')
w("knee_stiffness_Nm_per_deg = 0.5")
w('knee_source = "estimate: in standing the quadriceps keep the knees near extension; a spring of 0.5 N·m/deg per knee '
  'about the reference angle: the linear stiffness the first versions gave the passive knee, which the relaxed-knee '
  'measurements do not show (Riener & Edrich 1999), kept where it acts [M]. Lying has no '
  'knee regulation: the relaxed knee of Riener & Edrich 1999"')
w("")

# intra-abdominal pressure (DESIGN.md section 5; REFERENCE.md section A): P = rest + T_wall / (h R), the force P A a strut
IAP_REST_MMHG = 9.51 if TRUNK else 13.01  # calibrated: the standing baseline reads 20 mmHg (see the source string)
w("[abdominal_pressure]")
w(f"rest_mmHg = {IAP_REST_MMHG}")
w('rest_source = "calibrated so that the standing baseline (default tone) reads 20 mmHg, the standing bladder pressure of '
  'Cobb et al. 2005 (REFERENCE.md section A); the rest stands for the abdominal contents (their weight and the wall\'s '
  'passive stretch), the wall muscles\' tone adds the remainder"')
w("area_m2 = 0.025")
w("wall_hR_m2 = 0.03")
w('geometry_source = "estimate (DESIGN.md section 5, a prototype of this model): the pressure acts on diaphragm and pelvic '
  'floor over ~0.025 m^2 (abdominal cross-section ~ 0.25 m x 0.1 m effective); Laplace hoop law P = T / R for a wall band '
  'of height h ~ 0.2 m and radius R ~ 0.15 m, h R ~ 0.03 m^2"')
w('wall_weights = { transversus_abdominis = 1.0, internal_oblique = 0.7, external_oblique = 0.7, rectus_abdominis = 0.1 }')
w('weights_source = "estimate: the share of each muscle\'s force that runs around the abdomen (cosine of its fibres\' angle '
  'to the horizontal: transversus ~0 deg, obliques ~45 deg, rectus vertical, tensioned around only by the wall\'s '
  'curvature); IAP follows transversus activity most closely (Cresswell, Grundstrom & Thorstensson 1992, Acta Physiol '
  'Scand 144:409). Each side of a muscle counts half (a hoop\'s two halves carry its tension in series)"')
w('diaphragm = { segment = "thorax_lower", landmark = "diaphragm" }')
w('pelvic_floor = { segment = "pelvis", landmark = "pelvic_floor" }')
# Lying the abdominal contents press over the abdomen's depth, not its height: the hydrostatic part of the rest
# pressure falls by rho g (H_standing - H_lying). H_standing is the vertical distance from the pelvic floor to the
# diaphragm's strut end in the reference configuration; H_lying half the abdomen's depth lying (the sagittal
# abdominal diameter of adults is about 0.2 m [M]), the column
# above the mid-abdomen lying on the back. Measured: supine ~7 mmHg against 20 standing (Chionh 2006; Cobb 2005).
H_STANDING_M = (T12L1[1]) - lumbar["L5"]["joint"][1]
H_LYING_M = 0.10
LYING_REST = max(0.0, IAP_REST_MMHG - 1000.0 * 9.81 * (H_STANDING_M - H_LYING_M) / 133.322)  # the rest cannot go below 0
LYING_FLOOR_NOTE = ("; the drop exceeds this model's rest part, so it is 0 lying (the wall muscles' tone carries all of "
                    "the pressure)") if LYING_REST == 0 else ""
w(f"lying_rest_mmHg = {LYING_REST:.2f}")
w(f'lying_rest_source = "hydrostatic: the rest part less rho g (H_standing - H_lying) = 1000 kg/m^3 x 9.81 x '
  f'({H_STANDING_M:.3f} - {H_LYING_M:.2f}) m: the contents (density ~ water) press over the pelvic floor-diaphragm '
  f'height standing ({H_STANDING_M:.3f} m in the reference configuration) but over about half the abdomen\'s depth lying '
  f'on the back (~0.10 m, half a sagittal abdominal diameter of ~0.2 m) [M]{LYING_FLOOR_NOTE}. Not calibrated: measured supine ~7 mmHg (Chionh 2006) is the check"')
w("")

SRC0, SRC2, SRC4 = "000_30301ec732fd73a2.txt", "002_5c4430ba6b3a40b6.txt", "004_71c9766c3f76f194.txt"
relations = [
    ("psoas_major", "abdominals", "antagonist", "pubis: iliopsoas pushes it back, abdominals pull it forward (standing)", SRC0),
    ("psoas_minor", "abdominals", "antagonist", "lumbar spine: psoas minor pulls it forward, abdominals push it back", SRC0),
    ("psoas_major", "abdominals", "synergist", "both bring the front of the upper lumbar spine down and back; one-sided shortening with the iliac crest drawn to the waist", SRC0),
    ("iliacus", "quadratus_lumborum", "synergist", "trunk twisting and untwisting in walking (iliacus feeding into quadratus lumborum)", SRC0),
    ("iliacus", "obliques", "synergist", "rotate the pelvis forward on the same side in walking", SRC0),
    ("gluteus_minimus", "psoas_major", "synergist", "hip flexion (anterior bundle) with internal rotation against the psoas' external rotation", SRC0),
    ("psoas_major", "iliacus", "agonist", "iliopsoas: hip flexion through a common tendon", "003_83db9d8bacb067d9.txt"),
    ("psoas_major", "hamstrings", "antagonist", "a weak psoas with tight hamstrings flattens the lumbar curve", SRC4),
    ("psoas_major", "gluteus_maximus", "antagonist", "hip flexion against hip extension (anatomy texts; strengthening the glutes relieves the psoas)", "001_881622d7f40ce67f.txt"),
    ("psoas_major", "erector_spinae", "synergist", "both hold the lumbar spine in lordosis when standing (tight psoas and hyperlordosis)", SRC2),
    ("calves", "psoas_major", "synergist", "tight calves add to the hip flexors' postural burden", SRC0),
]
for a, b, kind, action, src in relations:
    w("[[relations]]")
    w(f'a = "{a}"')
    w(f'b = "{b}"')
    w(f'kind = "{kind}"')
    w(f'action = "{action}"')
    w(f'source = "{src}"')
    w("")

OUT.write_text("\n".join(out))
print(f"reference: SVA {1000 * (C7[0] - S1_POST[0]):.0f} mm, head forward {1000 * (TRAGUS[0] - C7[0]):.0f} mm, "
      f"hip ahead of ankle {1000 * (HIP[0] - ANKLE[0]):.0f} mm")
print(f"wrote {OUT} ({len(out)} lines)")
