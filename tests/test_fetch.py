"""Downloading and unpacking the data sets, against small archives served on 127.0.0.1 by the tests themselves."""

from __future__ import annotations

import hashlib
import io
import socket
import tarfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from gradcam_study.data import fetch
from gradcam_study.data.fetch import DownloadError, ImageNetV2Variant, OfflineError, download, extract

PAYLOAD = bytes(range(256)) * 40  # 10 KiB, every byte value, so that an offset error changes the checksum
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


# --- a small HTTP server ---------------------------------------------------------------------------------------


@dataclass
class Server:
    """Files served on 127.0.0.1, how Range requests are answered, and the requests seen."""

    files: dict[str, bytes]
    ranges: str = "honour"  # "honour", "ignore" (always 200) or "misplace" (206 from byte 0)
    cut_at: int | None = None  # send only this many body bytes, then close the connection
    chunked: bool = False
    stall: float = 0.0  # seconds to wait between the headers and the body
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    port: int = 0

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # chunked transfer encoding needs it
    state: Server

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        state = self.state
        asked = self.headers.get("Range")
        state.requests.append((self.path, asked))
        self.close_connection = True
        if self.path.startswith("/moved/"):
            # Like Hugging Face and GitHub, which answer with a redirection to the storage that serves the bytes.
            self.send_response(302)
            self.send_header("Location", self.path.removeprefix("/moved"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = state.files.get(self.path.lstrip("/"))
        if body is None:
            self.send_error(404)
            return
        start = 0
        if asked and state.ranges != "ignore":
            start = int(asked.removeprefix("bytes=").removesuffix("-"))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if state.ranges == "misplace":
                start = 0
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        rest = body[start:]
        sent = rest if state.cut_at is None else rest[: state.cut_at]
        self.send_header("Connection", "close")
        if state.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            sent = f"{len(sent):x}\r\n".encode() + sent + b"\r\n" + (b"0\r\n\r\n" if state.cut_at is None else b"")
        else:
            self.send_header("Content-Length", str(len(rest)))
        self.end_headers()
        time.sleep(state.stall)
        try:
            self.wfile.write(sent)
        except ConnectionError:
            pass  # the client gave up waiting, as the stalling test means it to

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the signature of the base class)
        pass


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    """Start servers on demand; all are shut down after the test."""
    running: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(files: dict[str, bytes], **options: object) -> Server:
        state = Server(files, **options)  # type: ignore[arg-type]
        handler = type("Handler", (_Handler,), {"state": state})
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True
        state.port = httpd.server_address[1]
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        running.append((httpd, thread))
        return state

    yield start
    for httpd, thread in running:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: the connection is refused, as when offline."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/data.tar.gz"


# --- archives ----------------------------------------------------------------------------------------------------


def tiny_jpeg(shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (shade, 0, 0)).save(buffer, "JPEG")
    return buffer.getvalue()


def make_tar(members: list[tarfile.TarInfo | tuple[str, bytes]], mode: str = "w:gz") -> bytes:
    """A tar archive of ``(name, content)`` files and ready-made ``TarInfo`` entries (links, odd names)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                name, content = member
                info = tarfile.TarInfo(name)
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, content in files.items():
            bundle.writestr(zipfile.ZipInfo(name), content)
    return buffer.getvalue()


def link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def folder(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    return info


SAMPLE_NAMES = ["n01440764_tench.JPEG", "n01443537_goldfish.JPEG", "n01484850_great_white_shark.JPEG"]


def sample_zip(names: list[str] = SAMPLE_NAMES) -> bytes:
    """Like GitHub's archive of the repository: one top folder, the images and the read-me."""
    top = "imagenet-sample-images-0123abc/"
    files = {top + name: tiny_jpeg(index) for index, name in enumerate(names)}
    files[top + "README.md"] = b"# sample\n"
    return make_zip(files)


def imagenetv2_tar(classes: int = 3, per_class: int = 2) -> bytes:
    top = "imagenetv2-tiny-format-val"
    return make_tar(
        [
            (f"{top}/{label}/{hashlib.md5(bytes([label, index])).hexdigest()}.jpeg", tiny_jpeg(label))
            for label in range(classes)
            for index in range(per_class)
        ]
    )


# --- download ----------------------------------------------------------------------------------------------------


def test_download_writes_the_file_and_no_partial(serve: Callable[..., Server], tmp_path: Path) -> None:
    server = serve({"data.bin": PAYLOAD})
    destination = tmp_path / "downloads" / "data.bin"

    result = download(server.url("data.bin"), destination, progress=False, timeout=5)

    assert result == destination
    assert destination.read_bytes() == PAYLOAD
    assert not destination.with_name("data.bin.part").exists()
    assert server.requests == [("/data.bin", None)]


def test_download_verifies_the_checksum_and_reuses_a_verified_file(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    server = serve({"data.bin": PAYLOAD})
    destination = tmp_path / "data.bin"
    options = {"sha256": PAYLOAD_SHA256.upper(), "expected_size": len(PAYLOAD), "progress": False, "timeout": 5}

    download(server.url("data.bin"), destination, **options)
    download(server.url("data.bin"), destination, **options)

    assert destination.read_bytes() == PAYLOAD
    assert len(server.requests) == 1


def test_download_replaces_a_file_that_does_not_verify(serve: Callable[..., Server], tmp_path: Path) -> None:
    server = serve({"data.bin": PAYLOAD})
    destination = tmp_path / "data.bin"
    destination.write_bytes(b"an older, different file")

    download(server.url("data.bin"), destination, sha256=PAYLOAD_SHA256, progress=False, timeout=5)

    assert destination.read_bytes() == PAYLOAD


@pytest.mark.parametrize(
    ("expectation", "message"),
    [
        ({"expected_size": len(PAYLOAD) + 1}, f"{len(PAYLOAD) + 1} were expected"),
        ({"sha256": "0" * 64}, f"expected SHA-256 {'0' * 64}, found {PAYLOAD_SHA256}"),
    ],
    ids=["size", "checksum"],
)
def test_download_mismatch_raises_and_keeps_nothing(
    serve: Callable[..., Server], tmp_path: Path, expectation: dict[str, object], message: str
) -> None:
    server = serve({"data.bin": PAYLOAD})
    destination = tmp_path / "data.bin"

    with pytest.raises(DownloadError, match=message.replace("(", r"\(")):
        download(server.url("data.bin"), destination, progress=False, timeout=5, **expectation)

    assert list(tmp_path.iterdir()) == []


def test_download_size_mismatch_found_after_the_transfer(serve: Callable[..., Server], tmp_path: Path) -> None:
    # Chunked: no Content-Length announces the size, so only the bytes received can show it.
    server = serve({"data.bin": PAYLOAD}, chunked=True)

    with pytest.raises(DownloadError, match=f"expected {len(PAYLOAD) - 1} bytes, found {len(PAYLOAD)}"):
        download(server.url("data.bin"), tmp_path / "data.bin", expected_size=len(PAYLOAD) - 1, progress=False)

    assert list(tmp_path.iterdir()) == []


def test_download_resumes_a_partial_file(serve: Callable[..., Server], tmp_path: Path) -> None:
    server = serve({"data.bin": PAYLOAD})
    destination = tmp_path / "data.bin"
    destination.with_name("data.bin.part").write_bytes(PAYLOAD[:3000])

    download(server.url("data.bin"), destination, sha256=PAYLOAD_SHA256, expected_size=len(PAYLOAD), timeout=5)

    assert server.requests == [("/data.bin", "bytes=3000-")]
    assert destination.read_bytes() == PAYLOAD
    assert not destination.with_name("data.bin.part").exists()


def test_download_interrupted_keeps_the_partial_file_and_resumes_it(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    server = serve({"data.bin": PAYLOAD}, cut_at=4000)
    destination = tmp_path / "data.bin"
    part = destination.with_name("data.bin.part")

    with pytest.raises(DownloadError, match=f"closed after 4000 of {len(PAYLOAD)} bytes.*run again to resume"):
        download(server.url("data.bin"), destination, sha256=PAYLOAD_SHA256, progress=False, timeout=5)
    assert part.read_bytes() == PAYLOAD[:4000]
    assert not destination.exists()

    server.cut_at = None
    download(server.url("data.bin"), destination, sha256=PAYLOAD_SHA256, progress=False, timeout=5)

    assert server.requests[-1] == ("/data.bin", "bytes=4000-")
    assert destination.read_bytes() == PAYLOAD


def test_download_interrupted_chunked_body_is_not_taken_for_complete(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    server = serve({"data.bin": PAYLOAD}, chunked=True, cut_at=4000)
    destination = tmp_path / "data.bin"

    with pytest.raises(DownloadError, match="run again to resume"):
        download(server.url("data.bin"), destination, progress=False, timeout=5)
    assert not destination.exists()

    server.cut_at = None
    download(server.url("data.bin"), destination, progress=False, timeout=5)
    assert destination.read_bytes() == PAYLOAD


@pytest.mark.parametrize("ranges", ["ignore", "misplace"])
def test_download_starts_over_when_the_range_is_not_honoured(
    serve: Callable[..., Server], tmp_path: Path, ranges: str
) -> None:
    server = serve({"data.bin": PAYLOAD}, ranges=ranges)
    destination = tmp_path / "data.bin"
    # Wrong bytes: appending to them would fail the checksum, so they must be discarded.
    destination.with_name("data.bin.part").write_bytes(b"\xff" * 3000)

    download(server.url("data.bin"), destination, sha256=PAYLOAD_SHA256, progress=False, timeout=5)

    assert server.requests[0] == ("/data.bin", "bytes=3000-")
    assert destination.read_bytes() == PAYLOAD


def test_download_complete_partial_file_needs_no_more_bytes(serve: Callable[..., Server], tmp_path: Path) -> None:
    server = serve({"data.bin": PAYLOAD})
    destination = tmp_path / "data.bin"
    destination.with_name("data.bin.part").write_bytes(PAYLOAD)

    download(server.url("data.bin"), destination, sha256=PAYLOAD_SHA256, progress=False, timeout=5)

    assert server.requests == [("/data.bin", f"bytes={len(PAYLOAD)}-")]
    assert destination.read_bytes() == PAYLOAD


def test_download_resumes_through_a_redirection(serve: Callable[..., Server], tmp_path: Path) -> None:
    server = serve({"data.bin": PAYLOAD})
    destination = tmp_path / "data.bin"
    destination.with_name("data.bin.part").write_bytes(PAYLOAD[:3000])

    download(server.url("moved/data.bin"), destination, sha256=PAYLOAD_SHA256, progress=False, timeout=5)

    assert server.requests == [("/moved/data.bin", "bytes=3000-"), ("/data.bin", "bytes=3000-")]
    assert destination.read_bytes() == PAYLOAD


def test_download_stalled_server_times_out_as_offline(serve: Callable[..., Server], tmp_path: Path) -> None:
    server = serve({"data.bin": PAYLOAD}, stall=1.0)
    destination = tmp_path / "data.bin"

    with pytest.raises(OfflineError, match="offline"):
        download(server.url("data.bin"), destination, progress=False, timeout=0.2)

    assert not destination.exists()


def test_download_offline_says_how_to_proceed(closed_port_url: str, tmp_path: Path) -> None:
    destination = tmp_path / "downloads" / "data.tar.gz"

    with pytest.raises(OfflineError) as raised:
        download(closed_port_url, destination, progress=False, timeout=5)

    message = str(raised.value)
    assert closed_port_url in message
    assert "offline" in message
    assert str(destination) in message
    assert "GRADCAM_STUDY_DATA" in message
    assert isinstance(raised.value, ConnectionError)
    assert not destination.exists()


def test_download_http_error_is_not_offline(serve: Callable[..., Server], tmp_path: Path) -> None:
    server = serve({})

    with pytest.raises(DownloadError, match="HTTP 404"):
        download(server.url("missing.bin"), tmp_path / "missing.bin", progress=False, timeout=5)


# --- extract -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["w", "w:gz"])
def test_extract_tar(tmp_path: Path, mode: str) -> None:
    # Named .tar.gz whatever the compression: ImageNetV2's ".tar.gz" is reported to be a plain tar.
    archive = tmp_path / "data.tar.gz"
    archive.write_bytes(make_tar([folder("top"), ("top/a.txt", b"a"), link("top/b.txt", "a.txt")], mode))

    target = extract(archive, tmp_path / "out")

    assert (target / "top" / "a.txt").read_bytes() == b"a"
    assert (target / "top" / "b.txt").read_bytes() == b"a"
    assert not (tmp_path / "out.partial").exists()


def test_extract_zip(tmp_path: Path) -> None:
    archive = tmp_path / "data.zip"
    archive.write_bytes(make_zip({"top/a.txt": b"a", "top/sub/b.txt": b"b"}))

    target = extract(archive, tmp_path / "out")

    assert (target / "top" / "sub" / "b.txt").read_bytes() == b"b"


def test_extract_truncated_archive_leaves_no_folder(tmp_path: Path) -> None:
    whole = make_tar([(f"top/{index}.bin", bytes(range(256)) * 64) for index in range(8)])
    archive = tmp_path / "data.tar.gz"
    archive.write_bytes(whole[: len(whole) // 2])

    with pytest.raises(DownloadError, match="truncated"):
        extract(archive, tmp_path / "out")

    assert sorted(path.name for path in tmp_path.iterdir()) == ["data.tar.gz"]


def test_extract_refuses_what_is_not_an_archive(tmp_path: Path) -> None:
    archive = tmp_path / "data.zip"
    archive.write_bytes(b"<html>Rate limit exceeded</html>")

    with pytest.raises(DownloadError, match="not a tar or zip archive"):
        extract(archive, tmp_path / "out")

    assert sorted(path.name for path in tmp_path.iterdir()) == ["data.zip"]


def test_extract_into_an_existing_folder_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "data.zip"
    archive.write_bytes(make_zip({"a.txt": b"a"}))
    (tmp_path / "out").mkdir()

    with pytest.raises(FileExistsError):
        extract(archive, tmp_path / "out")


def _unsafe_tars(outside: Path) -> dict[str, tuple[list[tarfile.TarInfo | tuple[str, bytes]], str]]:
    """Archives trying to write ``outside``, with the member each must be refused for."""
    return {
        "dot-dot": ([("top/a.txt", b"a"), ("../evil.txt", b"evil")], "../evil.txt"),
        "absolute": ([(str(outside / "evil.txt"), b"evil")], str(outside / "evil.txt")),
        "absolute-link": ([link("top", str(outside)), ("top/evil.txt", b"evil")], "top"),
        "link-out": ([link("top", "../.."), ("top/evil.txt", b"evil")], "top"),
        "hard-link-out": ([link("evil.txt", "../../evil.txt", tarfile.LNKTYPE)], "evil.txt"),
        # Each link alone stays inside; the second resolves through the first to the parent of the target.
        "link-chain": ([folder("d"), link("d/l", ".."), link("d/l/x", "..")], "d/l/x"),
        "device": ([link("null", "", tarfile.CHRTYPE)], "null"),
    }


@pytest.mark.parametrize("data_filter", [True, False], ids=["data-filter", "own-checks-only"])
@pytest.mark.parametrize("case", list(_unsafe_tars(Path("/"))))
def test_extract_refuses_tar_members_escaping_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, data_filter: bool
) -> None:
    if data_filter and not hasattr(tarfile, "data_filter"):
        pytest.skip("this Python has no tarfile extraction filters")
    monkeypatch.setattr(fetch, "_HAS_DATA_FILTER", data_filter)
    outside = tmp_path / "outside"
    outside.mkdir()
    members, refused = _unsafe_tars(outside)[case]
    archive = tmp_path / "evil.tar.gz"
    archive.write_bytes(make_tar(members))
    work = tmp_path / "work"
    work.mkdir()

    with pytest.raises(DownloadError, match=f"member {refused!r}".replace(".", r"\.")):
        extract(archive, work / "target")

    assert list(outside.iterdir()) == []
    assert sorted(path.name for path in tmp_path.iterdir()) == ["evil.tar.gz", "outside", "work"]
    assert list(work.iterdir()) == []


@pytest.mark.parametrize("name", ["../evil.txt", "top/../../evil.txt", "/evil.txt", "C:/evil.txt"])
def test_extract_refuses_zip_members_escaping_the_target(tmp_path: Path, name: str) -> None:
    archive = tmp_path / "evil.zip"
    archive.write_bytes(make_zip({"top/a.txt": b"a", name: b"evil"}))
    work = tmp_path / "work"
    work.mkdir()

    with pytest.raises(DownloadError, match=f"member {name!r}".replace(".", r"\.")):
        extract(archive, work / "target")

    assert sorted(path.name for path in tmp_path.iterdir()) == ["evil.zip", "work"]
    assert list(work.iterdir()) == []


# --- the data sets -----------------------------------------------------------------------------------------------


def test_fetch_imagenet_sample_end_to_end(
    serve: Callable[..., Server], tmp_path: Path, closed_port_url: str
) -> None:
    server = serve({"sample.zip": sample_zip()})

    images = fetch.fetch_imagenet_sample(tmp_path, url=server.url("sample.zip"), progress=False, expected_images=3)

    assert images == tmp_path / "datasets" / "imagenet-sample" / "imagenet-sample-images-0123abc"
    assert sorted(path.name for path in images.glob("*.JPEG")) == SAMPLE_NAMES
    with Image.open(images / SAMPLE_NAMES[0]) as image:
        assert image.size == (4, 4)
    assert list((tmp_path / "downloads").iterdir()) == []
    # Complete: found again without any network access (this URL would raise OfflineError).
    assert fetch.fetch_imagenet_sample(tmp_path, url=closed_port_url, progress=False, expected_images=3) == images
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "names",
    [
        SAMPLE_NAMES[:2],
        [SAMPLE_NAMES[0], SAMPLE_NAMES[1], "n01440764_another_tench.JPEG"],
        [SAMPLE_NAMES[0], SAMPLE_NAMES[1], "tench.JPEG"],
    ],
    ids=["too-few", "duplicate-class", "not-a-wnid"],
)
def test_fetch_imagenet_sample_checks_the_content(
    serve: Callable[..., Server], tmp_path: Path, names: list[str]
) -> None:
    server = serve({"sample.zip": sample_zip(names)})

    with pytest.raises(DownloadError, match="should hold 3 images"):
        fetch.fetch_imagenet_sample(tmp_path, url=server.url("sample.zip"), progress=False, expected_images=3)

    assert list((tmp_path / "datasets").iterdir()) == []
    assert list((tmp_path / "downloads").iterdir()) == []


def test_fetch_imagenet_sample_corrupt_archive_is_fetched_again(serve: Callable[..., Server], tmp_path: Path) -> None:
    whole = sample_zip()
    server = serve({"sample.zip": whole[: len(whole) - 200]})
    url = server.url("sample.zip")

    with pytest.raises(DownloadError, match="sample.zip"):
        fetch.fetch_imagenet_sample(tmp_path, url=url, progress=False, expected_images=3)
    assert list((tmp_path / "datasets").iterdir()) == []

    server.files["sample.zip"] = whole
    images = fetch.fetch_imagenet_sample(tmp_path, url=url, progress=False, expected_images=3)
    assert len(list(images.glob("*.JPEG"))) == 3


def test_fetch_imagenet_sample_redoes_an_unverified_folder(serve: Callable[..., Server], tmp_path: Path) -> None:
    server = serve({"sample.zip": sample_zip()})
    leftover = tmp_path / "datasets" / "imagenet-sample" / "imagenet-sample-images-0123abc"
    leftover.mkdir(parents=True)
    (leftover / SAMPLE_NAMES[0]).write_bytes(b"half a file")

    images = fetch.fetch_imagenet_sample(tmp_path, url=server.url("sample.zip"), progress=False, expected_images=3)

    assert (images / SAMPLE_NAMES[0]).read_bytes() == tiny_jpeg(0)


def tiny_variant(archive: bytes | None, **overrides: object) -> ImageNetV2Variant:
    """A three-class stand-in for an ImageNetV2 variant, verified by size and checksum when ``archive`` is given."""
    options: dict[str, object] = {
        "filename": "imagenetv2-tiny.tar.gz",
        "size": len(archive) if archive else None,
        "sha256": hashlib.sha256(archive).hexdigest() if archive else None,
        "classes": 3,
        "images": 6,
    }
    return ImageNetV2Variant(**{**options, **overrides})  # type: ignore[arg-type]


def test_fetch_imagenetv2_end_to_end(
    serve: Callable[..., Server], tmp_path: Path, closed_port_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = imagenetv2_tar()
    monkeypatch.setitem(fetch.IMAGENETV2_VARIANTS, "tiny", tiny_variant(archive))
    server = serve({"v2.tar.gz": archive})

    root = fetch.fetch_imagenetv2(tmp_path, variant="tiny", url=server.url("v2.tar.gz"), progress=False)

    assert root == tmp_path / "datasets" / "imagenetv2-tiny" / "imagenetv2-tiny-format-val"
    assert sorted(path.name for path in root.iterdir()) == ["0", "1", "2"]
    assert len(list(root.glob("*/*.jpeg"))) == 6
    assert fetch.fetch_imagenetv2(tmp_path, variant="tiny", url=closed_port_url, progress=False) == root
    assert len(server.requests) == 1


def test_fetch_imagenetv2_checksum_mismatch(
    serve: Callable[..., Server], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = imagenetv2_tar()
    monkeypatch.setitem(fetch.IMAGENETV2_VARIANTS, "tiny", tiny_variant(archive, sha256="1" * 64))
    server = serve({"v2.tar.gz": archive})

    with pytest.raises(DownloadError, match="expected SHA-256 1{64}"):
        fetch.fetch_imagenetv2(tmp_path, variant="tiny", url=server.url("v2.tar.gz"), progress=False)

    assert not (tmp_path / "datasets").exists()
    assert list((tmp_path / "downloads").iterdir()) == []


def test_fetch_imagenetv2_truncated_archive_leaves_no_dataset(
    serve: Callable[..., Server], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = imagenetv2_tar()
    monkeypatch.setitem(fetch.IMAGENETV2_VARIANTS, "tiny", tiny_variant(None))
    server = serve({"v2.tar.gz": whole[: len(whole) // 2]})

    with pytest.raises(DownloadError, match="truncated"):
        fetch.fetch_imagenetv2(tmp_path, variant="tiny", url=server.url("v2.tar.gz"), progress=False)

    assert list((tmp_path / "datasets").iterdir()) == []


def test_fetch_imagenetv2_checks_the_layout(
    serve: Callable[..., Server], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = imagenetv2_tar(classes=2, per_class=3)
    monkeypatch.setitem(fetch.IMAGENETV2_VARIANTS, "tiny", tiny_variant(archive))
    server = serve({"v2.tar.gz": archive})

    with pytest.raises(DownloadError, match="class folders 0 to 2 .* 1 missing"):
        fetch.fetch_imagenetv2(tmp_path, variant="tiny", url=server.url("v2.tar.gz"), progress=False)

    assert list((tmp_path / "datasets").iterdir()) == []


def test_fetch_imagenetv2_unknown_variant(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="matched-frequency"):
        fetch.fetch_imagenetv2(tmp_path, variant="matched_frequency")


def test_public_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, Path, dict[str, object]]] = []

    def record(url: str, destination: Path, **options: object) -> Path:
        asked.append((url, destination, options))
        raise OfflineError("recorded")

    monkeypatch.setattr(fetch, "download", record)
    for fetcher in (fetch.fetch_imagenet_sample, fetch.fetch_imagenetv2):
        with pytest.raises(OfflineError):
            fetcher(tmp_path, progress=False)

    (sample_url, sample_archive, sample_options), (v2_url, v2_archive, v2_options) = asked
    commit = "bc69043e2862758a1906c6a24a792bb28c6bb2ff"
    assert sample_url == f"https://github.com/EliSchwartz/imagenet-sample-images/archive/{commit}.zip"
    assert sample_archive == tmp_path / "downloads" / f"imagenet-sample-images-{commit}.zip"
    assert sample_options["sha256"] is None
    assert v2_url == (
        "https://huggingface.co/datasets/vaishaal/ImageNetV2/resolve/main/imagenetv2-matched-frequency.tar.gz"
    )
    assert v2_archive == tmp_path / "downloads" / "imagenetv2-matched-frequency.tar.gz"
    assert v2_options["expected_size"] == 1_264_079_360
    assert v2_options["sha256"] == "f0c37fdf925916b19ea1323cd9a2208cdb6959ba2c32eef2a7fc393835c9ca7c"
