"""nnc.datasets: the bundled digits, MNIST IDX files, generators, helpers."""

import gzip
import struct

import numpy as np
import pytest
from helpers.optional import require

from nnc import datasets


def test_bundled_digits_are_the_uci_test_set():
    x, y = datasets.load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0 and x.max() == 16 and np.all(x == np.round(x))
    # Every digit is there, about 180 of each (the UCI set's class sizes).
    counts = np.bincount(y, minlength=10)
    assert counts.sum() == 1797 and counts.min() >= 170 and counts.max() <= 185
    x64, _ = datasets.load_digits(dtype="float64")
    assert x64.dtype == np.float64 and np.array_equal(x64, x)


def test_bundled_digits_match_scikit_learns_copy():
    sklearn_datasets = require("sklearn.datasets")
    ours_x, ours_y = datasets.load_digits(dtype="float64")
    theirs = sklearn_datasets.load_digits()
    np.testing.assert_array_equal(ours_x, theirs.data)
    np.testing.assert_array_equal(ours_y, theirs.target)


def write_idx(path, array, type_code=0x08):
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if str(path).endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)


def tiny_mnist(rng, n):
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_load_mnist_reads_plain_and_gzipped_idx(tmp_path, suffix):
    rng = np.random.default_rng(0)
    train_images, train_labels = tiny_mnist(rng, 7)
    test_images, test_labels = tiny_mnist(rng, 3)
    write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", train_images)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", train_labels)
    write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", test_images)
    write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", test_labels)

    x, y = datasets.load_mnist(tmp_path)
    assert x.shape == (7, 784) and x.dtype == np.float32
    np.testing.assert_array_equal(x, train_images.reshape(7, 784) / np.float32(255))
    np.testing.assert_array_equal(y, train_labels.astype(np.int64))

    raw, y_test = datasets.load_mnist(tmp_path, kind="test", normalize=False, flatten=False)
    np.testing.assert_array_equal(raw, test_images)
    np.testing.assert_array_equal(y_test, test_labels)


def test_read_idx_other_types_and_byte_order(tmp_path):
    values = np.array([[1.5, -2.25, 3.0], [0.0, 1e-3, -7.0]], dtype=np.float32)
    write_idx(tmp_path / "floats.idx", values, type_code=0x0D)
    out = datasets.read_idx(tmp_path / "floats.idx")
    assert out.dtype == np.float32 and out.dtype.isnative
    np.testing.assert_array_equal(out, values)
    ints = np.array([-5, 70000, 3], dtype=np.int32)
    write_idx(tmp_path / "ints.idx", ints, type_code=0x0C)
    np.testing.assert_array_equal(datasets.read_idx(tmp_path / "ints.idx"), ints)


def test_broken_idx_files_raise_value_error(tmp_path):
    images, _ = tiny_mnist(np.random.default_rng(1), 4)
    write_idx(tmp_path / "good", images)
    good = (tmp_path / "good").read_bytes()
    cases = {
        "magic": b"\x01" + good[1:],
        "type": good[:2] + b"\x77" + good[3:],
        "header": good[:6],
        "truncated": good[:-5],
        "trailing": good + b"\x00",
        # A header declaring billions of images backed by a few bytes.
        "huge": bytes([0, 0, 8, 3]) + struct.pack(">3I", 4_000_000_000, 28, 28) + b"\x00" * 16,
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=name if name == "truncated" else "IDX"):
            datasets.read_idx(tmp_path / name)


def test_load_mnist_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        datasets.load_mnist(tmp_path)
    with pytest.raises(ValueError, match="kind"):
        datasets.load_mnist(tmp_path, kind="validation")
    images, labels = tiny_mnist(np.random.default_rng(2), 5)
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels[:4])
    with pytest.raises(ValueError, match="do not match"):
        datasets.load_mnist(tmp_path)


def test_make_xor_is_the_truth_table():
    x, y = datasets.make_xor()
    np.testing.assert_array_equal(y[:, 0], np.logical_xor(x[:, 0], x[:, 1]))


def test_make_spirals_shapes_classes_and_radius():
    x, y = datasets.make_spirals(n_samples=300, n_classes=3, noise=0.0, seed=4)
    assert x.shape == (300, 2) and x.dtype == np.float32
    assert np.bincount(y).tolist() == [100, 100, 100]
    radius = np.hypot(x[:, 0], x[:, 1])
    assert radius.max() <= 2.5 + 1e-5 and radius.min() >= 0.05 * 2.5 - 1e-5
    again, _ = datasets.make_spirals(n_samples=300, n_classes=3, noise=0.0, seed=4)
    np.testing.assert_array_equal(x, again)


def test_make_moons_are_two_half_circles():
    x, y = datasets.make_moons(n_samples=101, noise=0.0, seed=0)
    assert x.shape == (101, 2) and np.bincount(y).tolist() == [50, 51]
    top, bottom = x[y == 0], x[y == 1]
    np.testing.assert_allclose(np.hypot(top[:, 0], top[:, 1]), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(bottom[:, 0] - 1, bottom[:, 1] - 0.5), 1.0, atol=1e-6)
    assert np.all(top[:, 1] >= -1e-6) and np.all(bottom[:, 1] <= 0.5 + 1e-6)
    noisy, _ = datasets.make_moons(n_samples=101, noise=0.2, seed=0)
    assert not np.allclose(noisy, x)


def test_make_circles_are_two_concentric_circles():
    x, y = datasets.make_circles(n_samples=101, noise=0.0, factor=0.3, seed=0)
    assert x.shape == (101, 2) and x.dtype == np.float32 and np.bincount(y).tolist() == [50, 51]
    np.testing.assert_allclose(np.hypot(*x[y == 0].T), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(*x[y == 1].T), 0.3, atol=1e-6)
    with pytest.raises(ValueError, match="factor"):
        datasets.make_circles(factor=1.0)


GENERATORS = {
    "spirals": lambda **kw: datasets.make_spirals(n_samples=300, noise=0.2, **kw),
    "moons": lambda **kw: datasets.make_moons(n_samples=300, noise=0.2, **kw),
    "circles": lambda **kw: datasets.make_circles(n_samples=300, noise=0.1, **kw),
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generated_rows_are_shuffled_reproducibly(name):
    """Rows in random order (every part of the data in the last 20%, which
    validation_split holds out), the same for the same seed; shuffle=False
    gives the same points in generation order (class by class / by radius)."""
    make = GENERATORS[name]
    x, y = make(seed=3)
    again_x, again_y = make(seed=3)
    np.testing.assert_array_equal(x, again_x)
    np.testing.assert_array_equal(y, again_y)
    other, _ = make(seed=4)
    assert not np.array_equal(x, other)
    ordered_x, ordered_y = make(seed=3, shuffle=False)
    # The same points and labels, permuted.
    order = np.lexsort((ordered_x[:, 1], ordered_x[:, 0]))
    shuffled_order = np.lexsort((x[:, 1], x[:, 0]))
    np.testing.assert_array_equal(ordered_x[order], x[shuffled_order])
    np.testing.assert_array_equal(ordered_y[order], y[shuffled_order])
    assert not np.array_equal(ordered_x, x)
    # The held-out tail of the shuffled rows covers the whole range of
    # radii and both classes in proportion; the ordered tail does not.
    tail, ordered_tail = x[-60:], ordered_x[-60:]
    radius = np.hypot(x[:, 0], x[:, 1])
    lo, hi = np.quantile(radius, [0.1, 0.9])
    tail_radius = np.hypot(tail[:, 0], tail[:, 1])
    assert tail_radius.min() < lo and tail_radius.max() > hi
    assert 0.3 < y[-60:].mean() < 0.7
    ordered_radius = np.hypot(ordered_tail[:, 0], ordered_tail[:, 1])
    assert ordered_y[-60:].mean() in (0.0, 1.0) or ordered_radius.min() > lo
    with pytest.raises(TypeError, match="shuffle"):
        make(seed=3, shuffle="yes")


def test_one_hot():
    out = datasets.one_hot([2, 0, 1, 2])
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert out.dtype == np.float32
    assert datasets.one_hot(np.array([1]), n_classes=4, dtype="float64").tolist() == [
        [0.0, 1.0, 0.0, 0.0]]
    with pytest.raises(ValueError, match="labels"):
        datasets.one_hot([0.5, 1.0])
    with pytest.raises(ValueError, match="n_classes"):
        datasets.one_hot([0, 3], n_classes=3)
    with pytest.raises(ValueError, match="labels"):
        datasets.one_hot([-1, 0])


def test_standardize_fits_on_train_and_applies_to_test():
    rng = np.random.default_rng(3)
    train = rng.normal(loc=5, scale=3, size=(200, 3))
    train[:, 2] = 7.0  # a constant column
    z, mean, std = datasets.standardize(train)
    np.testing.assert_allclose(z[:, :2].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z[:, :2].std(axis=0), 1, atol=1e-12)
    np.testing.assert_array_equal(z[:, 2], 0)
    test = rng.normal(size=(5, 3))
    z_test = datasets.standardize(test, mean, std)[0]
    np.testing.assert_allclose(z_test, (test - mean) / std)
    with pytest.raises(ValueError, match="2-D"):
        datasets.standardize(np.zeros(3))


def test_split_is_a_seeded_partition():
    x = np.arange(50).reshape(25, 2)
    y = np.arange(25)
    x_tr, x_te, y_tr, y_te = datasets.split(x, y, test_fraction=0.2, seed=5)
    assert len(x_te) == 5 and len(x_tr) == 20
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(25))
    np.testing.assert_array_equal(x_tr[:, 0] // 2, y_tr)  # rows stay paired
    again = datasets.split(x, y, test_fraction=0.2, seed=5)
    np.testing.assert_array_equal(again[3], y_te)
    with pytest.raises(ValueError, match="test_fraction"):
        datasets.split(x, y, test_fraction=1.0)
    with pytest.raises(ValueError, match="samples"):
        datasets.split(x, y[:-1])
