"""The Haar face detector on a real photograph, cropping, and thread safety."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
from skimage import data as skdata

from emotion_service.faces import Box, FaceDetector, HaarFaceDetector, WholeImage, crop_face, expand_box

ASTRONAUT_FACE = Box(177, 66, 95, 95)


def near(box: Box, expected: Box, tolerance: int) -> bool:
    return all(
        abs(a - b) <= tolerance
        for a, b in zip(
            (box.x, box.y, box.width, box.height),
            (expected.x, expected.y, expected.width, expected.height),
            strict=True,
        )
    )


@pytest.fixture(scope="module")
def detector() -> HaarFaceDetector:
    return HaarFaceDetector(scale_factor=1.1, min_neighbors=5)


def test_detector_satisfies_the_protocol(detector: HaarFaceDetector) -> None:
    assert isinstance(detector, HaarFaceDetector)
    as_protocol: FaceDetector = detector  # static check: HaarFaceDetector is a FaceDetector
    assert as_protocol is detector


def test_astronaut_has_one_face_at_its_known_box(detector: HaarFaceDetector) -> None:
    boxes = detector.detect(skdata.astronaut())
    assert len(boxes) == 1
    assert near(boxes[0], ASTRONAUT_FACE, tolerance=6), boxes[0]


def test_no_face_is_an_empty_list(detector: HaarFaceDetector) -> None:
    assert detector.detect(np.zeros((120, 160, 3), np.uint8)) == []
    assert detector.detect(np.random.default_rng(0).integers(0, 256, (8, 8, 3), np.uint8)) == []


def test_large_images_are_shrunk_for_detection_and_boxes_scaled_back() -> None:
    big = cv2.resize(skdata.astronaut(), (1536, 1536), interpolation=cv2.INTER_CUBIC)
    boxes = HaarFaceDetector(max_side=512).detect(big)
    assert len(boxes) == 1
    expected = Box(*(3 * v for v in (177, 66, 95, 95)))
    assert near(boxes[0], expected, tolerance=24), boxes[0]


def test_detector_is_thread_safe(detector: HaarFaceDetector) -> None:
    images = [skdata.astronaut(), np.zeros((100, 100, 3), np.uint8)] * 6
    serial = [detector.detect(img) for img in images]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(detector.detect, images))
    assert parallel == serial


def test_detector_rejects_non_rgb(detector: HaarFaceDetector) -> None:
    with pytest.raises(ValueError, match="uint8 HxWx3"):
        detector.detect(np.zeros((10, 10), np.uint8))


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="scale_factor"):
        HaarFaceDetector(scale_factor=1.0)


def test_crop_with_margin_and_clipping() -> None:
    img = np.arange(100 * 200 * 3, dtype=np.uint32).astype(np.uint8).reshape(100, 200, 3)
    crop = crop_face(img, Box(50, 40, 20, 10), margin=0.5)
    assert crop.shape == (20, 40, 3)  # 10 px each side horizontally, 5 px vertically
    assert np.array_equal(crop, img[35:55, 40:80])
    corner = crop_face(img, Box(190, 95, 20, 20), margin=0.2)
    assert corner.shape == (9, 14, 3)  # grown by 4 px to x 186..214, y 91..119, clipped to 200x100
    assert np.array_equal(corner, img[91:100, 186:200])
    assert np.array_equal(crop_face(img, Box(0, 0, 200, 100), margin=0.0), img)
    assert expand_box(Box(190, 95, 20, 20, 0.7), 200, 100).confidence == 0.7
    with pytest.raises(ValueError, match="outside"):
        crop_face(img, Box(300, 300, 10, 10))


def test_whole_image_is_one_face() -> None:
    assert WholeImage().detect(np.zeros((30, 40, 3), np.uint8)) == [Box(0, 0, 40, 30)]
