"""Data sets and the small helpers a newcomer needs.

- ``load_digits()``: the UCI optical recognition of handwritten digits test
  set (1797 8x8 images, values 0-16), shipped inside the package
  (``nnc/data/digits.npz``; UCI ML repository, CC BY 4.0).
- ``load_mnist(directory)``: MNIST from the standard IDX files (plain or
  .gz) in a local folder; nothing is downloaded.
- generators: ``make_spirals``, ``make_moons``, ``make_circles`` (rows in
  random order, reproducible from ``seed``; ``shuffle=False`` gives them
  class by class, in generation order) and ``make_xor`` (the truth table).
- helpers: ``one_hot``, ``standardize``, ``split``.
"""

from __future__ import annotations

import gzip
import os
import struct
from importlib import resources

import numpy as np

from ._docs import with_sections
from ._validation import check_float, check_int

#: The point count and noise of make_moons and make_circles (``{{points}}``).
_POINTS = """
n_samples : int
    Rows in all (at least 2), half of them in each class.
noise : float
    Standard deviation of the Gaussian noise added to each coordinate.
"""

#: The parameters and results every generator shares (``{{generated}}``).
_GENERATED = """
seed : int or None, default 0
    The NumPy seed: the same seed gives the same rows.
dtype : str, default "float32"
    The dtype of x (labels are int64).
shuffle : bool, default True
    Rows in a random order (from ``seed``); ``False`` keeps the
    generation order.

Returns
-------
x : numpy.ndarray of shape (n_samples, 2)
labels : numpy.ndarray of shape (n_samples,), int64

Raises
------
ValueError
    For a count or noise out of range.
"""

# ------------------------------------------------------------ bundled data


def load_digits(dtype="float32") -> tuple[np.ndarray, np.ndarray]:
    """The UCI digits: x (1797, 64) with pixel values 0..16, labels (1797,)."""
    with resources.files("nnc").joinpath("data/digits.npz").open("rb") as f:
        with np.load(f, allow_pickle=False) as data:
            return data["images"].astype(dtype), data["labels"].astype(np.int64)


# ---------------------------------------------------------------- MNIST IDX

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_MNIST_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def read_idx(path) -> np.ndarray:
    """An array from an IDX file (``.gz`` is decompressed). The header's
    sizes are checked against the data before anything large is allocated."""
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        head = f.read(4)
        if len(head) != 4 or head[0] != 0 or head[1] != 0 or head[2] not in _IDX_TYPES:
            raise ValueError(f"{path}: not an IDX file (bad magic number)")
        dtype, ndim = np.dtype(_IDX_TYPES[head[2]]), head[3]
        dims_raw = f.read(4 * ndim)
        if len(dims_raw) != 4 * ndim:
            raise ValueError(f"{path}: truncated IDX header")
        shape = struct.unpack(f">{ndim}I", dims_raw)
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        # A declared size must be backed by data: read in bounded chunks.
        expected = count * dtype.itemsize
        chunks, have = [], 0
        while have < expected:
            chunk = f.read(min(expected - have, 1 << 24))
            if not chunk:
                raise ValueError(f"{path}: IDX data truncated: header declares shape {shape}")
            chunks.append(chunk)
            have += len(chunk)
        if f.read(1):
            raise ValueError(f"{path}: trailing data after the IDX array of shape {shape}")
    return np.frombuffer(b"".join(chunks), dtype=dtype).reshape(shape).astype(
        dtype.newbyteorder("="))


def _find(directory: str, stem: str) -> str:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"),
                 stem.replace("-idx", ".idx") + ".gz"):
        candidate = os.path.join(directory, name)
        if os.path.exists(candidate):
            return candidate
    raise FileNotFoundError(f"load_mnist: {stem}[.gz] not found in {directory}")


def load_mnist(directory, kind: str = "train", normalize: bool = True,
               flatten: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """MNIST images and labels from the IDX files in `directory`.

    ``kind`` is "train" (train-images-idx3-ubyte, train-labels-idx1-ubyte)
    or "test" (t10k-...). Images come as float32 in [0, 1] (``normalize``)
    with shape (n, 784) (``flatten``), as the lecture notes prepare them (docs/architecture.md,
    The lecture notes in the code).
    """
    if kind not in _MNIST_FILES:
        raise ValueError(f"kind: expected 'train' or 'test', got {kind!r}")
    directory = os.fspath(directory)
    images_stem, labels_stem = _MNIST_FILES[kind]
    images = read_idx(_find(directory, images_stem))
    labels = read_idx(_find(directory, labels_stem))
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"load_mnist: images {images.shape} and labels {labels.shape} "
                         "do not match")
    x = images.reshape(images.shape[0], -1) if flatten else images
    x = x.astype(np.float32) / 255.0 if normalize else x
    return x, labels.astype(np.int64)


# --------------------------------------------------------------- generators


def make_xor(dtype="float64") -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points and their labels: (4, 2) and (4, 1), in truth-table
    order (nothing random to shuffle)."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    y = np.array([[0], [1], [1], [0]], dtype=dtype)
    return x, y


def _check_shuffle(shuffle) -> bool:
    if not isinstance(shuffle, bool):
        raise TypeError(f"shuffle: expected True or False, got {shuffle!r}")
    return shuffle


def _shuffled(x: np.ndarray, labels: np.ndarray, rng, shuffle: bool, dtype):
    """The rows in a random order from `rng` (after the noise was drawn, so
    ``shuffle=False`` gives the same points in generation order)."""
    if shuffle:
        order = rng.permutation(len(x))
        x, labels = x[order], labels[order]
    return x.astype(dtype), labels.astype(np.int64)


@with_sections(generated=_GENERATED)
def make_spirals(n_samples: int = 400, n_classes: int = 2, noise: float = 0.1,
                 turns: float = 1.5, radius: float = 2.5, seed: int | None = 0,
                 dtype="float32", shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spirals in 2-D.

    Class c's points lie on r = radius t, angle = 2 pi (turns t + c/n_classes)
    for t in [0.05, 1], plus Gaussian noise of stddev ``0.1 noise radius``.
    The default radius gives features of roughly unit scale. Rows come in a
    random order (so ``validation_split``, which holds out the last rows,
    sees every part of the spirals); ``shuffle=False`` orders them by
    radius, the classes alternating.

    Parameters
    ----------
    n_samples : int, default 400
        Rows in all (at least ``n_classes``), split evenly over the classes.
    n_classes : int, default 2
        Number of arms.
    noise : float, default 0.1
        Noise, relative to the radius.
    turns, radius : float
        How far each arm winds (1.5 turns) and its outer radius (2.5).
    {{generated}}

    Examples
    --------
    >>> x, labels = nnc.datasets.make_spirals(n_samples=6, seed=0)
    >>> x.shape, labels.dtype.name, sorted(set(labels.tolist()))
    ((6, 2), 'int64', [0, 1])
    """
    shuffle = _check_shuffle(shuffle)
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
    return _shuffled(x, labels, rng, shuffle, dtype)


@with_sections(points=_POINTS, generated=_GENERATED)
def make_moons(n_samples: int = 200, noise: float = 0.1, seed: int | None = 0,
               dtype="float32", shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (class 0 on top, class 1 below), rows
    in a random order (``shuffle=False``: class 0's, then class 1's).

    Parameters
    ----------
    {{points}}
    {{generated}}
    """
    shuffle = _check_shuffle(shuffle)
    n_samples = check_int(n_samples, "n_samples", minimum=2)
    noise = check_float(noise, "noise", minimum=0.0)
    rng = np.random.default_rng(seed)
    n_top = n_samples // 2
    a = np.linspace(0, np.pi, n_top)
    b = np.linspace(0, np.pi, n_samples - n_top)
    x = np.concatenate([np.stack([np.cos(a), np.sin(a)], 1),
                        np.stack([1 - np.cos(b), 0.5 - np.sin(b)], 1)])
    labels = np.concatenate([np.zeros(n_top, np.int64), np.ones(n_samples - n_top, np.int64)])
    x += rng.normal(scale=noise, size=x.shape)
    return _shuffled(x, labels, rng, shuffle, dtype)


@with_sections(points=_POINTS, generated=_GENERATED)
def make_circles(n_samples: int = 200, noise: float = 0.05, factor: float = 0.5,
                 seed: int | None = 0, dtype="float32",
                 shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: class 0 on the unit circle, class 1 on the
    circle of radius ``factor``; rows in a random order (``shuffle=False``:
    class 0's, then class 1's).

    Parameters
    ----------
    {{points}}
    factor : float, default 0.5
        The inner circle's radius, in [0, 1).
    {{generated}}
    """
    shuffle = _check_shuffle(shuffle)
    n_samples = check_int(n_samples, "n_samples", minimum=2)
    noise = check_float(noise, "noise", minimum=0.0)
    factor = check_float(factor, "factor", minimum=0.0, maximum=1.0, exclusive_max=True)
    rng = np.random.default_rng(seed)
    n_outer = n_samples // 2
    outer = np.linspace(0, 2 * np.pi, n_outer, endpoint=False)
    inner = np.linspace(0, 2 * np.pi, n_samples - n_outer, endpoint=False)
    x = np.concatenate([np.stack([np.cos(outer), np.sin(outer)], 1),
                        factor * np.stack([np.cos(inner), np.sin(inner)], 1)])
    labels = np.concatenate([np.zeros(n_outer, np.int64),
                             np.ones(n_samples - n_outer, np.int64)])
    x += rng.normal(scale=noise, size=x.shape)
    return _shuffled(x, labels, rng, shuffle, dtype)


# ------------------------------------------------------------------ helpers


def one_hot(labels, n_classes: int | None = None, dtype="float32") -> np.ndarray:
    """Integer labels (n,) as a one-hot matrix (n, n_classes).

    Parameters
    ----------
    labels : array-like of int, shape (n,)
        Class labels in [0, n_classes).
    n_classes : int, optional
        Defaults to ``labels.max() + 1``.
    dtype : str, default "float32"

    Returns
    -------
    numpy.ndarray of shape (n, n_classes)

    Examples
    --------
    >>> nnc.datasets.one_hot([0, 2, 1]).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
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


def standardize(x, mean=None, std=None):
    """(x - mean) / std per column, and the (mean, std) used.

    Fit on training data with ``xs, mean, std = standardize(x_train)``, then
    apply the same to test data: ``standardize(x_test, mean, std)[0]``.
    Constant columns get std 1 (they become 0, not NaN).
    """
    x = np.asarray(x, dtype=np.result_type(np.asarray(x).dtype, np.float32))
    if x.ndim != 2:
        raise ValueError(f"x: expected a 2-D array, got shape {x.shape}")
    mean = x.mean(axis=0) if mean is None else np.asarray(mean, dtype=x.dtype)
    if std is None:
        std = x.std(axis=0)
        std = np.where(std > 0, std, 1).astype(x.dtype)
    std = np.asarray(std, dtype=x.dtype)
    return (x - mean) / std, mean, std


def split(x, y, test_fraction: float = 0.2, seed: int | None = 0):
    """Shuffle and split into train and test parts.

    Parameters
    ----------
    x, y : array-like
        Rows and their targets (the same number of rows).
    test_fraction : float, default 0.2
        The share of rows in the test part, in [0, 1).
    seed : int or None, default 0
        The NumPy seed of the shuffle.

    Returns
    -------
    x_train, x_test, y_train, y_test : numpy.ndarray
    """
    test_fraction = check_float(test_fraction, "test_fraction", minimum=0.0, maximum=1.0,
                                exclusive_max=True)
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x and y have {len(x)} and {len(y)} samples")
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return x[train], x[test], y[train], y[test]
