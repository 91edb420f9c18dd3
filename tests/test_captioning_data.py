"""The captioning data layer: the COCO folder format and its loader, the synthetic captioning dataset
(format, grammar, determinism, features), the auto / forced / missing policy, and the downloader
against a local HTTP server on 127.0.0.1 (never the network). Sizes are tiny to keep this fast."""

import hashlib
import io
import json
import re
import socket
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import h5py
import numpy as np
import pytest

import cs231n.captioning.dataset as ds
from cs231n.captioning import (
    DOWNLOAD_COMMAND,
    IDX_TO_WORD,
    WORD_TO_IDX,
    decode_captions,
    download_coco_captioning,
    ensure_synthetic_captions,
    image_features,
    image_from_url,
    load_coco_data,
    load_synthetic_caption_images,
    make_synthetic_captions,
    resolve_captions_dataset,
    sample_coco_minibatch,
    synthetic_captions_dir,
)
from cs231n.captioning import synthetic as syn
from cs231n.captioning.__main__ import main
from cs231n.data import ChecksumError, DatasetFormatError, DatasetNotFoundError, DownloadError

SMALL = (40, 12)  # images (train, val) of the synthetic sets made here
OBJECT = r"a (small|large) (red|green|blue|yellow|purple|cyan) (circle|square|triangle|diamond|cross)"
RELATION = r"(above|below|to the left of|to the right of)"
GRAMMAR = re.compile(rf"^<START> (?:{OBJECT}|{OBJECT} {RELATION} {OBJECT}|{OBJECT} and {OBJECT} and {OBJECT}) <END>$")


# ----------------------------------------------------------------------------------------------
# Fixtures: a tiny hand-built COCO folder, a small synthetic set, an isolated data dir
# ----------------------------------------------------------------------------------------------

TINY_VOCAB = ["<NULL>", "<START>", "<END>", "<UNK>", "a", "dog", "cat", "runs"]


def build_coco_folder(base: Path) -> dict:
    """Write a tiny folder in the original COCO layout with h5py directly; return what it holds."""
    base.mkdir(parents=True, exist_ok=True)
    S, E, N = 1, 2, 0
    arrays = {
        "train_captions": np.array([[S, 4, 5, 7, E, N], [S, 4, 6, E, N, N], [S, 3, 7, E, N, N]], dtype=np.int32),
        "train_image_idxs": np.array([0, 1, 1], dtype=np.int32),
        "val_captions": np.array([[S, 4, 6, 7, E, N]], dtype=np.int32),
        "val_image_idxs": np.array([0], dtype=np.int32),
    }
    with h5py.File(base / "coco2014_captions.h5", "w") as f:
        for key, value in arrays.items():
            f.create_dataset(key, data=value)
    rng = np.random.default_rng(0)
    features = {}
    for split, m in (("train", 2), ("val", 1)):
        for suffix, dim in (("_pca", 512), ("", 4096)):
            features[split + suffix] = rng.standard_normal((m, dim)).astype(np.float32)
            with h5py.File(base / f"{split}2014_vgg16_fc7{suffix}.h5", "w") as f:
                f.create_dataset("features", data=features[split + suffix])
        urls = [f"http://images.example/{split}/{i}.jpg" for i in range(m)]
        (base / f"{split}2014_urls.txt").write_text("\n".join(urls) + "\n")
    vocab = {"idx_to_word": TINY_VOCAB, "word_to_idx": {w: i for i, w in enumerate(TINY_VOCAB)}}
    (base / "coco2014_vocab.json").write_text(json.dumps(vocab))
    return {**arrays, "features": features}


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    """An empty data dir, no COCO override, no forced dataset, and small default synthetic sizes."""
    for var in ("CS231N_COCO_DIR", "CS231N_CAPTIONS_DATASET", "CS231N_COCO_URL", "CS231N_COCO_SHA256"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("CS231N_COCO_SIZE", raising=False)
    monkeypatch.setenv("CS231N_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(ds, "SYNTHETIC_SIZES", SMALL)
    return tmp_path


@pytest.fixture(scope="module")
def synthetic_folder(tmp_path_factory):
    """A small synthetic set, written once for the module through the cache machinery."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CS231N_DATA_DIR", str(tmp_path_factory.mktemp("synthetic")))
        return ensure_synthetic_captions(seed=0, num_train=SMALL[0], num_val=SMALL[1])


@pytest.fixture(scope="module")
def synthetic_data():
    return make_synthetic_captions(*SMALL, seed=0)


# ----------------------------------------------------------------------------------------------
# Vocabulary, grammar, format
# ----------------------------------------------------------------------------------------------


def test_special_tokens_and_vocabulary():
    assert IDX_TO_WORD[:4] == ("<NULL>", "<START>", "<END>", "<UNK>")
    assert all(WORD_TO_IDX[w] == i for i, w in enumerate(IDX_TO_WORD))
    assert 20 <= len(IDX_TO_WORD) <= 60 and len(set(IDX_TO_WORD)) == len(IDX_TO_WORD)


def test_synthetic_format_and_dtypes(synthetic_data):
    d = synthetic_data
    assert d["idx_to_word"] == list(IDX_TO_WORD) and d["word_to_idx"] == WORD_TO_IDX
    for split, m in zip(("train", "val"), SMALL, strict=True):
        caps, idxs = d[f"{split}_captions"], d[f"{split}_image_idxs"]
        assert caps.dtype == np.int32 and caps.ndim == 2 and caps.shape[1] == 17
        assert idxs.dtype == np.int32 and idxs.shape == (len(caps),)
        assert d[f"{split}_features"].shape == (m, 512) and d[f"{split}_features"].dtype == np.float32
        assert np.isfinite(d[f"{split}_features"]).all()
        assert d[f"{split}_images"].shape == (m, 64, 64, 3) and d[f"{split}_images"].dtype == np.uint8
        assert list(d[f"{split}_urls"]) == [f"synthetic://{split}/{i:06d}" for i in range(m)]
        assert set(idxs.tolist()) == set(range(m))  # every image has a caption
        assert m <= len(caps) <= 2 * m
        for row in caps:  # <START> words <END> <NULL>...
            end = int(np.flatnonzero(row == 2)[0])
            assert row[0] == 1 and np.count_nonzero(row == 2) == 1 and np.count_nonzero(row == 1) == 1
            assert (row[end + 1 :] == 0).all() and (row[:end] != 0).all() and (row != 3).all()


def test_captions_follow_the_grammar_and_match_the_scene(synthetic_data):
    d = synthetic_data
    texts = decode_captions(d["train_captions"], d["idx_to_word"])
    assert all(GRAMMAR.match(t) for t in texts), [t for t in texts if not GRAMMAR.match(t)]
    by_image = {}
    for text, i in zip(texts, d["train_image_idxs"], strict=True):
        by_image.setdefault(int(i), []).append(text)
    left, right = "to the left of", "to the right of"
    inverse = {"above": "below", "below": "above", left: right, right: left}
    for captions in by_image.values():
        objects = [re.findall(OBJECT, t) for t in captions]
        if len(captions) == 2:  # two objects: the same relation from either side
            a, rel, b = re.match(rf"<START> ({OBJECT}) {RELATION} ({OBJECT}) <END>", captions[0]).group(1, 5, 6)
            assert captions[1] == f"<START> {b} {inverse[rel]} {a} <END>"
        else:
            assert len(captions) == 1 and len(objects[0]) in (1, 3)
        colours = [o[1] for o in objects[0]]
        assert len(set(colours)) == len(colours)  # the objects of an image have different colours


def test_single_object_pixels_match_the_caption():
    """The colour and size named by a one-object caption are what the pixels show."""
    rng = np.random.default_rng(3)
    scenes = syn.sample_scenes(60, rng)
    images = syn.render_scenes(scenes).astype(int)
    palette = {
        "red": (215, 40, 40),
        "green": (40, 185, 60),
        "blue": (45, 85, 235),
        "yellow": (235, 210, 40),
        "purple": (150, 60, 205),
        "cyan": (40, 200, 215),
    }
    for i in np.flatnonzero(scenes["count"] == 1):
        _, size, colour, _ = syn.scene_captions(scenes, i)[0]
        vivid = images[i][np.ptp(images[i], axis=-1) > 100]  # the object's pixels
        nearest = min(palette, key=lambda c: np.abs(vivid.mean(axis=0) - palette[c]).sum())
        assert nearest == colour
        assert (len(vivid) > 88) == (size == "large"), (len(vivid), size)  # small: <= 72 px, large: >= 100


def test_determinism_per_seed(synthetic_data):
    again = make_synthetic_captions(*SMALL, seed=0)
    other = make_synthetic_captions(*SMALL, seed=1)
    for key, value in synthetic_data.items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(value, again[key]), key
    assert not np.array_equal(synthetic_data["train_images"], other["train_images"])


def test_features_are_a_fixed_function_of_each_image(synthetic_data):
    images = synthetic_data["val_images"]
    full = image_features(images)
    assert np.array_equal(full, synthetic_data["val_features"])
    assert np.allclose(image_features(images[3:4])[0], full[3], atol=1e-5)  # depends on that image only
    assert np.allclose(image_features(images[::-1])[::-1], full, atol=1e-5)
    fc7 = image_features(images[:4], pca=False)
    assert fc7.shape == (4, 4096) and fc7.dtype == np.float32 and (fc7 >= 0).all()


def test_features_tell_colour_shape_and_size_apart():
    """A ridge regression on the 512-d features recovers a lone object's attributes on held-out images."""
    one = syn.sample_scenes(400, np.random.default_rng(11))
    one["count"][:] = 1  # keep only the first object of each scene
    X = image_features(syn.render_scenes(one)).astype(np.float64)
    n = len(X)
    train, test = slice(0, 3 * n // 4), slice(3 * n // 4, n)
    for attribute, classes in (("colour", 6), ("shape", 5), ("size", 2)):
        y = one[attribute][:, 0]
        W = np.linalg.solve(X[train].T @ X[train] + np.eye(512), X[train].T @ np.eye(classes)[y[train]])
        accuracy = (np.argmax(X[test] @ W, axis=1) == y[test]).mean()
        assert accuracy > 0.9, (attribute, accuracy)


# ----------------------------------------------------------------------------------------------
# decode_captions and sample_coco_minibatch
# ----------------------------------------------------------------------------------------------


def test_decode_captions():
    rows = np.array([[1, 4, 5, 0, 7, 2, 6, 0], [1, 4, 6, 2, 0, 0, 0, 0]])
    assert decode_captions(rows, TINY_VOCAB) == ["<START> a dog runs <END>", "<START> a cat <END>"]
    assert decode_captions(rows[1], TINY_VOCAB) == "<START> a cat <END>"
    assert decode_captions(np.array([1, 3, 7]), TINY_VOCAB) == "<START> <UNK> runs"  # no <END>: all of it


def test_sample_coco_minibatch(synthetic_data):
    np.random.seed(231)  # noqa: NPY002 - the global state, as notebooks seed it
    captions, features, urls = sample_coco_minibatch(synthetic_data, batch_size=7, split="val")
    assert captions.shape == (7, 17) and captions.dtype == np.int32
    assert features.shape == (7, 512) and urls.shape == (7,)
    for row, feat, url in zip(captions, features, urls, strict=True):
        i = int(url.rsplit("/", 1)[1])
        assert np.array_equal(feat, synthetic_data["val_features"][i])
        owners = synthetic_data["val_image_idxs"][(synthetic_data["val_captions"] == row).all(axis=1)]
        assert i in owners
    np.random.seed(231)  # noqa: NPY002 - the global state, as notebooks seed it
    again = sample_coco_minibatch(synthetic_data, batch_size=7, split="val")
    assert all(np.array_equal(a, b) for a, b in zip((captions, features, urls), again, strict=True))


# ----------------------------------------------------------------------------------------------
# The loader: hand-built COCO folder, synthetic cache, errors
# ----------------------------------------------------------------------------------------------


def test_loader_reads_a_hand_built_coco_folder(tmp_path):
    expected = build_coco_folder(tmp_path / "coco")
    data = load_coco_data(tmp_path / "coco")
    assert data["dataset"] == "coco"
    for key in ("train_captions", "train_image_idxs", "val_captions", "val_image_idxs"):
        assert data[key].dtype == np.int32 and np.array_equal(data[key], expected[key])
    assert np.array_equal(data["train_features"], expected["features"]["train_pca"])
    assert data["val_features"].dtype == np.float32 and data["val_features"].shape == (1, 512)
    assert list(data["train_urls"]) == ["http://images.example/train/0.jpg", "http://images.example/train/1.jpg"]
    assert data["idx_to_word"] == TINY_VOCAB and data["word_to_idx"]["runs"] == 7
    assert decode_captions(data["train_captions"][0], data["idx_to_word"]) == "<START> a dog runs <END>"
    full = load_coco_data(tmp_path / "coco", pca_features=False)
    assert np.array_equal(full["val_features"], expected["features"]["val"]) and full["val_features"].shape[1] == 4096
    np.random.seed(0)  # noqa: NPY002 - the global state, as notebooks seed it
    small = load_coco_data(tmp_path / "coco", max_train=5)
    np.random.seed(0)  # noqa: NPY002 - the global state, as notebooks seed it
    again = load_coco_data(tmp_path / "coco", max_train=5)
    assert small["train_captions"].shape == (5, 6) and np.array_equal(small["train_captions"], again["train_captions"])
    rows = {tuple(r) for r in expected["train_captions"]}
    assert all(tuple(r) in rows for r in small["train_captions"])


def test_loader_errors_name_the_problem(tmp_path):
    build_coco_folder(tmp_path / "coco")
    (tmp_path / "coco" / "val2014_urls.txt").unlink()
    with pytest.raises(DatasetNotFoundError, match="val2014_urls.txt"):
        load_coco_data(tmp_path / "coco")
    build_coco_folder(tmp_path / "bad")
    (tmp_path / "bad" / "coco2014_captions.h5").write_bytes(b"not hdf5")
    with pytest.raises(DatasetFormatError, match="unreadable"):
        load_coco_data(tmp_path / "bad")
    build_coco_folder(tmp_path / "idx")
    with h5py.File(tmp_path / "idx" / "coco2014_captions.h5", "r+") as f:
        f["train_image_idxs"][0] = 9
    with pytest.raises(DatasetFormatError, match="train_image_idxs point outside"):
        load_coco_data(tmp_path / "idx")


def test_synthetic_cache_is_read_by_the_same_loader(synthetic_folder, synthetic_data):
    data = load_coco_data(synthetic_folder)
    assert data["dataset"] == "synthetic"
    for key, value in data.items():
        if isinstance(value, np.ndarray):
            assert value.dtype == synthetic_data[key].dtype and np.array_equal(value, synthetic_data[key]), key
    assert data["idx_to_word"] == synthetic_data["idx_to_word"]
    assert np.array_equal(load_synthetic_caption_images("val", synthetic_folder), synthetic_data["val_images"])
    picked = load_synthetic_caption_images("train", synthetic_folder, np.array([5, 2, 5]))
    assert np.array_equal(picked, synthetic_data["train_images"][[5, 2, 5]])
    image = image_from_url("synthetic://train/000007", synthetic_folder)
    assert np.array_equal(image, synthetic_data["train_images"][7])


def test_fc7_features_of_the_synthetic_set_are_made_on_demand(tmp_path, synthetic_folder, synthetic_data):
    import shutil

    folder = shutil.copytree(synthetic_folder, tmp_path / "copy")
    assert not (folder / "train2014_vgg16_fc7.h5").exists()
    data = load_coco_data(folder, pca_features=False)
    assert data["train_features"].shape == (SMALL[0], 4096)
    assert np.allclose(data["train_features"], image_features(synthetic_data["train_images"], pca=False), atol=1e-5)


def test_cache_is_keyed_on_the_generator_source(data_home, monkeypatch, capsys):
    path = synthetic_captions_dir()
    assert ds.synthetic_version() in path.name and path.name.endswith(f"-seed0-{SMALL[0]}-{SMALL[1]}")
    ensure_synthetic_captions()
    assert "Generating" in capsys.readouterr().out
    ensure_synthetic_captions()
    assert "Generating" not in capsys.readouterr().out  # cached
    monkeypatch.setattr(ds, "synthetic_version", lambda: "1-00000000")
    assert synthetic_captions_dir() != path  # another revision of the generator: another folder


# ----------------------------------------------------------------------------------------------
# Policy: auto / forced / missing
# ----------------------------------------------------------------------------------------------


def test_auto_falls_back_to_synthetic_with_a_one_line_notice(data_home, capsys):
    data = load_coco_data()
    out, err = capsys.readouterr()
    assert data["dataset"] == "synthetic" and data["train_features"].shape == (SMALL[0], 512)
    notice = [line for line in out.splitlines() if line.startswith("Note:")]
    assert len(notice) == 1 and DOWNLOAD_COMMAND in notice[0] and str(data_home / "coco_captioning") in notice[0]
    assert err == ""
    assert resolve_captions_dataset("auto", quiet=True) == "synthetic" and capsys.readouterr().out == ""


def test_auto_uses_coco_when_present(data_home, capsys):
    build_coco_folder(data_home / "coco_captioning")
    data = load_coco_data()
    assert data["dataset"] == "coco" and data["idx_to_word"] == TINY_VOCAB
    assert capsys.readouterr().out == ""


def test_forced_choices_and_environment(data_home, monkeypatch, capsys):
    with pytest.raises(DatasetNotFoundError, match=re.escape(DOWNLOAD_COMMAND)):
        load_coco_data(dataset="coco")
    monkeypatch.setenv("CS231N_CAPTIONS_DATASET", "coco")
    with pytest.raises(DatasetNotFoundError, match="CS231N_CAPTIONS_DATASET=coco"):
        load_coco_data(dataset="synthetic")  # the environment wins over the argument
    build_coco_folder(data_home / "elsewhere")
    monkeypatch.setenv("CS231N_COCO_DIR", str(data_home / "elsewhere"))
    assert load_coco_data()["dataset"] == "coco"
    monkeypatch.setenv("CS231N_CAPTIONS_DATASET", "synthetic")
    assert load_coco_data(dataset="coco")["dataset"] == "synthetic"
    assert "Note:" not in capsys.readouterr().out  # forced, so no notice
    monkeypatch.setenv("CS231N_CAPTIONS_DATASET", "imagenet")
    with pytest.raises(ValueError, match="CS231N_CAPTIONS_DATASET='imagenet'"):
        load_coco_data()


# ----------------------------------------------------------------------------------------------
# The downloader, against a local server
# ----------------------------------------------------------------------------------------------


def build_zip(tmp_path: Path, members: list[tuple[str, bytes]] | None = None) -> bytes:
    """A zip in the course archive's layout (coco_captioning/...), or with the given members."""
    if members is None:
        src = tmp_path / "src" / "coco_captioning"
        build_coco_folder(src)
        members = [(f"coco_captioning/{p.name}", p.read_bytes()) for p in sorted(src.iterdir())]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in members:
            zf.writestr(name, payload)
    return buf.getvalue()


class Server:
    """Serves one blob at /coco_captioning.zip on 127.0.0.1 (404 elsewhere)."""

    def __init__(self, blob: bytes):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path != "/coco_captioning.zip":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(blob)))
                self.end_headers()
                self.wfile.write(blob)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/coco_captioning.zip"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers = []

    def start(blob):
        servers.append(Server(blob))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_download_verified(tmp_path, data_home, serve, capsys):
    blob = build_zip(tmp_path)
    server = serve(blob)
    dest = tmp_path / "data"
    folder = download_coco_captioning(dest, url=server.url, size=len(blob), sha256=hashlib.sha256(blob).hexdigest())
    assert folder == dest / "coco_captioning" and not (dest / "coco_captioning.zip").exists()
    record = json.loads((folder / "download.json").read_text())
    digest = hashlib.sha256(blob).hexdigest()
    assert record == {"url": server.url, "size": len(blob), "sha256": digest, "verified": True}
    assert "could not verify" not in capsys.readouterr().out
    assert load_coco_data(folder)["idx_to_word"] == TINY_VOCAB
    download_coco_captioning(dest, url=server.url)  # already there: no second download
    assert "already at" in capsys.readouterr().out


def test_download_without_checksum_says_so(tmp_path, data_home, serve, monkeypatch, capsys):
    blob = build_zip(tmp_path)
    monkeypatch.setenv("CS231N_COCO_URL", serve(blob).url)  # the URL from the environment
    folder = download_coco_captioning(progress=False)
    assert folder == data_home / "coco_captioning"
    out = capsys.readouterr().out
    assert "could not verify" in out and hashlib.sha256(blob).hexdigest() in out
    assert json.loads((folder / "download.json").read_text())["verified"] is False
    assert resolve_captions_dataset() == "coco"


def test_download_checksum_mismatch(tmp_path, data_home, serve, monkeypatch):
    blob = build_zip(tmp_path)
    server = serve(blob)
    dest = tmp_path / "data"
    with pytest.raises(ChecksumError, match="SHA-256"):
        download_coco_captioning(dest, url=server.url, sha256="0" * 64, progress=False)
    monkeypatch.setenv("CS231N_COCO_SIZE", str(len(blob) + 1))
    with pytest.raises(ChecksumError):
        download_coco_captioning(dest, url=server.url, progress=False)
    assert not (dest / "coco_captioning").exists() and not any(dest.glob("coco_captioning.zip*"))


def test_download_offline_and_by_hand(tmp_path, data_home):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/coco_captioning.zip"  # nothing listens there
    dest = tmp_path / "data"
    with pytest.raises(DownloadError) as info:
        download_coco_captioning(dest, url=url, progress=False, attempts=1)
    message = str(info.value)
    assert "Could not download" in message and DOWNLOAD_COMMAND in message
    assert str(dest / "coco_captioning.zip") in message and not (dest / "coco_captioning").exists()
    dest.mkdir(exist_ok=True)
    blob = build_zip(tmp_path)
    (dest / "coco_captioning.zip").write_bytes(blob)  # placed by hand: no network needed
    folder = download_coco_captioning(dest, url=url, sha256=hashlib.sha256(blob).hexdigest(), progress=False)
    assert load_coco_data(folder)["train_captions"].shape == (3, 6)


def test_download_refuses_bad_archives(tmp_path, data_home, serve):
    dest = tmp_path / "data"
    unsafe = build_zip(tmp_path, [("coco_captioning/../../evil.txt", b"x")])
    with pytest.raises(DownloadError, match="unsafe"):
        download_coco_captioning(dest, url=serve(unsafe).url, progress=False)
    incomplete = build_zip(tmp_path, [("coco_captioning/coco2014_vocab.json", b"{}")])
    with pytest.raises(DownloadError, match="does not hold"):
        download_coco_captioning(dest, url=serve(incomplete).url, progress=False)
    assert not (dest / "coco_captioning").exists() and not (tmp_path / "evil.txt").exists()
    assert not (dest / "coco_captioning.zip").exists()  # a bad archive is deleted, not reused


def test_cli(tmp_path, data_home, serve, capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "not present" in out and "synthetic (auto)" in out
    blob = build_zip(tmp_path)
    assert main(["download", "--url", serve(blob).url, "--sha256", hashlib.sha256(blob).hexdigest(), "--quiet"]) == 0
    assert main(["info"]) == 0 and "COCO captioning: present" in capsys.readouterr().out
    assert main(["download", "--url", "http://127.0.0.1:9/x.zip", "--force", "--quiet"]) == 1
    assert "error: Could not download" in capsys.readouterr().err
