"""Build the parametric MuJoCo humanoid from :class:`~motionlab.body.BodyParams` with ``MjSpec``.

The template ``assets/mjcf/humanoid.xml`` fixes topology, joints, limits and actuators; this module
rewrites every length, radius, mass and PD gain from the body parameters and adds one site per
MediaPipe-33 landmark (``kp_<landmark>``), so the same model serves simulation, retargeting and 2D
projection. Building is deterministic and takes a few milliseconds.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from importlib import resources

import mujoco
import numpy as np

from motionlab.body import BodyParams
from motionlab.keypoints import LANDMARK_NAMES

DEFAULT_BODY = BodyParams().resolved()

# Actuated hinge joints in qpos order (qpos[7:] after the free root joint).
JOINT_NAMES: tuple[str, ...] = (
    "chest_y", "chest_x", "chest_z", "neck_y", "neck_x", "neck_z",
    "right_shoulder_y", "right_shoulder_x", "right_shoulder_z", "right_elbow",
    "left_shoulder_y", "left_shoulder_x", "left_shoulder_z", "left_elbow",
    "right_hip_y", "right_hip_x", "right_hip_z", "right_knee",
    "right_ankle_y", "right_ankle_x", "right_ankle_z",
    "left_hip_y", "left_hip_x", "left_hip_z", "left_knee",
    "left_ankle_y", "left_ankle_x", "left_ankle_z",
)  # fmt: skip
NUM_JOINTS = len(JOINT_NAMES)
NQ = 7 + NUM_JOINTS
NV = 6 + NUM_JOINTS
END_EFFECTORS: tuple[str, ...] = ("kp_left_wrist", "kp_right_wrist", "kp_left_ankle", "kp_right_ankle")
FOOT_GEOMS: tuple[str, ...] = ("left_foot", "right_foot")
# One touch sensor per foot (left, right): the normal force of its floor contacts, computed by MuJoCo inside
# every physics step (what mj_contactForce gives, without a Python loop over contacts).
FOOT_TOUCH_SENSORS: tuple[str, ...] = ("left_foot_touch", "right_foot_touch")
# Then, per actuator, its force and its joint's speed (``actuatorfrc``, ``jointvel``): with the touch sensors
# one contiguous block of ``sensordata`` that a single copy records after each physics step.
_SOLE_SITE_MARGIN_M = 0.02  # the touch site is the foot box grown by this, so it holds every contact point
# Geoms that may touch the ground without ending an episode (a fall is anything else touching it).
GROUND_CONTACT_GEOMS: tuple[str, ...] = ("left_foot", "right_foot", "left_shin", "right_shin", "left_hand", "right_hand")

# Reference girths (radius in m) of the default body; they scale with height and sqrt(BMI).
_RADIUS = {
    "pelvis": 0.09, "waist": 0.10, "chest": 0.115, "shoulders": 0.06, "neck": 0.045,
    "upper_arm": 0.045, "forearm": 0.038, "hand": 0.04, "thigh": 0.065, "shin": 0.05,
}  # fmt: skip
SERVO_DAMPING_CAP = 1.0  # max kv * timestep / joint inertia: stable even when a servo saturates
# Actuator gains and torque limits in the template are for the default body; they scale with
# mass * height (torque needed to move a geometrically similar body at the same angular rate).


@dataclass(frozen=True)
class HumanoidModel:
    """A compiled model with the body it was built for and handy index tables."""

    model: mujoco.MjModel
    body: BodyParams

    @functools.cached_property
    def joint_ranges(self) -> np.ndarray:
        """(NUM_JOINTS, 2) joint limits in radians, in qpos order."""
        return self.model.jnt_range[1:].copy()

    @functools.cached_property
    def keypoint_site_ids(self) -> np.ndarray:
        return np.array([self.model.site(f"kp_{n}").id for n in LANDMARK_NAMES])

    @functools.cached_property
    def end_effector_site_ids(self) -> np.ndarray:
        return np.array([self.model.site(n).id for n in END_EFFECTORS])


def _template_xml() -> str:
    return resources.files("motionlab.assets").joinpath("mjcf/humanoid.xml").read_text()


@functools.lru_cache(maxsize=1)
def _template_spec() -> mujoco.MjSpec:
    return mujoco.MjSpec.from_string(_template_xml())


def build_spec(body: BodyParams | None = None) -> mujoco.MjSpec:
    """An ``MjSpec`` of the humanoid scaled to ``body`` (not yet compiled)."""
    b = BodyParams.coerce(body).resolved()
    spec = _template_spec().copy()
    s = b.height / DEFAULT_BODY.height
    girth = s * np.sqrt((b.mass / b.height**2) / (DEFAULT_BODY.mass / DEFAULT_BODY.height**2))
    r = {k: v * girth for k, v in _RADIUS.items()}
    torso, nh, pw = b.segment("torso"), b.segment("neck_head"), b.segment("pelvis_width")
    lower_torso = 0.513 * torso  # pelvis (hip centres) to the chest joint, DeepMimic proportion
    upper_torso = torso - lower_torso
    thigh, shank, foot, ankle_h = b.segment("thigh"), b.segment("shank"), b.segment("foot"), b.ankle_height
    upper_arm, forearm = b.segment("upper_arm"), b.segment("forearm")
    head_r = 0.37 * nh
    head_c = np.array([0.0, 0.0, nh - head_r])

    def body_(name: str) -> mujoco.MjsBody:
        return spec.body(name)

    def capsule(name: str, p0, p1, radius: float) -> None:
        g = spec.geom(name)
        g.fromto = np.r_[p0, p1]
        g.size = [radius, 0, 0]

    body_("pelvis").pos = [0, 0, b.leg_length + 0.02]
    capsule("pelvis", [0, -pw / 2, 0.3 * r["pelvis"]], [0, pw / 2, 0.3 * r["pelvis"]], r["pelvis"])
    body_("chest").pos = [0, 0, lower_torso]
    capsule("waist", [0, 0, -0.45 * lower_torso], [0, 0, 0.2 * upper_torso], r["waist"])
    capsule("chest", [0, 0, 0.2 * upper_torso], [0, 0, 0.8 * upper_torso], r["chest"])
    half_sw = b.shoulder_width / 2
    capsule("shoulders", [0, -0.75 * half_sw, 0.8 * upper_torso], [0, 0.75 * half_sw, 0.8 * upper_torso], r["shoulders"])
    body_("head").pos = [0, 0, upper_torso]
    capsule("neck", [0, 0, 0], head_c * 0.6, r["neck"])
    head = spec.geom("head")
    head.pos, head.size = head_c, [head_r, 0, 0]

    for side, sign in (("right", -1.0), ("left", 1.0)):
        body_(f"{side}_upper_arm").pos = [-0.02 * s, sign * half_sw, upper_torso]
        capsule(f"{side}_upper_arm", [0, 0, 0], [0, 0, -upper_arm], r["upper_arm"])
        body_(f"{side}_forearm").pos = [0, 0, -upper_arm]
        capsule(f"{side}_forearm", [0, 0, 0], [0, 0, -forearm], r["forearm"])
        hand = spec.geom(f"{side}_hand")
        hand.pos, hand.size = [0, 0, -forearm - r["hand"]], [r["hand"], 0, 0]
        body_(f"{side}_thigh").pos = [0, sign * pw / 2, 0]
        capsule(f"{side}_thigh", [0, 0, 0], [0, 0, -thigh], r["thigh"])
        body_(f"{side}_shin").pos = [0, 0, -thigh]
        capsule(f"{side}_shin", [0, 0, 0], [0, 0, -shank], r["shin"])
        body_(f"{side}_foot").pos = [0, 0, -shank]
        box = spec.geom(f"{side}_foot")
        box.pos = [0.254 * foot, 0, -ankle_h / 2]
        box.size = [foot / 2, 0.3 * foot * girth / s, ankle_h / 2]

    _set_masses(spec, b)
    _scale_actuators(spec, b.mass * b.height / (DEFAULT_BODY.mass * DEFAULT_BODY.height))
    _add_keypoint_sites(spec, b, head_c, head_r)
    _add_foot_touch_sensors(spec)
    return spec


def _add_foot_touch_sensors(spec: mujoco.MjSpec) -> None:
    """A box site around each foot and a ``touch`` sensor on it (:data:`FOOT_TOUCH_SENSORS`), then an
    ``actuatorfrc`` and a ``jointvel`` sensor per actuator; sensors do not change the dynamics."""
    for geom_name, sensor_name in zip(FOOT_GEOMS, FOOT_TOUCH_SENSORS):
        box = spec.geom(geom_name)
        spec.body(geom_name).add_site(
            name=f"{geom_name}_sole", type=mujoco.mjtGeom.mjGEOM_BOX, pos=box.pos,
            size=np.asarray(box.size) + _SOLE_SITE_MARGIN_M, group=4, rgba=[0, 0, 0, 0],
        )  # fmt: skip
        spec.add_sensor(
            name=sensor_name, type=mujoco.mjtSensor.mjSENS_TOUCH, objtype=mujoco.mjtObj.mjOBJ_SITE,
            objname=f"{geom_name}_sole",
        )  # fmt: skip
    for act in spec.actuators:
        spec.add_sensor(name=f"{act.name}_force", type=mujoco.mjtSensor.mjSENS_ACTUATORFRC, objtype=mujoco.mjtObj.mjOBJ_ACTUATOR, objname=act.name)
    for act in spec.actuators:
        spec.add_sensor(name=f"{act.target}_speed", type=mujoco.mjtSensor.mjSENS_JOINTVEL, objtype=mujoco.mjtObj.mjOBJ_JOINT, objname=act.target)


def _set_masses(spec: mujoco.MjSpec, b: BodyParams) -> None:
    """Give every body its de Leva mass, split over its geoms by volume."""
    segment_of = {
        "pelvis": "pelvis", "chest": "chest", "head": "head",
        "upper_arm": "upper_arm", "forearm": "forearm", "thigh": "thigh", "shin": "shank", "foot": "foot",
    }  # fmt: skip
    for mbody in spec.bodies[1:]:
        key = mbody.name.removeprefix("right_").removeprefix("left_")
        total = b.segment_mass(segment_of[key])
        geoms = list(mbody.geoms)
        volumes = np.array([_volume(g) for g in geoms])
        for g, v in zip(geoms, volumes):
            g.mass = total * v / volumes.sum()


def _volume(g: mujoco.MjsGeom) -> float:
    if g.type == mujoco.mjtGeom.mjGEOM_SPHERE:
        return 4 / 3 * np.pi * g.size[0] ** 3
    if g.type == mujoco.mjtGeom.mjGEOM_BOX:
        return 8 * float(np.prod(g.size))
    length = float(np.linalg.norm(np.asarray(g.fromto[3:]) - np.asarray(g.fromto[:3])))
    return np.pi * g.size[0] ** 2 * (length + 4 / 3 * g.size[0])


def _scale_actuators(spec: mujoco.MjSpec, factor: float) -> None:
    for act in spec.actuators:
        # position actuator: gainprm[0] = kp, biasprm = [0, -kp, -kv]
        act.gainprm[0] *= factor
        act.biasprm[1] *= factor
        act.biasprm[2] *= factor
        act.forcerange = np.asarray(act.forcerange) * factor


def _add_keypoint_sites(spec: mujoco.MjSpec, b: BodyParams, head_c: np.ndarray, head_r: float) -> None:
    """One site per MediaPipe-33 landmark, named ``kp_<landmark>``."""
    foot, ankle_h = b.segment("foot"), b.ankle_height
    forearm, s = b.segment("forearm"), b.height / DEFAULT_BODY.height
    hr = head_r
    head_sites = {
        "nose": (0.95, 0.0, -0.05),
        "left_eye_inner": (0.85, 0.12, 0.2), "left_eye": (0.8, 0.3, 0.2), "left_eye_outer": (0.72, 0.45, 0.2),
        "right_eye_inner": (0.85, -0.12, 0.2), "right_eye": (0.8, -0.3, 0.2), "right_eye_outer": (0.72, -0.45, 0.2),
        "left_ear": (0.0, 0.95, 0.05), "right_ear": (0.0, -0.95, 0.05),
        "mouth_left": (0.8, 0.25, -0.4), "mouth_right": (0.8, -0.25, -0.4),
    }  # fmt: skip
    for name, (x, y, z) in head_sites.items():
        spec.body("head").add_site(name=f"kp_{name}", pos=head_c + hr * np.array([x, y, z]))
    for side, sign in (("left", 1.0), ("right", -1.0)):
        spec.body(f"{side}_upper_arm").add_site(name=f"kp_{side}_shoulder", pos=[0, 0, 0])
        spec.body(f"{side}_forearm").add_site(name=f"kp_{side}_elbow", pos=[0, 0, 0])
        fa = spec.body(f"{side}_forearm")
        fa.add_site(name=f"kp_{side}_wrist", pos=[0, 0, -forearm])
        fa.add_site(name=f"kp_{side}_pinky", pos=[-0.015 * s, sign * 0.02 * s, -forearm - 0.08 * s])
        fa.add_site(name=f"kp_{side}_index", pos=[0.02 * s, sign * 0.01 * s, -forearm - 0.09 * s])
        fa.add_site(name=f"kp_{side}_thumb", pos=[0.035 * s, sign * 0.0, -forearm - 0.05 * s])
        spec.body(f"{side}_thigh").add_site(name=f"kp_{side}_hip", pos=[0, 0, 0])
        spec.body(f"{side}_shin").add_site(name=f"kp_{side}_knee", pos=[0, 0, 0])
        ft = spec.body(f"{side}_foot")
        ft.add_site(name=f"kp_{side}_ankle", pos=[0, 0, 0])
        ft.add_site(name=f"kp_{side}_heel", pos=[-0.246 * foot, 0, -0.8 * ankle_h])
        ft.add_site(name=f"kp_{side}_foot_index", pos=[0.72 * foot, 0, -0.8 * ankle_h])


@functools.lru_cache(maxsize=64)
def _build_cached(body: BodyParams) -> mujoco.MjModel:
    model = build_spec(body).compile()
    names = tuple(model.joint(i).name for i in range(1, model.njnt))
    if names != JOINT_NAMES or model.nu != NUM_JOINTS:
        raise RuntimeError(f"humanoid template joint order changed: {names}")
    for i in range(model.nu):
        if model.actuator_trnid[i, 0] != i + 1:
            raise RuntimeError(f"actuator {model.actuator(i).name} does not drive joint {JOINT_NAMES[i]}")
    _cap_servo_damping(model)
    return model


def _cap_servo_damping(model: mujoco.MjModel) -> None:
    """Limit each servo's damping ``kv`` to ``SERVO_DAMPING_CAP * I / timestep``, ``I`` the joint's own
    inertia (mass-matrix diagonal at the model's rest pose).

    ``implicitfast`` integrates a servo's damping implicitly only while its force is inside
    ``forcerange``; once clamped the damping acts explicitly, and a step ``kv * dt / I`` above 2
    overshoots: the servo bangs between its torque limits every physics step. The template's damping
    did so on the light feet and the hip and shoulder twist axes (``kv * dt / I`` of 7-13): replaying
    the run clip with zero action, 923 limit-to-limit swings and 9.1 kW of positive servo power before
    the cap, 26 and 0.7 kW after."""
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    inertia = np.zeros((model.nv, model.nv))
    mujoco.mj_fullM(model, data, inertia)
    dofs = model.jnt_dofadr[model.actuator_trnid[:, 0]]
    kv_max = SERVO_DAMPING_CAP * np.diag(inertia)[dofs] / model.opt.timestep
    model.actuator_biasprm[:, 2] = -np.minimum(-model.actuator_biasprm[:, 2], kv_max)


def build_model(body: BodyParams | dict | None = None) -> HumanoidModel:
    """Compile the humanoid for ``body`` (default adult if None). Models are cached per body;
    each call returns a fresh copy of the ``MjModel`` so callers may modify it."""
    b = BodyParams.coerce(body).resolved()
    return HumanoidModel(model=copy.copy(_build_cached(b)), body=b)  # MjModel's copy is a full mj_copyModel


def standing_qpos(hm: HumanoidModel) -> np.ndarray:
    """A neutral standing pose with the soles on the floor."""
    qpos = np.zeros(NQ)
    qpos[2] = hm.body.leg_length + 0.005
    qpos[3] = 1.0
    return qpos


def vertical_foot_forces(model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray:
    """Vertical ground reaction force (N) on each foot (left, right) in the physics step ``data`` last
    computed: the feet's touch sensors (the floor is level, so the contact normal is vertical; body parts
    collide only with the floor)."""
    return data.sensordata[foot_force_addresses(model)].copy()


def foot_force_addresses(model: mujoco.MjModel) -> np.ndarray:
    """Indices in ``data.sensordata`` of the feet's vertical forces (left, right)."""
    return model.sensor_adr[[model.sensor(name).id for name in FOOT_TOUCH_SENSORS]]


def sensor_addresses(model: mujoco.MjModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices in ``data.sensordata`` of the feet's vertical forces (left, right), of each actuator's force
    and of its joint's speed (actuator order)."""
    names = [model.actuator(i).name for i in range(model.nu)]
    joints = [model.joint(model.actuator_trnid[i, 0]).name for i in range(model.nu)]
    force = model.sensor_adr[[model.sensor(f"{n}_force").id for n in names]]
    speed = model.sensor_adr[[model.sensor(f"{j}_speed").id for j in joints]]
    return foot_force_addresses(model), force, speed
