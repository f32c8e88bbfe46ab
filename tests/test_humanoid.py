import itertools

import mujoco
import numpy as np
import pytest

from motionlab.body import BodyParams
from motionlab.humanoid import JOINT_NAMES, NQ, build_model, build_spec, standing_qpos

BODIES = [
    BodyParams(height=h, mass=m, **seg)
    for (h, m), seg in itertools.product(
        [(1.0, 20.0), (1.45, 40.0), (1.75, 70.0), (2.0, 110.0), (2.3, 200.0)],
        [{}, {"thigh": None, "shank": None}],
    )
] + [
    BodyParams(height=1.75, mass=70, thigh=0.49, shank=0.38),  # long thighs, short shanks
    BodyParams(height=1.75, mass=70, upper_arm=0.42, forearm=0.19, pelvis_width=0.24, foot=0.34),
]


@pytest.mark.parametrize("body", BODIES, ids=lambda b: f"{b.height}m-{b.mass}kg")
def test_bodies_across_the_allowed_range_compile_and_stand(body):
    hm = build_model(body)
    m = hm.model
    assert m.nq == NQ and m.nu == len(JOINT_NAMES)
    assert m.body_subtreemass[1] == pytest.approx(body.mass, rel=1e-6)
    d = mujoco.MjData(m)
    d.qpos[:] = standing_qpos(hm)
    mujoco.mj_forward(m, d)
    head_top = d.geom("head").xpos[2] + m.geom("head").size[0]
    assert head_top == pytest.approx(body.height, rel=0.03)
    # standing with the PD servos holding the zero pose for 1 s: feet on the floor, nobody falls
    for _ in range(200):
        mujoco.mj_step(m, d)
    assert np.isfinite(d.qpos).all()
    assert d.qpos[2] > 0.9 * body.leg_length
    soles = [d.contact[i] for i in range(d.ncon)]
    assert soles, "feet should touch the floor"
    assert {m.geom(c.geom2).name for c in soles} <= {"left_foot", "right_foot"}


def test_build_is_deterministic_and_segments_scale():
    a = build_spec(BodyParams(height=1.6, mass=50)).compile()
    b = build_spec(BodyParams(height=1.6, mass=50)).compile()
    for field in ("body_pos", "body_mass", "body_inertia", "geom_size", "actuator_gainprm", "jnt_range"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    short = build_model(BodyParams(height=1.75, mass=70, shank=0.36)).model
    long = build_model(BodyParams(height=1.75, mass=70, shank=0.5)).model
    assert -short.body("right_foot").pos[2] == pytest.approx(0.36)
    assert -long.body("right_foot").pos[2] == pytest.approx(0.5)


def test_feet_are_boxes_joints_limited_and_actuators_torque_limited():
    light = build_model(BodyParams(height=1.5, mass=45)).model
    heavy = build_model(BodyParams(height=1.9, mass=95)).model
    assert light.geom("left_foot").type == mujoco.mjtGeom.mjGEOM_BOX
    assert light.jnt_limited[1:].all()
    assert (light.actuator_forcelimited == 1).all()
    ratio = heavy.actuator_forcerange[:, 1] / light.actuator_forcerange[:, 1]
    np.testing.assert_allclose(ratio, (95 * 1.9) / (45 * 1.5))
    knee = JOINT_NAMES.index("right_knee")
    assert np.degrees(light.jnt_range[1 + knee]).tolist() == pytest.approx([-5, 160])
