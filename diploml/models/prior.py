"""A learnt combination of a model's probabilities with the rule baseline's (``evaluation.rule_prior``).

The untrained gazetteer and lexicons generalise to real text better than models fitted on the corpus,
so a model can take the rules' scores as a prior: per task, a small logistic regression fitted on dev
reads the model's score (as a logit) and the rules' score, and gives the combined probability.

- single-label task: multinomial, inputs [log p_model (k), p_rules (k)] -> k classes;
- multi-label task: per label, inputs [logit p_model, p_rules] -> that label;
- mentions task: per candidate, inputs [logit p_model, p_rules (0 when the rules skip the code)].

Weights are plain arrays (saved as safetensors); derived regions are recomputed from the combined partners.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-6


def _logit(p):
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    return np.log(p / (1 - p))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class RulePrior:
    """Per-task weights of the combination; ``arrays`` maps ``<task>.w``/``<task>.b`` to numpy arrays."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.arrays = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}

    # ---- fitting ----------------------------------------------------------------------------
    @classmethod
    def fit(cls, tasks, gold: list[dict], model_probas: dict, rule_probas: dict, *, C: float = 1.0) -> RulePrior:
        from sklearn.linear_model import LogisticRegression

        arrays = {}
        for t in tasks:
            if t.name not in model_probas or t.name not in rule_probas or any(t.name not in g for g in gold):
                continue
            if t.mentions:
                X, y = cls._mention_rows(model_probas[t.name], rule_probas[t.name], [set(g[t.name]) for g in gold])
                w, b = np.array([[1.0, 0.0]]), np.zeros(1)
                if len(set(y)) == 2:
                    lr = LogisticRegression(C=C).fit(X, y)
                    w, b = lr.coef_, lr.intercept_
            elif t.multi_label:
                y = t.gold_array(gold)
                w, b = np.tile([1.0, 0.0], (len(t.labels), 1)), np.zeros(len(t.labels))
                for j in range(len(t.labels)):
                    if 0 < y[:, j].sum() < len(y):
                        X = np.column_stack([_logit(model_probas[t.name][:, j]), rule_probas[t.name][:, j]])
                        lr = LogisticRegression(C=C).fit(X, y[:, j])
                        w[j], b[j] = lr.coef_[0], lr.intercept_[0]
            else:
                k = len(t.labels)
                y = t.gold_array(gold)
                X = np.column_stack([np.log(np.clip(model_probas[t.name], EPS, 1)), rule_probas[t.name]])
                w = np.hstack([np.eye(k), np.zeros((k, k))])  # identity: the model's own probabilities
                b = np.zeros(k)
                if len(set(y.tolist())) > 1:
                    lr = LogisticRegression(C=C, max_iter=1000).fit(X, y)
                    w, b = np.zeros((k, 2 * k)), np.full(k, -30.0)  # a class never seen on dev stays improbable
                    w[lr.classes_], b[lr.classes_] = lr.coef_, lr.intercept_
                    if len(lr.classes_) == 2:  # sklearn gives one row for two classes
                        w[lr.classes_[0]], b[lr.classes_[0]] = -lr.coef_[0] / 2, -lr.intercept_[0] / 2
                        w[lr.classes_[1]], b[lr.classes_[1]] = lr.coef_[0] / 2, lr.intercept_[0] / 2
            arrays[f"{t.name}.w"], arrays[f"{t.name}.b"] = w, b
        return cls(arrays)

    @staticmethod
    def _mention_rows(model_rows, rule_rows, gold=None):
        X, y = [], []
        for i, row in enumerate(model_rows):
            for code, p in row.items():
                X.append([_logit(p), rule_rows[i].get(code, 0.0)])
                if gold is not None:
                    y.append(int(code in gold[i]))
        return np.asarray(X, dtype=np.float64).reshape(len(X), 2), np.asarray(y, dtype=int)

    # ---- applying ---------------------------------------------------------------------------
    def apply(self, tasks, model_probas: dict, rule_probas: dict) -> dict:
        out = dict(model_probas)
        for t in tasks:
            if f"{t.name}.w" not in self.arrays or t.name not in model_probas:
                continue
            w, b = self.arrays[f"{t.name}.w"], self.arrays[f"{t.name}.b"]
            if t.mentions:
                X, _ = self._mention_rows(model_probas[t.name], rule_probas[t.name])
                p = iter(_sigmoid(X @ w[0] + b[0]).tolist()) if len(X) else iter(())
                out[t.name] = [{c: next(p) for c in row} for row in model_probas[t.name]]
            elif t.multi_label:
                m = _logit(model_probas[t.name])
                out[t.name] = _sigmoid(m * w[:, 0] + rule_probas[t.name] * w[:, 1] + b)
            else:
                X = np.column_stack([np.log(np.clip(model_probas[t.name], EPS, 1)), rule_probas[t.name]])
                z = X @ w.T + b
                z -= z.max(1, keepdims=True)
                e = np.exp(z)
                out[t.name] = e / e.sum(1, keepdims=True)
        return out
