"""Pen data a user can get (pen/sources.py): the places looked in, in order; a download from
a local HTTP server standing in for UCI and Zenodo, checked and unpacked into the cache; a
wrong checksum refused; offline, a message that says what to download and where to put it."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import logging
import os
import shutil
import socket
import subprocess
import tarfile
import threading
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from mnist_app.cli.train import main as train_main
from mnist_app.core import paths
from mnist_app.core.paths import pendigits_file
from mnist_app.pen import sources
from mnist_app.pen.replay import parse
from mnist_app.pen.sources import (
    PENDIGITS,
    UNIPEN,
    PenDataNotFoundError,
    pendigits_path,
    uncompress_z,
    unipen_dir,
)
from mnist_app.pen.unipen import UnipenReader
from mnist_app.training.recipes import make_config
from mnist_app.training.to_checkpoint import RunOrder

# Two tiny files in the pendigits format: 8 and 0 by writer 1, and 1 by writer 2.
TRA = (
    b'.SEGMENT DIGIT 0 ? "8"\n.COMMENT 8 1 0\n.PEN_DOWN\n 10 20\n 30 40\n 50 20\n.PEN_UP\n'
    b'.SEGMENT DIGIT 1 ? "0"\n.COMMENT 0 1 1\n.PEN_DOWN\n 10 10\n 20 40\n 30 10\n.PEN_UP\n'
)
TES = b'.SEGMENT DIGIT 0 ? "1"\n.COMMENT 1 2 0\n.PEN_DOWN\n 20 0\n 20 50\n.PEN_UP\n'
TINY_SHA256 = {
    "pendigits-orig.tra": hashlib.sha256(TRA).hexdigest(),
    "pendigits-orig.tes": hashlib.sha256(TES).hexdigest(),
}
# A tiny UNIPEN distribution: one digit "1" of institution syn.
UNIPEN_FILES = {
    "include/syn/pen.dat": ".PEN_DOWN\n 0 0\n 0 40\n 2 80\n.PEN_UP\n",
    "data/1a/syn/w.dat": '.INCLUDE syn/pen.dat\n.SEGMENT CHARACTER 0 ? "1"\n',
}


@pytest.fixture
def here(monkeypatch, tmp_path) -> Path:
    """Every place pen data is looked for under tmp_path, all empty; no mirror set."""
    monkeypatch.setattr(paths, "PEN_CACHE", tmp_path / "cache")
    monkeypatch.setenv("MNIST_APP_SHARED", str(tmp_path / "shared"))
    for name in ("PENDIGITS_DIR", "UNIPEN_DIR", sources.MIRROR_ENV):
        monkeypatch.setenv(name, "")  # monkeypatch puts back what was there
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    return tmp_path


@pytest.fixture
def tiny_digests(monkeypatch):
    """The tiny files stand for the UCI ones."""
    monkeypatch.setattr(sources, "PENDIGITS_SHA256", dict(TINY_SHA256))


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def do_GET(self):
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """A local HTTP server: files put in `served` are answered under `url`."""
    served = tmp_path / "served"
    served.mkdir()
    handler = type("Handler", (_Handler,), {"requests": []})
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(served))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_port}"
    yield SimpleNamespace(served=served, url=url, requests=handler.requests)
    httpd.shutdown()
    httpd.server_close()


def dead_address() -> str:
    """An address on this machine where nothing listens: a download fails at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def uci_zip(tra: bytes = TRA, tes: bytes = TES) -> bytes:
    """A zip laid out as UCI's: the trajectory files compressed with Unix compress (.Z)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("pendigits-orig.names", "the documentation")
        zipped.writestr("pendigits-orig.tra.Z", compress_z(tra))
        zipped.writestr("pendigits-orig.tes.Z", compress_z(tes))
        zipped.writestr("pendigits.tra", "1,2,3\n")
    return buffer.getvalue()


def unipen_tgz(files: dict[str, str], top: str = "unipen-CDROM/train_r01_v07") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    return buffer.getvalue()


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# --- where it is found --------------------------------------------------------------


def put(name: str, folder: Path) -> Path:
    """Pen data set `name` in `folder`: what a finder returns for it."""
    if name == "pendigits":
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "pendigits-orig.tra").write_bytes(TRA)
        return folder / "pendigits-orig.tra"
    for relative, text in UNIPEN_FILES.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    return folder


def find(name: str, **kwargs) -> Path:
    if name == "pendigits":
        return pendigits_path("train", download=False, **kwargs)
    return unipen_dir(download=False, **kwargs)


@pytest.mark.parametrize("name", ["pendigits", "unipen"])
def test_the_first_place_that_has_it_wins_flag_env_shared_cache(here, monkeypatch, name):
    flag = put(name, here / "flag")
    env = put(name, here / "env")
    shared = put(name, here / "shared" / "handwriting" / name)
    cache = put(name, here / "cache" / name)
    monkeypatch.setenv(paths.PEN_DATA_ENV[name], str(here / "env"))
    assert find(name, folder=here / "flag") == flag
    assert find(name) == env
    shutil.rmtree(here / "env")
    assert find(name) == shared
    shutil.rmtree(here / "shared")
    assert find(name) == cache
    if name == "pendigits":  # the locations alone, as core.paths gives them, agree
        assert pendigits_file("train") == cache


def test_unipen_is_found_in_the_folder_above_train_r01_v07_and_read_without_naming_it(
    here, monkeypatch
):
    folder = put("unipen", here / "mine" / "train_r01_v07")
    monkeypatch.setenv("UNIPEN_DIR", str(here / "mine"))
    assert unipen_dir(download=False) == folder
    reading = UnipenReader().read_section("1a")
    assert [s.label for s in reading.samples] == ["1"]


def test_where_nothing_is_the_core_path_names_the_first_place_as_before(here, monkeypatch):
    shared = here / "shared" / "handwriting" / "pendigits" / "pendigits-orig.tes"
    assert pendigits_file("test") == shared
    monkeypatch.setenv("PENDIGITS_DIR", str(here / "env"))
    assert pendigits_file("test") == here / "env" / "pendigits-orig.tes"


# --- download -----------------------------------------------------------------------


def test_a_download_is_checked_unpacked_and_then_found_in_the_cache(here, server, tiny_digests):
    (server.served / PENDIGITS.file).write_bytes(uci_zip())
    found = pendigits_path("test", mirror=server.url)
    cache = here / "cache" / "pendigits"
    assert found == cache / "pendigits-orig.tes"
    assert found.read_bytes() == TES
    assert (cache / "pendigits-orig.tra").read_bytes() == TRA  # uncompressed from the .Z
    assert [d.label for d in parse(cache / "pendigits-orig.tra")] == [8, 0]
    assert files_under(cache) == ["pendigits-orig.tes", "pendigits-orig.tra"]  # nothing else
    assert server.requests == [f"/{PENDIGITS.file}"]
    assert pendigits_path("train", mirror=server.url) == cache / "pendigits-orig.tra"
    assert len(server.requests) == 1  # found in the cache, not fetched again


def test_the_mirror_can_be_set_in_the_environment(here, server, tiny_digests, monkeypatch):
    (server.served / PENDIGITS.file).write_bytes(uci_zip())
    monkeypatch.setenv(sources.MIRROR_ENV, server.url + "/")
    assert pendigits_path("train").read_bytes() == TRA


def test_a_wrong_checksum_is_refused_and_leaves_no_file(here, server, tiny_digests):
    changed = TES.replace(b"20 50", b"20 51")  # one digit of one point
    (server.served / PENDIGITS.file).write_bytes(uci_zip(tes=changed))
    with pytest.raises(PenDataNotFoundError, match=r"pendigits-orig\.tes in it has sha256"):
        pendigits_path("train", mirror=server.url)
    assert files_under(here / "cache") == []  # not even the right .tra, nor the zip


def test_a_wrong_archive_checksum_is_refused_and_leaves_no_file(here, server, monkeypatch):
    (server.served / UNIPEN.file).write_bytes(unipen_tgz(UNIPEN_FILES))
    monkeypatch.setattr(sources, "UNIPEN_SHA256", "0" * 64)
    with pytest.raises(PenDataNotFoundError, match="not the published 0000"):
        unipen_dir(mirror=server.url)
    assert files_under(here / "cache") == []


@pytest.mark.parametrize(("archive", "env"), [(PENDIGITS, "PENDIGITS_DIR"), (UNIPEN, "UNIPEN_DIR")])
def test_offline_the_message_says_what_to_download_and_where_to_put_it(
    here, monkeypatch, archive, env
):
    address = dead_address()
    monkeypatch.setenv(sources.MIRROR_ENV, address)
    with pytest.raises(PenDataNotFoundError) as raised:
        find_or_fetch(archive)
    message = str(raised.value)
    cache = here / "cache" / archive.name
    assert f"Download\n  {archive.url}\n" in message  # the canonical address
    assert f"in\n  {cache}{os.sep}\n" in message  # the folder, and the name the file keeps
    assert archive.file in message and f"{env}=FOLDER" in message
    assert f"download from {address}/{archive.file}: URLError" in message  # what failed
    assert f"the shared data folder {here / 'shared' / 'handwriting' / archive.name}" in message
    assert files_under(here / "cache") == []


def find_or_fetch(archive):
    return pendigits_path("test") if archive is PENDIGITS else unipen_dir()


def test_a_download_that_is_no_zip_is_refused_and_leaves_no_file(here, server):
    (server.served / PENDIGITS.file).write_bytes(b"<html>Service unavailable</html>")
    with pytest.raises(PenDataNotFoundError, match="BadZipFile"):
        pendigits_path("train", mirror=server.url)
    with pytest.raises(PenDataNotFoundError, match="HTTPError: HTTP Error 404"):
        unipen_dir(mirror=server.url)  # not served
    assert files_under(here / "cache") == []


def test_with_downloads_off_nothing_is_fetched(here, server, tiny_digests):
    (server.served / PENDIGITS.file).write_bytes(uci_zip())
    with pytest.raises(PenDataNotFoundError, match="download: off"):
        pendigits_path("test", download=False, mirror=server.url)
    assert server.requests == []


def test_the_archive_put_in_the_cache_by_hand_is_unpacked_without_a_download(here, tiny_digests):
    cache = here / "cache" / "pendigits"
    cache.mkdir(parents=True)
    (cache / PENDIGITS.file).write_bytes(uci_zip())
    assert pendigits_path("test", download=False).read_bytes() == TES


def test_unipen_is_downloaded_checked_for_its_structure_and_its_md5_logged(here, server, caplog):
    archive = unipen_tgz(UNIPEN_FILES)
    (server.served / UNIPEN.file).write_bytes(archive)
    with caplog.at_level(logging.WARNING, logger=sources.__name__):
        folder = unipen_dir(mirror=server.url)
    assert folder == here / "cache" / "unipen" / "train_r01_v07"
    assert hashlib.md5(archive).hexdigest() in caplog.text  # to compare with Zenodo's
    assert [s.label for s in UnipenReader(folder).read_section("1a").samples] == ["1"]
    assert files_under(here / "cache") == sorted(f"unipen/train_r01_v07/{f}" for f in UNIPEN_FILES)


def test_an_archive_without_the_unipen_structure_is_refused_and_leaves_no_file(here, server):
    (server.served / UNIPEN.file).write_bytes(unipen_tgz({"README": "no data here"}))
    with pytest.raises(PenDataNotFoundError, match="holds no UNIPEN distribution"):
        unipen_dir(mirror=server.url)
    not_text = {**UNIPEN_FILES, "data/1a/syn/w.dat": "\x1f\x8b compressed?"}
    (server.served / UNIPEN.file).write_bytes(unipen_tgz(not_text))
    with pytest.raises(PenDataNotFoundError, match=r"holds no UNIPEN text"):
        unipen_dir(mirror=server.url)
    assert files_under(here / "cache") == []


# --- training -----------------------------------------------------------------------


def test_a_pendigits_recipe_without_them_says_what_to_download(here, monkeypatch, capsys):
    monkeypatch.setenv(sources.MIRROR_ENV, dead_address())
    config = make_config("speedrun_drawn", steps=1)
    with pytest.raises(ValueError, match=r"Download\n  https://archive\.ics\.uci\.edu/"):
        RunOrder(config, "speedrun_drawn", "mine", here / "weights").check()  # the web app's
    assert train_main(["--recipe", "speedrun_drawn", "--pendigits-dir", str(here / "x")]) == 2
    error = capsys.readouterr().err
    assert PENDIGITS.url in error and "PENDIGITS_DIR=FOLDER" in error
    assert f"PENDIGITS_DIR {here / 'x'}: no pendigits-orig.tra" in error  # the flag, looked in


# --- the UCI files ------------------------------------------------------------------


def test_the_digests_are_those_of_the_uci_files():
    folder = paths.shared_dir() / "handwriting" / "pendigits"
    if not folder.is_dir():
        pytest.skip(f"no pendigits in {folder}")
    for name, digest in sources.PENDIGITS_SHA256.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest


def compress_z(data: bytes, max_bits: int = 16) -> bytes:
    """`data` as Unix compress (.Z, block mode) writes it: byte for byte what ncompress makes
    (checked with ncompress 4.2.4) until its table is full; then this one clears the table at
    once, where ncompress waits for the compression ratio to fall (either is valid .Z)."""
    out = bytearray(b"\x1f\x9d" + bytes([0x80 | max_bits]))
    state = {"acc": 0, "bits": 0, "pos": 0, "start": 0}

    def put(code: int, width: int) -> None:
        state["acc"] |= code << state["bits"]
        state["bits"] += width
        state["pos"] += width
        while state["bits"] >= 8:
            out.append(state["acc"] & 0xFF)
            state["acc"] >>= 8
            state["bits"] -= 8

    def pad(width: int) -> None:  # to the end of the group of 8 codes of this width
        put(0, -(state["pos"] - state["start"]) % (width * 8))
        state["start"] = state["pos"]

    initial = {bytes([i]): i for i in range(256)}
    table, free = dict(initial), 257
    # The reader's table size before each code decides that code's width; it adds no entry
    # for the first code, nor for a CLEAR (256), after which it starts again at 256.
    n_bits, max_code, seen, first = 9, 511, 257, True

    def emit(code: int) -> None:
        nonlocal n_bits, max_code, seen, first
        if seen > max_code:
            pad(n_bits)
            n_bits += 1
            max_code = 1 << max_bits if n_bits == max_bits else (1 << n_bits) - 1
        put(code, n_bits)
        if code == 256:
            pad(n_bits)
            n_bits, max_code, seen = 9, 511, 256
        elif not first and seen < 1 << max_bits:
            seen += 1
        first = False

    word = b""
    for value in data:
        longer = word + bytes([value])
        if longer in table:
            word = longer
            continue
        emit(table[word])
        if free < 1 << max_bits:
            table[longer], free = free, free + 1
        else:
            emit(256)
            table, free = dict(initial), 257
        word = bytes([value])
    if word:
        emit(table[word])
    if state["bits"]:
        out.append(state["acc"])
    return bytes(out)


@pytest.mark.parametrize("max_bits", [10, 12, 16])
def test_unix_compress_data_is_read_through_width_changes_and_table_clears(max_bits):
    text = TRA * 200  # repetitive: long codes
    noise = hashlib.shake_256(b"seed").digest(120_000)  # fills any table: clears
    for data in (b"", b"a", text, noise + text + noise):
        packed = compress_z(data, max_bits)
        assert uncompress_z(packed) == data
        if shutil.which("gzip"):  # another reader agrees that it is .Z as compress writes it
            unpacked = subprocess.run(["gzip", "-dc"], input=packed, capture_output=True)
            assert unpacked.stdout == data


def test_data_that_is_not_unix_compress_is_refused():
    with pytest.raises(ValueError, match=r"not \.Z"):
        uncompress_z(b"PK\x03\x04")
    with pytest.raises(ValueError, match="over 100 bytes"):
        uncompress_z(compress_z(b"x" * 1000), limit=100)
    packed = bytearray(compress_z(TRA))
    packed[4] |= 1  # the first code's ninth bit: it is no byte
    with pytest.raises(ValueError, match="corrupt"):
        uncompress_z(bytes(packed))
