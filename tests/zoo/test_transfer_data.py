"""The shared IDX loader (packzoo/zoo/data/images.py) on small files made here: good files round-trip,
truncated or mismatched ones are refused with a DatasetError naming the file and the problem."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from packzoo.zoo.data import DatasetError, fashion_mnist, read_idx

FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def idx_bytes(arr: np.ndarray, code: int = 0x08, dtype: str = ">u1") -> bytes:
    arr = np.asarray(arr)
    header = bytes([0, 0, code, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.astype(dtype).tobytes()


def write_set(folder, n_train=6, n_test=4, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    data = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        data[split] = (images, labels)
        for name, arr in zip(FILES[split], (images, labels)):
            raw = idx_bytes(arr)
            (folder / (name + (".gz" if gz else ""))).write_bytes(gzip.compress(raw) if gz else raw)
    return data


@pytest.mark.parametrize("gz", [False, True])
def test_good_files_round_trip(tmp_path, gz):
    data = write_set(tmp_path, gz=gz)
    for split in ("train", "test"):
        images, labels = fashion_mnist(split, tmp_path)
        assert np.array_equal(images, data[split][0]) and np.array_equal(labels, data[split][1])
        assert labels.dtype == np.int64


def test_other_idx_types_and_shapes_round_trip(tmp_path):
    arr = np.arange(-6, 6, dtype=np.int32).reshape(3, 4)
    (tmp_path / "a").write_bytes(idx_bytes(arr, 0x0C, ">i4"))
    out = read_idx(tmp_path / "a")
    assert np.array_equal(out, arr) and out.dtype.byteorder in ("=", "<", "|")


def test_truncated_files_are_refused(tmp_path):
    write_set(tmp_path)
    name = FILES["train"][0]
    raw = (tmp_path / name).read_bytes()
    (tmp_path / name).write_bytes(raw[:-5])
    with pytest.raises(DatasetError, match=rf"{name}.*truncated"):
        fashion_mnist("train", tmp_path)
    (tmp_path / name).write_bytes(raw[:10])  # inside the header
    with pytest.raises(DatasetError, match=rf"{name}: truncated IDX header"):
        fashion_mnist("train", tmp_path)
    (tmp_path / name).write_bytes(raw + b"\0")  # a byte too many is no better
    with pytest.raises(DatasetError, match=name):
        fashion_mnist("train", tmp_path)


def test_truncated_gzip_is_refused(tmp_path):
    write_set(tmp_path, gz=True)
    name = FILES["test"][1] + ".gz"
    raw = (tmp_path / name).read_bytes()
    (tmp_path / name).write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DatasetError, match=rf"{name}: truncated or corrupt gzip"):
        fashion_mnist("test", tmp_path)


def test_corrupt_gzip_body_is_a_dataset_error(tmp_path):
    raw = idx_bytes(np.array([1, 2, 3], np.uint8))
    g = bytearray(gzip.compress(raw, mtime=0))
    g[12] ^= 0xFF
    g[14] ^= 0xFF
    (tmp_path / "x.gz").write_bytes(bytes(g))
    with pytest.raises(DatasetError, match="x.gz"):
        read_idx(tmp_path / "x.gz")


def test_mismatched_files_are_refused(tmp_path):
    data = write_set(tmp_path)
    img, lab = FILES["train"]
    # labels of another length than the images
    (tmp_path / lab).write_bytes(idx_bytes(data["train"][1][:-1]))
    with pytest.raises(DatasetError, match=rf"{lab}: 5 labels for 6 images"):
        fashion_mnist("train", tmp_path)
    # the two files swapped
    (tmp_path / lab).write_bytes(idx_bytes(data["train"][0]))
    with pytest.raises(DatasetError, match=lab):
        fashion_mnist("train", tmp_path)
    # images of another size or type
    write_set(tmp_path)
    (tmp_path / img).write_bytes(idx_bytes(np.zeros((6, 8, 8), np.uint8)))
    with pytest.raises(DatasetError, match=rf"{img}: expected uint8 images of 28x28"):
        fashion_mnist("train", tmp_path)
    (tmp_path / img).write_bytes(idx_bytes(np.zeros((6, 28, 28)), 0x0D, ">f4"))
    with pytest.raises(DatasetError, match="expected uint8"):
        fashion_mnist("train", tmp_path)
    # a label outside 0..9
    write_set(tmp_path)
    (tmp_path / lab).write_bytes(idx_bytes(np.array([0, 1, 2, 3, 4, 12], np.uint8)))
    with pytest.raises(DatasetError, match="outside 0..9"):
        fashion_mnist("train", tmp_path)


def test_not_idx_and_missing_files_are_refused(tmp_path):
    write_set(tmp_path)
    (tmp_path / FILES["test"][0]).write_bytes(b"PK\x03\x04 a zip, not IDX")
    with pytest.raises(DatasetError, match="not an IDX file"):
        fashion_mnist("test", tmp_path)
    (tmp_path / FILES["test"][0]).unlink()
    with pytest.raises(DatasetError, match="t10k-images-idx3-ubyte.*not found"):
        fashion_mnist("test", tmp_path)
    with pytest.raises(ValueError, match="split"):
        fashion_mnist("validation", tmp_path)


def test_missing_default_folder_names_the_debian_package(tmp_path, monkeypatch):
    from packzoo.zoo.data import images

    monkeypatch.setattr(images, "FASHION_MNIST_DIR", tmp_path / "absent")
    with pytest.raises(DatasetError, match="dataset-fashion-mnist"):
        images.fashion_mnist("train")


def test_empty_files_are_a_dataset_error(tmp_path):
    for split in ("train", "test"):
        (tmp_path / FILES[split][0]).write_bytes(idx_bytes(np.zeros((0, 28, 28), np.uint8)))
        (tmp_path / FILES[split][1]).write_bytes(idx_bytes(np.zeros(0, np.uint8)))
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte: no images"):
        fashion_mnist("train", tmp_path)
