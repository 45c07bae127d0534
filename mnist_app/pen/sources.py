"""Pen data a user can get: UCI pendigits and UNIPEN train_r01_v07, found on disk or fetched.

Each is looked for in `core.paths.pen_data_places` order: a folder given (a command's flag),
the folder its environment variable names (PENDIGITS_DIR, UNIPEN_DIR), handwriting/<name>/
in the shared data folder (../shared beside the checkout), then the project's cache
data/handwriting/<name>/. Failing those, its archive is taken from that cache folder if
someone put it there by hand, else downloaded from its canonical address (or from a mirror:
MNIST_APP_PEN_MIRROR, a base URL under which the archive's file name is fetched, or the
`mirror` argument); it is checked, unpacked into the cache, and found there from then on.
When none of that works, the message says what to download, from where, and where to put it.

    >>> pendigits_path("test")        # pendigits-orig.tes, downloaded if need be
    >>> UnipenReader(unipen_dir())    # the train_r01_v07 folder: data/, include/
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import tarfile
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ..core.atomic import LEFTOVER_AGE_S, write_atomically
from ..core.messages import first_line
from ..core.paths import PEN_DATA_ENV, PENDIGITS_FILES, pen_data_places

log = logging.getLogger(__name__)

MIRROR_ENV = "MNIST_APP_PEN_MIRROR"
TIMEOUT_S = 30  # per connection attempt and per read, not for the whole download
MAX_MEMBER_BYTES = 64 << 20  # a pendigits file is 3.6 MB; more is not the UCI archive


@dataclass(frozen=True)
class Archive:
    name: str  # the data set, as `pen_data_places` names it
    title: str
    url: str  # the canonical address
    file: str  # the archive's file name: in a mirror, and when put in the cache by hand
    page: str  # where a person reads about it
    unpacked: str  # how to give it unpacked instead, for the message
    flag: str = ""  # a command's flag naming the folder, for the message


PENDIGITS = Archive(
    name="pendigits",
    title='pendigits (UCI "Pen-Based Recognition of Handwritten Digits", doi:10.24432/C5MG6K)',
    url="https://archive.ics.uci.edu/static/public/81/pen+based+recognition+of+handwritten+digits.zip",
    file="pen+based+recognition+of+handwritten+digits.zip",
    page="https://archive.ics.uci.edu/dataset/81",
    unpacked="Or put pendigits-orig.tra and pendigits-orig.tes from it (the zip holds them\n"
    "as .Z files: `uncompress` or `gzip -d` opens them) in a folder, and name it with",
    flag="python -m mnist_app train --pendigits-dir FOLDER",
)
# sha256 of the two files as UCI distributes them (uncompressed), from the copy of the UCI
# data in ../shared/handwriting/pendigits. The zip's own digest is not checked: a zip of the
# same files packed anew is as good, and the files are what the project reads.
PENDIGITS_SHA256 = {
    "pendigits-orig.tra": "a66225d68d7d68591e62944df1ad33b3f5aa608e2df2505844b41f5568a80da4",
    "pendigits-orig.tes": "ddb1c19e277a56c7ffe682cc024d6ab73696f9adcc1643ef9ed5aa753007e081",
}

# The file name on Zenodo is as other projects that download record 1195803 spell it; it
# could not be checked from here (no internet): if Zenodo answers 404, the record's page
# lists the file, and MNIST_APP_PEN_MIRROR or the archive put in the cache by hand serve.
UNIPEN = Archive(
    name="unipen",
    title="UNIPEN train_r01_v07 (Zenodo record 1195803, doi:10.5281/zenodo.1195803)",
    url="https://zenodo.org/records/1195803/files/unipen-CDROM-train_r01_v07.tgz?download=1",
    file="unipen-CDROM-train_r01_v07.tgz",
    page="https://zenodo.org/records/1195803",
    unpacked="Or unpack it, and name the folder that holds train_r01_v07/ (or its data/ and\n"
    "include/) with",
)
# No digest of the Zenodo archive is known to this project (../shared holds a patched copy,
# whose files are no checksum of it), and none is made up here: a download is checked for
# its structure instead, and its md5 is logged to compare with the one Zenodo lists. Put the
# sha256 here once it is known, and the archive is checked against it.
UNIPEN_SHA256: str | None = None


class PenDataNotFoundError(FileNotFoundError, ValueError):
    """The pen data is nowhere and could not be fetched; the message says what to download
    and where to put it. A ValueError too: a setting naming it cannot be used."""


class ChecksumError(ValueError):
    """A download or a file in it is not the one published: refused."""


def pendigits_path(
    split: str,
    folder: str | os.PathLike | None = None,
    download: bool = True,
    mirror: str | None = None,
) -> Path:
    """The pendigits file of `split` ("train": pendigits-orig.tra, "test": .tes), from the
    first place that has it, else fetched into the cache (see the module's docstring);
    PenDataNotFoundError if it cannot be had."""
    name = PENDIGITS_FILES[split]
    places = pen_data_places("pendigits", folder)
    for _, place in places:
        if (place / name).is_file():
            return place / name
    tried = [f"{what} {place}: no {name}" for what, place in places]
    cache = places[-1][1]
    _fetch(PENDIGITS, cache, _install_pendigits, download, mirror, tried)  # checks the files
    return cache / name


def unipen_dir(
    folder: str | os.PathLike | None = None,
    download: bool = True,
    mirror: str | None = None,
) -> Path:
    """The UNIPEN train_r01_v07 distribution folder (the one holding data/ and include/,
    for `unipen.UnipenReader`), from the first place that has it, else fetched into the
    cache (see the module's docstring); PenDataNotFoundError if it cannot be had."""
    places = pen_data_places("unipen", folder)
    for _, place in places:
        found = distribution_in(place)
        if found is not None:
            return found
    tried = [f"{what} {place}: no data/ and include/" for what, place in places]
    cache = places[-1][1]
    _fetch(UNIPEN, cache, _install_unipen, download, mirror, tried, UNIPEN_SHA256)
    found = distribution_in(cache)
    assert found is not None  # _install_unipen put it there
    return found


def distribution_in(folder: Path) -> Path | None:
    """`folder` or its train_r01_v07/ where it holds data/ and include/, as the UNIPEN
    reader takes it; else None."""
    for candidate in (folder, folder / "train_r01_v07"):
        if (candidate / "data").is_dir() and (candidate / "include").is_dir():
            return candidate
    return None


# --- fetching ----------------------------------------------------------------------------

# What a failed fetch raises: the network, a refused checksum, an archive of the wrong form.
_FAILURES = (
    OSError,
    ValueError,
    EOFError,
    http.client.HTTPException,
    tarfile.TarError,
    zipfile.BadZipFile,
)


def _fetch(
    archive: Archive,
    cache: Path,
    install: Callable[[Path, Path], None],
    download: bool,
    mirror: str | None,
    tried: list[str],
    sha256: str | None = None,
) -> None:
    """Install `archive` into `cache` from the copy put there by hand, else from a download
    (checked against `sha256` where given; `install` checks what it unpacks); else
    PenDataNotFoundError, with `tried` and what failed."""
    by_hand = cache / archive.file
    if by_hand.is_file():
        try:
            install(by_hand, cache)
            return
        except _FAILURES as err:
            tried.append(f"{by_hand} (put there by hand): {type(err).__name__}: {first_line(err)}")
            raise PenDataNotFoundError(not_found_message(archive, cache, tried)) from err
    if not download:
        tried.append("download: off")
        raise PenDataNotFoundError(not_found_message(archive, cache, tried))
    mirror = mirror if mirror is not None else os.environ.get(MIRROR_ENV)
    address = f"{mirror.rstrip('/')}/{archive.file}" if mirror else archive.url
    try:
        cache.mkdir(parents=True, exist_ok=True)
        _remove_stale_work(cache)
        with tempfile.TemporaryDirectory(dir=cache, prefix=".download-", suffix=".tmp") as work:
            path = Path(work) / archive.file
            digests = _download(address, path, sha256)
            install(path, cache)
        if sha256 is None and archive is UNIPEN:  # the files it unpacked have no digest either
            log.warning(
                "%s downloaded from %s: md5 %s, sha256 %s (no digest of it is known here: "
                "compare the md5 with the one Zenodo lists on %s)",
                archive.file,
                address,
                digests["md5"],
                digests["sha256"],
                archive.page,
            )
    except _FAILURES as err:
        tried.append(f"download from {address}: {type(err).__name__}: {first_line(err)}")
        raise PenDataNotFoundError(not_found_message(archive, cache, tried)) from err


def not_found_message(archive: Archive, cache: Path, tried: list[str]) -> str:
    """What to download, from where, and where to put it; then what was tried."""
    env = f"{PEN_DATA_ENV[archive.name]}=FOLDER" + (f" (or {archive.flag})" if archive.flag else "")
    return (
        f"{archive.title} is not on this machine and could not be fetched.\n"
        f"Download\n  {archive.url}\n  (about it: {archive.page})\n"
        f"and put that file, {archive.file}, as it is in\n  {cache}{os.sep}\n"
        f"where it is checked and unpacked at the next run.\n{archive.unpacked}\n  {env}\n"
        "Tried:\n" + "\n".join(f"  - {t}" for t in tried)
    )


def _download(address: str, path: Path, sha256: str | None) -> dict[str, str]:
    """`address` into `path`, whole or not at all, with a progress bar; ChecksumError (and
    no file) if `sha256` is given and the download's differs. Returns its md5 and sha256."""
    digests = {}

    def write(tmp: Path) -> None:
        with urllib.request.urlopen(address, timeout=TIMEOUT_S) as response:
            size = int(response.headers.get("Content-Length") or 0) or None
            digests.update(_stream(response, tmp, size, path.name))
        if sha256 is not None and digests["sha256"] != sha256:
            raise ChecksumError(
                f"the download has sha256 {digests['sha256']}, not the published {sha256}: refused"
            )

    write_atomically(path, write, overwrite=True)
    return digests


def _stream(response, tmp: Path, size: int | None, label: str) -> dict[str, str]:
    """The response's body into `tmp`, with a progress bar; its md5 and sha256."""
    sha256, md5, received = hashlib.sha256(), hashlib.md5(), 0
    with (
        open(tmp, "wb") as out,
        tqdm(total=size, unit="B", unit_scale=True, unit_divisor=1024, desc=label) as bar,
    ):
        for block in iter(lambda: response.read(1 << 16), b""):
            out.write(block)
            sha256.update(block)
            md5.update(block)
            received += len(block)
            bar.update(len(block))
    if size is not None and received != size:
        raise OSError(f"the download stopped after {received:,} of {size:,} bytes")
    return {"sha256": sha256.hexdigest(), "md5": md5.hexdigest()}


def _remove_stale_work(cache: Path) -> None:
    """Work folders of fetches that a crash cut short (a running fetch's are younger)."""
    cutoff = time.time() - LEFTOVER_AGE_S
    for work in [*cache.glob(".download-*.tmp"), *cache.glob(".unpack-*.tmp")]:
        try:
            if work.is_dir() and work.stat().st_mtime < cutoff:
                shutil.rmtree(work, ignore_errors=True)
        except OSError:
            continue


# --- unpacking ---------------------------------------------------------------------------


def _install_pendigits(archive: Path, cache: Path) -> None:
    """pendigits-orig.tra and .tes from the UCI zip (plain or .Z, anywhere in it) into
    `cache`, each checked against its sha256 before either is written."""
    contents = {}
    with zipfile.ZipFile(archive) as zipped:
        members = {Path(info.filename).name: info for info in zipped.infolist()}
        for name, expected in PENDIGITS_SHA256.items():
            info = members.get(name) or members.get(f"{name}.Z")
            if info is None:
                raise ValueError(f"{archive.name} holds no {name} (nor {name}.Z)")
            if info.file_size > MAX_MEMBER_BYTES:
                raise ValueError(f"{info.filename} in {archive.name} is too large")
            data = zipped.read(info)
            if info.filename.endswith(".Z"):
                data = uncompress_z(data, MAX_MEMBER_BYTES)
            got = hashlib.sha256(data).hexdigest()
            if got != expected:
                raise ChecksumError(f"{name} in it has sha256 {got}, not {expected}: refused")
            contents[name] = data
    for name, data in contents.items():
        write_atomically(cache / name, lambda tmp, data=data: tmp.write_bytes(data), True)


def _install_unipen(archive: Path, cache: Path) -> None:
    """The train_r01_v07 distribution in `archive` (a tar, compressed or not, or a zip) into
    `cache`/train_r01_v07, once its structure is checked; moved into place whole."""
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".unpack-", suffix=".tmp") as work:
        _unpack(archive, Path(work))
        found = _search_distribution(Path(work), depth=3)
        if found is None:
            raise ValueError(
                f"{archive.name} holds no UNIPEN distribution (a folder with data/1a/ and include/)"
            )
        check_unipen(found)
        try:
            found.rename(cache / "train_r01_v07")
        except OSError:
            if distribution_in(cache) is None:  # else another process put it there first
                raise


def _unpack(archive: Path, into: Path) -> None:
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(into)  # zipfile drops absolute paths and ".." parts
    else:
        with tarfile.open(archive) as tar:
            tar.extractall(into, filter="data")  # no links out, no absolute paths


def _search_distribution(folder: Path, depth: int) -> Path | None:
    """The first folder, `folder` or under it to `depth` levels, holding data/1a/ and
    include/: how the archive lays the distribution out is not assumed."""
    level = [folder]
    for _ in range(depth + 1):
        for candidate in level:
            if (candidate / "data" / "1a").is_dir() and (candidate / "include").is_dir():
                return candidate
        level = sorted(sub for candidate in level for sub in candidate.iterdir() if sub.is_dir())
    return None


def check_unipen(folder: Path) -> None:
    """ValueError unless `folder`'s data/1a/ holds UNIPEN text (.SEGMENT lines): a digest of
    the Zenodo archive is not known, so its structure is what is checked."""
    files = sorted(p for p in (folder / "data" / "1a").rglob("*") if p.is_file())
    for path in files[:20]:
        with open(path, "rb") as f:
            if b".SEGMENT" in f.read(1 << 20):
                return
    raise ValueError(f"{folder / 'data' / '1a'} holds no UNIPEN text (.SEGMENT lines)")


def uncompress_z(data: bytes, limit: int = MAX_MEMBER_BYTES) -> bytes:
    """Unix `compress` data (.Z: LZW, 9 to 16-bit codes) uncompressed, as `uncompress` and
    `gzip -d` read it; ValueError if it is not such data or would exceed `limit` bytes.

    Codes are packed low bit first in groups of 8 of one width. When the width grows, or a
    CLEAR code (256, in block mode) empties the table, the rest of the current group is
    padding: reading resumes at the next group boundary, counted from where that width
    began (as ncompress and gzip do)."""
    if len(data) < 3 or data[:2] != b"\x1f\x9d":
        raise ValueError("not .Z (Unix compress) data")
    max_bits, block_mode = data[2] & 0x1F, bool(data[2] & 0x80)
    if not 9 <= max_bits <= 16:
        raise ValueError(f".Z data of {max_bits}-bit codes: only 9 to 16 exist")
    table = [bytes([i]) for i in range(256)] + ([b""] if block_mode else [])  # 256: CLEAR
    n_bits, start, pos, end = 9, 24, 24, len(data) * 8
    max_code = (1 << n_bits) - 1
    out: list[bytes] = []
    total = 0
    previous = b""
    while True:
        if len(table) > max_code:  # the next code is one bit wider
            pos = start + -(-(pos - start) // (n_bits * 8)) * (n_bits * 8)
            start, n_bits = pos, n_bits + 1
            max_code = 1 << max_bits if n_bits == max_bits else (1 << n_bits) - 1
        if pos + n_bits > end:
            break
        code = int.from_bytes(data[pos >> 3 : (pos >> 3) + 3], "little") >> (pos & 7)
        code &= (1 << n_bits) - 1
        pos += n_bits
        if not previous:  # the first code: a byte
            if code > 255:
                raise ValueError("corrupt .Z data: the first code is not a byte")
            previous = table[code]
            out.append(previous)
            total += 1
            continue
        if code == 256 and block_mode:  # CLEAR: the table as at the start, codes 9 bits
            pos = start + -(-(pos - start) // (n_bits * 8)) * (n_bits * 8)
            start, n_bits, max_code = pos, 9, (1 << 9) - 1
            del table[256:]
            continue
        if code < len(table):
            entry = table[code]
        elif code == len(table):  # the code being defined: previous + its first byte
            entry = previous + previous[:1]
        else:
            raise ValueError(f"corrupt .Z data: code {code} before it is defined")
        out.append(entry)
        total += len(entry)
        if total > limit:
            raise ValueError(f".Z data over {limit:,} bytes uncompressed")
        if len(table) < 1 << max_bits:
            table.append(previous + entry[:1])
        previous = entry
    return b"".join(out)
