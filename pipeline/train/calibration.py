"""Temperature scaling: one number that makes a head's probabilities honest, and the expected
calibration error (ECE) that says how honest they are."""

from __future__ import annotations

import itertools

import numpy as np

BINS = 15  # equal-width confidence bins, as in Guo et al. (2017)


def expected_calibration_error(probs: np.ndarray, gold: np.ndarray, bins: int = BINS) -> float:
    """Mean |accuracy − confidence| of the top label over confidence bins, weighted by size."""
    confidence, right = probs.max(-1), probs.argmax(-1) == gold
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for low, high in itertools.pairwise(edges):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            error += inside.mean() * abs(right[inside].mean() - confidence[inside].mean())
    return float(error)


def log_probabilities(probs: np.ndarray) -> np.ndarray:
    """Logs of probabilities, a zero clipped to 1e-12: what temperature scaling works on."""
    return np.log(np.clip(probs, 1e-12, None))


def scaled(log_probs: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities with the logits divided by temperature (log-probabilities are logits up
    to a per-row constant, which the softmax ignores)."""
    z = log_probs / temperature
    z = np.exp(z - z.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def _nll(log_probs: np.ndarray, gold: np.ndarray, temperature: float) -> float:
    p = scaled(log_probs, temperature)[np.arange(len(gold)), gold]
    return float(-log_probabilities(p).mean())


def fit_temperature(log_probs: np.ndarray, gold: np.ndarray) -> float:
    """The temperature with the least negative log-likelihood: golden-section search over
    1/T in [0.05, 20], where the NLL is convex."""
    low, high = 0.05, 20.0
    ratio = (5**0.5 - 1) / 2
    for _ in range(60):
        a, b = high - ratio * (high - low), low + ratio * (high - low)
        if _nll(log_probs, gold, 1 / a) < _nll(log_probs, gold, 1 / b):
            high = b
        else:
            low = a
    return round(2 / (low + high), 4)


def calibration_report(probs: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    """ECE as is, and after temperature scaling fitted on one half and measured on the other
    (both ways, averaged), so the gain is not measured on what it was fitted to."""
    log_probs = log_probabilities(probs)
    halves = np.arange(len(gold)) % 2 == 0
    after = []
    for fit in (halves, ~halves):
        temperature = fit_temperature(log_probs[fit], gold[fit])
        after.append(expected_calibration_error(scaled(log_probs[~fit], temperature), gold[~fit]))
    return {
        "ece": round(expected_calibration_error(probs, gold), 4),
        "ece_scaled": round(float(np.mean(after)), 4),
        "temperature": fit_temperature(log_probs, gold),
    }
