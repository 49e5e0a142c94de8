"""The layout shows the architecture: no import cycle, one CLI, the transformer module's own behaviour
(pooling variants, windows, freezing, head learning rates), and every shipped config built."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

from diploml.config import load_config

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "diploml"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Edges module -> diploml module it imports, at any depth (function-level imports included)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + [base]).strip(".")
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for t in targets:
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t and t != name:
                    graph[name].add(t)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state and (c := visit(m)):
                return c
        state[n] = 2
        stack.pop()
        return None

    for n in sorted(graph):
        if n not in state and (c := visit(n)):
            return c
    return None


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    assert "diploml.models.base" in graph["diploml.models.tfidf"]  # the walk sees real edges
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_nothing_outside_a_model_type_asks_for_it():
    # model types are named only by the registry and the config; everyone else uses the Model interface
    allowed = {"registry.py", "config.py", "rundir.py"}
    for path in PACKAGE.rglob("*.py"):
        if path.name in allowed or "models" in path.parts:
            continue
        text = path.read_text("utf-8")
        assert 'model_type == "' not in text and "isinstance(model, DiploClassifier)" not in text, path


def test_one_cli_and_thin_scripts():
    from diploml.cli import COMMANDS, build_parser

    parser = build_parser()
    assert {"train", "evaluate", "predict", "export", "label", "validate", "encoder", "serve"} <= set(COMMANDS)
    assert parser.parse_args(["predict", "--engine", "ray", "--model", "r", "in.jsonl", "-o", "out"]).engine == "ray"
    assert parser.parse_args(["train", "--config", "x.yaml"]).command == "train"
    for script in ("train", "evaluate", "predict"):
        code = (ROOT / "scripts" / f"{script}.py").read_text("utf-8")
        assert f'script_main("{script}", argv)' in code and len(code.splitlines()) < 15


# ---- the transformer module ------------------------------------------------------------------


def tiny_encoder():
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    return BertModel(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=3, num_attention_heads=2,
                                intermediate_size=32, max_position_embeddings=64), add_pooling_layer=False)


@pytest.mark.parametrize("pooling", ["mean", "cls"])
@pytest.mark.parametrize("window_pooling", ["mean", "max"])
def test_pooling_variants(pooling, window_pooling):
    from diploml.models.transformer.module import MultiTaskClassifier

    model = MultiTaskClassifier(tiny_encoder(), [("topic", "single_label", 3), ("sectors", "multi_label", 4)],
                                pooling=pooling, window_pooling=window_pooling, dropout=0.0).eval()
    ids = torch.randint(5, 50, (3, 8))
    att = torch.ones_like(ids)
    att[2, 5:] = 0  # a shorter last window
    wm = torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # article 0: windows 0-1, article 1: window 2
    with torch.no_grad():
        z = model.embed(ids, att, wm)
        one = model.embed(ids[2:], att[2:], torch.ones(1, 1))
        windows = model.embed(ids[:2], att[:2], torch.eye(2))
    assert z.shape == (2, 16)
    torch.testing.assert_close(z[1], one[0])  # a one-window article is its window's vector
    expected = windows.max(0).values if window_pooling == "max" else windows.mean(0)
    torch.testing.assert_close(z[0], expected)
    out = model(ids, att, wm, labels_topic=torch.tensor([0, 2]), labels_sectors=torch.zeros(2, 4))
    assert out["topic"].shape == (2, 3) and out["sectors"].shape == (2, 4) and out["loss"].ndim == 0


def test_windows_cover_the_whole_text_with_the_stride():
    from transformers import AutoTokenizer

    from diploml.encoders import bundled_encoder
    from diploml.models.transformer.inputs import window_ids

    tok = AutoTokenizer.from_pretrained(bundled_encoder("bundled:tiny-bert"))
    text = " ".join(f"từ{i}" for i in range(120))
    ids = tok(text, add_special_tokens=False)["input_ids"]
    windows = window_ids(tok, text, max_length=32, stride=8)
    assert len(windows) > 2 and all(len(w) <= 32 for w in windows)
    bodies = [w[1:-1] for w in windows]
    assert bodies[0] == ids[:30]
    for a, b in zip(bodies, bodies[1:], strict=False):
        assert a[-8:] == b[:8]  # consecutive windows share `stride` tokens
    covered = bodies[0] + [t for b in bodies[1:] for t in b[8:]]
    assert covered == ids  # nothing lost, nothing repeated beyond the overlap


def test_freezing_and_head_learning_rate_groups(tmp_path):
    from diploml.models.transformer.encoder import freeze
    from diploml.models.transformer.module import MultiTaskClassifier
    from diploml.models.transformer.trainer import _Trainer

    enc = tiny_encoder()
    freeze(enc, embeddings=True, layers=2)
    assert not enc.embeddings.word_embeddings.weight.requires_grad
    assert not any(p.requires_grad for p in enc.encoder.layer[1].parameters())
    assert all(p.requires_grad for p in enc.encoder.layer[2].parameters())
    with pytest.raises(ValueError, match="has 3 layers"):
        freeze(tiny_encoder(), embeddings=False, layers=4)
    model = MultiTaskClassifier(enc, [("topic", "single_label", 3)])
    from transformers import TrainingArguments

    args = TrainingArguments(output_dir=str(tmp_path), learning_rate=1e-4, weight_decay=0.01, report_to="none",
                             use_cpu=True)
    opt = _Trainer(model=model, args=args, head_learning_rate=1e-2).create_optimizer()
    lrs = {g["lr"] for g in opt.param_groups if g["params"]}
    assert lrs == {1e-4, 1e-2}
    head = {id(p) for p in model.heads.parameters()}
    for g in opt.param_groups:
        ids = {id(p) for p in g["params"]}
        assert (g["lr"] == 1e-2) == bool(ids & head)
        assert all(p.requires_grad for p in g["params"])  # frozen parameters are not optimised


@pytest.mark.parametrize("name", ["gpu", "phobert", "xlmr", "default"])
def test_hub_and_gpu_configs_build_with_a_tiny_stand_in(name):
    """The config's model section builds a working model when its encoder is swapped for the tiny one."""
    from diploml.models.transformer.encoder import build_encoder, build_model

    cfg = load_config(ROOT / "configs" / f"{name}.yaml", ["model.name_or_path=bundled:tiny-bert",
                                                           "model.random_init=true", "model.text_prefix="])
    m = cfg.model.model_copy(update={"max_length": min(cfg.model.max_length, 64),
                                     "stride": min(cfg.model.stride, 16),
                                     "freeze_layers": min(cfg.model.freeze_layers, 2)})
    encoder, tok = build_encoder(m)
    model = build_model(encoder, cfg.tasks.resolve(), m, cfg.tasks)
    ids = torch.tensor([tok("Hà Nội hợp tác")["input_ids"]])
    out = model(ids, torch.ones_like(ids), torch.ones(1, 1))
    assert out["topic"].shape == (1, 8) and out["sectors"].shape == (1, 16)
    assert cfg.training.precision in ("auto", "fp32", "bf16", "fp16")


def test_a_format_1_run_directory_still_loads(tmp_path):
    """diploml 0.1 wrote a tfidf section and training.max_windows into every config.yaml and no fingerprint."""
    import json

    import yaml

    import diploml
    from diploml.data import Article

    from .conftest import tiny_config

    arts = [Article(id=str(i), text=f"Hà Nội hợp tác {i}", labels={"topic": t})
            for i, t in enumerate(["visit", "meeting"] * 4)]
    cfg = tiny_config(tmp_path, tasks={"include": "[topic]"}, training={"epochs": 1, "eval_strategy": "no"})
    run = diploml.DiploClassifier(cfg).fit(arts).save(tmp_path / "run")
    probas = diploml.load(run).predict_proba(["Hà Nội hợp tác"])["topic"]
    raw = yaml.safe_load((run / "config.yaml").read_text())
    raw["tfidf"] = {"C": 4.0, "word_ngrams": [1, 2]}
    raw["training"]["max_windows"] = raw["training"].pop("train_windows")
    (run / "config.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    manifest = json.loads((run / "diploml.json").read_text())
    manifest.pop("config_sha256")
    manifest["format_version"] = 1
    (run / "diploml.json").write_text(json.dumps(manifest))
    old = diploml.load(run)
    assert old.config.training.train_windows == raw["training"]["max_windows"]
    np.testing.assert_array_equal(old.predict_proba(["Hà Nội hợp tác"])["topic"], probas)
    # the same keys in a config file are an error that says where they went
    (tmp_path / "old.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(diploml.ConfigError, match="tfidf: the TF-IDF settings now live in the model section"):
        diploml.load_config(tmp_path / "old.yaml")
