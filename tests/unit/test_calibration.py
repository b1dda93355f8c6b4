"""Temperature scaling recovers a known temperature and lowers the calibration error."""

from __future__ import annotations

import numpy as np

from pipeline.train.calibration import (
    calibration_report,
    expected_calibration_error,
    fit_temperature,
    scaled,
)


def _overconfident(n: int = 4000, temperature: float = 2.5) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from softmax(z), reported as softmax(z·temperature): too sure of itself."""
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 1.5, size=(n, 3))
    true = scaled(logits, 1.0)
    gold = np.array([rng.choice(3, p=p) for p in true])
    return scaled(logits, 1 / temperature), gold


def test_a_perfectly_calibrated_model_has_no_error_and_a_sure_wrong_one_has_all() -> None:
    gold = np.array([0, 1, 2, 0])
    assert expected_calibration_error(np.eye(3)[gold], gold) == 0.0
    assert expected_calibration_error(np.eye(3)[(gold + 1) % 3], gold) == 1.0


def test_the_fitted_temperature_undoes_overconfidence() -> None:
    probs, gold = _overconfident()
    temperature = fit_temperature(np.log(probs), gold)
    assert 2.2 < temperature < 2.8
    report = calibration_report(probs, gold)
    assert report["ece"] > 0.1 and report["ece_scaled"] < 0.03
