"""The words every reader of a session uses for its pre-warnings and its calibration."""

from __future__ import annotations

from calibration.device import CalibrationStatus, DeviceCalibration
from review.words import calibration_words, prewarning_words


def test_prewarnings_are_counted_with_those_eased_off() -> None:
    assert prewarning_words({"prewarn": 5, "prewarn_eased": 4, "prewarn_crossed": 1}) == (
        "pre-warnings: 5, of which 4 eased off before the limit"
    )
    assert prewarning_words({"ramp": 2}) is None


def test_each_calibration_basis_is_said_and_raw_counts_are_uncalibrated() -> None:
    stored = DeviceCalibration(100.0, 5.0, "stored", "t", "2026-11-02T10:00:00+00:00")
    assert calibration_words(CalibrationStatus.of(stored).as_dict()) == (
        "your calibration of 2026-11-02"
    )
    factory = CalibrationStatus.of(DeviceCalibration(100.0, 5.0, "factory", "t")).as_dict()
    assert calibration_words(factory) == "the tool's factory calibration"
    device = CalibrationStatus.from_device("the tool sends force in N").as_dict()
    assert device["calibrated"] is True and device["basis"] == "device"
    assert calibration_words(device) == "the tool sends force in N"
    none = CalibrationStatus.of(None).as_dict()
    assert none["calibrated"] is False and none["status"] == "uncalibrated"
    assert calibration_words(none).startswith("uncalibrated")
    # sessions recorded before the record said it in words
    assert calibration_words({"status": "uncalibrated"}).startswith("uncalibrated")
    assert calibration_words({"source": "stored", "counts_per_n": 1.0}) == "your calibration"
    assert calibration_words(None) == "not recorded"
