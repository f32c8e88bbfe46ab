"""MediaPipe Pose's 33 landmarks: names, skeleton edges and left/right mirroring."""

from __future__ import annotations

LANDMARK_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip
NUM_LANDMARKS = len(LANDMARK_NAMES)
INDEX = {name: i for i, name in enumerate(LANDMARK_NAMES)}

# Skeleton edges drawn in previews (MediaPipe's POSE_CONNECTIONS, body part only).
SKELETON_EDGES: tuple[tuple[int, int], ...] = tuple(
    (INDEX[a], INDEX[b])
    for a, b in (
        ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
        ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
        ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
        ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
        ("left_wrist", "left_index"), ("right_wrist", "right_index"),
        ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
        ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
        ("left_ankle", "left_heel"), ("left_heel", "left_foot_index"), ("left_ankle", "left_foot_index"),
        ("right_ankle", "right_heel"), ("right_heel", "right_foot_index"), ("right_ankle", "right_foot_index"),
        ("nose", "left_eye"), ("nose", "right_eye"), ("left_eye", "left_ear"), ("right_eye", "right_ear"),
    )
)  # fmt: skip

# Index permutation that swaps left and right (for mirrored copies).
MIRROR_PERMUTATION: tuple[int, ...] = tuple(
    INDEX[n.replace("left", "@").replace("right", "left").replace("@", "right")] for n in LANDMARK_NAMES
)

# The 12 body landmarks used for lifting and tracking metrics (shoulders, elbows, wrists, hips, knees, ankles).
BODY_LANDMARKS: tuple[int, ...] = tuple(
    INDEX[f"{side}_{part}"]
    for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
    for side in ("left", "right")
)
