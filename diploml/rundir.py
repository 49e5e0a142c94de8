"""The run-directory format: what a saved model directory holds, how it is written and read.

    runs/x/
      diploml.json      manifest: model type, format version, config fingerprint (written last)
      config.yaml       the resolved run config
      label_maps.json   tasks, kinds and label order
      thresholds.json   multi-label decision thresholds
      versions.json     package versions;  metrics_dev.json  dev metrics;  README.md  model card
      ...               the model type's own files (weights, tokenizer, lexicons, arrays)

Every model type saves through ``save_model_dir`` and is read through ``read_run``, so there is
one writer and one reader of the format. Format 1 (diploml 0.1) directories are read too.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from diploml.config import ConfigError, RunConfig, config_from_dict, migrate_config, save_config
from diploml.tasks import Task

MANIFEST = "diploml.json"
# Bump when a change makes old readers misread new directories; read_run migrates older ones.
FORMAT_VERSION = 2


class RunDirError(ValueError):
    """A missing, incomplete, corrupt or too-new run directory; the message names the path."""


def package_versions(names: Sequence[str]) -> dict[str, str]:
    """Python's and the installed versions of ``names`` (missing packages are left out)."""
    import importlib.metadata as md
    import platform

    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out


def dump_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), "utf-8")


def read_json(path: Path, *, required: bool = False):
    """A JSON file of a run directory ({} when absent and not required); errors name the file."""
    if not path.is_file():
        if required:
            raise RunDirError(f"{path.parent}: incomplete run directory, {path.name} is missing")
        return {}
    try:
        return json.loads(path.read_text("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise RunDirError(f"{path}: corrupt JSON ({getattr(e, 'msg', e)})") from None


def config_fingerprint(cfg: RunConfig | dict) -> str:
    """SHA-256 of a config as written to config.yaml: a saved run whose config.yaml was edited no longer
    matches it. On load it is computed from the file's own mapping, before defaults are filled in, so a key
    that a later diploml adds (with a default) does not make older run directories look edited."""
    data = cfg.to_dict() if isinstance(cfg, RunConfig) else cfg
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def write_manifest(path: Path, model_type: str, **extra) -> None:
    """Write the manifest atomically (temp file + rename); savers call this last, so it marks a complete save."""
    from diploml._version import __version__

    data = {"model_type": model_type, "format_version": FORMAT_VERSION, "diploml_version": __version__, **extra}
    tmp = path / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), "utf-8")
    os.replace(tmp, path / MANIFEST)


def save_model_dir(path: str | Path, model, *, write_files: Callable[[Path], None], card: str, versions: dict,
                   extra_json: dict | None = None) -> Path:
    """Write a run directory: files are built in a temporary folder and moved in, the manifest goes last,
    so an interrupted save never looks loadable.

    ``write_files(tmp)`` writes the model type's own files; the shared ones (config, label maps,
    thresholds, versions, metrics, model card) are written here.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / MANIFEST).unlink(missing_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".saving-", dir=path))
    try:
        write_files(tmp)
        save_config(model.config, tmp / "config.yaml")
        dump_json(tmp / "label_maps.json", {t.name: t.to_dict() for t in model.tasks})
        dump_json(tmp / "thresholds.json", {k: [float(x) for x in v] for k, v in model.thresholds.items()})
        dump_json(tmp / "versions.json", versions)
        dev = model.dev_metrics_.to_dict() if model.dev_metrics_ is not None else None
        for name, data in {"metrics_dev.json": dev, **(extra_json or {})}.items():
            if data is not None:
                dump_json(tmp / name, data)
        (tmp / "README.md").write_text(card, "utf-8")
        for item in tmp.iterdir():
            target = path / item.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(item, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write_manifest(path, model.model_type, tasks=[t.name for t in model.tasks],
                   config_sha256=config_fingerprint(model.config))
    return path


@dataclass
class RunInfo:
    """What every run directory says about itself, read and checked once."""

    path: Path
    model_type: str
    format_version: int
    config: RunConfig
    tasks: list[Task]
    thresholds: dict[str, np.ndarray] = field(default_factory=dict)
    dev_metrics: dict | None = None


def read_manifest(path: str | Path) -> dict:
    """The manifest of a run directory, checked: present, a JSON object, a format this diploml reads."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"model directory not found: {path}")
    manifest = path / MANIFEST
    if not manifest.is_file():
        raise RunDirError(f"{path} is not a diploml model directory: {MANIFEST} is missing "
                          "(was training interrupted before the final save?)")
    try:
        info = json.loads(manifest.read_text("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise RunDirError(f"{manifest}: corrupt manifest ({getattr(e, 'msg', e)})") from None
    if not isinstance(info, dict):
        raise RunDirError(f"{manifest}: corrupt manifest (expected a JSON object)")
    version = info.get("format_version", 1)  # manifests written before versioning are format 1
    if not isinstance(version, int) or isinstance(version, bool):
        raise RunDirError(f"{manifest}: corrupt manifest (format_version {version!r} is not an integer)")
    if version > FORMAT_VERSION:
        raise RunDirError(
            f"{path} was saved in run-directory format {version} by diploml {info.get('diploml_version', '?')}; "
            f"this diploml reads format {FORMAT_VERSION} at most: upgrade diploml")
    info["format_version"] = version
    return info


def _legacy_rules_config(path: Path) -> dict:
    # Format-1 rules directories kept their settings in rules_config.json and had no config.yaml.
    old = read_json(path / "rules_config.json")
    return {"name": path.name, "model": {"type": "rules", "rules_dir": str(path)},
            "preprocess": {k: v for k, v in (old.get("preprocess") or {}).items() if k != "word_segmentation"},
            "tasks": {"schema": None, "definitions": old["tasks"]} if old.get("tasks") else {}}


def read_run(path: str | Path) -> RunInfo:
    """Manifest, config, tasks, thresholds and dev metrics of a run directory, with clear errors."""
    path = Path(path)
    info = read_manifest(path)
    model_type = info.get("model_type")
    version = info["format_version"]
    cfg_file = path / "config.yaml"
    if cfg_file.is_file():
        try:
            raw = yaml.safe_load(cfg_file.read_text("utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as e:
            raise RunDirError(f"{cfg_file}: unreadable ({e})") from None
        if version < 2 and isinstance(raw, dict):
            raw = migrate_config(raw)
    elif version < 2 and model_type == "rules":
        raw = _legacy_rules_config(path)
    else:
        raise RunDirError(f"{path}: incomplete run directory, config.yaml is missing")
    try:
        cfg = config_from_dict(raw, str(cfg_file))
    except ConfigError as e:
        raise RunDirError(str(e)) from None
    if cfg.model.type != model_type:
        raise RunDirError(f"{path}: {MANIFEST} says model_type {model_type!r} but config.yaml says "
                          f"{cfg.model.type!r}")
    expected = info.get("config_sha256")
    if expected and expected != config_fingerprint(raw):
        raise RunDirError(f"{cfg_file} was edited after training (its fingerprint no longer matches {MANIFEST}); "
                          "the weights were trained with the original settings: restore it or retrain")
    maps = read_json(path / "label_maps.json")
    if maps:
        tasks = [Task.from_dict(m) for m in maps.values()]
    elif version < 2 and model_type == "rules":
        tasks = cfg.tasks.resolve()
    else:
        raise RunDirError(f"{path}: incomplete run directory, label_maps.json is missing")
    thresholds = {k: np.asarray(v, dtype=np.float32) for k, v in read_json(path / "thresholds.json").items()}
    return RunInfo(path=path, model_type=model_type, format_version=version, config=cfg, tasks=tasks,
                   thresholds=thresholds, dev_metrics=read_json(path / "metrics_dev.json") or None)


def model_card_tail(tasks: Sequence[Task], dev_metrics, files: str) -> list[str]:
    """The model-card lines every model type shares: task table, dev metrics, how to load."""
    lines = ["", "| task | kind | labels |", "| --- | --- | --- |"]
    lines += [f"| {t.name} | {t.kind} | {len(t.labels)} |" for t in tasks]
    if dev_metrics is not None:
        lines += ["", "## Dev metrics", "", "| task | macro F1 | micro F1 |", "| --- | --- | --- |"]
        for t in tasks:
            m = dev_metrics.tasks.get(t.name)
            if m:
                lines.append(f"| {t.name} | {m['macro_f1']:.3f} | {m['micro_f1']:.3f} |")
    lines += ["", "Load with `diploml.load(path)`; files: config.yaml (resolved config), label_maps.json,",
              "thresholds.json (multi-label decision thresholds tuned on dev), versions.json, metrics_dev.json,",
              files, "Labels are machine predictions: review them before drawing conclusions.", ""]
    return lines
