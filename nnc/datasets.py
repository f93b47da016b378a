"""Small data sets generated in code, and helpers a newcomer needs."""

from __future__ import annotations

import numpy as np

from ._validation import check_float, check_int


def make_xor(dtype="float64") -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points and their labels (4, 2) and (4, 1)."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    y = np.array([[0], [1], [1], [0]], dtype=dtype)
    return x, y


def make_spirals(n_samples: int = 400, n_classes: int = 2, noise: float = 0.1,
                 turns: float = 1.5, radius: float = 2.5, seed: int | None = 0,
                 dtype="float32") -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spirals in 2-D: x (n_samples, 2) and integer labels.

    Class c's points lie on r = radius t, angle = 2 pi (turns t + c/n_classes)
    for t in [0.05, 1], plus Gaussian noise of stddev ``0.1 noise radius``.
    The default radius gives features of roughly unit scale.
    """
    n_classes = check_int(n_classes, "n_classes", minimum=2)
    n_samples = check_int(n_samples, "n_samples", minimum=n_classes)
    noise = check_float(noise, "noise", minimum=0.0)
    radius = check_float(radius, "radius", minimum=0.0)
    rng = np.random.default_rng(seed)
    labels = np.arange(n_samples) % n_classes
    t = np.linspace(0.05, 1.0, n_samples // n_classes + 1)
    t = np.resize(np.repeat(t[None, :], n_classes, axis=0).T.ravel(), n_samples)
    angle = 2 * np.pi * (turns * t + labels / n_classes)
    x = radius * np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)
    x += rng.normal(scale=0.1 * noise * radius, size=x.shape)
    return x.astype(dtype), labels.astype(np.int64)


def one_hot(labels, n_classes: int | None = None, dtype="float32") -> np.ndarray:
    """Integer labels (n,) -> one-hot matrix (n, n_classes)."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"labels: expected a 1-D integer array, got {labels.dtype} "
                         f"shape {labels.shape}")
    if labels.size and labels.min() < 0:
        raise ValueError("labels: expected non-negative class indices")
    if n_classes is None:
        n_classes = int(labels.max()) + 1 if labels.size else 0
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    if labels.size and labels.max() >= n_classes:
        raise ValueError(f"labels: values must be < n_classes={n_classes}")
    out = np.zeros((labels.size, n_classes), dtype=dtype)
    out[np.arange(labels.size), labels] = 1
    return out
