"""Metrics are pure functions; values checked against hand computations."""

from __future__ import annotations

import numpy as np
import pytest

from diploml.evaluation.metrics import decide, multi_label_metrics, single_label_metrics, tune_thresholds
from diploml.tasks import Task


def test_single_label_by_hand():
    m = single_label_metrics(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]), ["a", "b", "c"])
    assert m["accuracy"] == 0.75
    # per-label F1: a = 2/3 (p=1, r=.5), b = 2/3 (p=.5, r=1), c = 1
    assert m["per_label"]["a"]["f1"] == pytest.approx(2 / 3)
    assert m["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]


def test_multi_label_by_hand():
    y = np.array([[1, 0, 0], [1, 1, 0]])
    p = np.array([[1, 0, 0], [0, 1, 0]])
    m = multi_label_metrics(y, p, ["a", "b", "c"])
    assert m["subset_accuracy"] == 0.5
    assert m["hamming_loss"] == pytest.approx(1 / 6)
    # label c never occurs and is never predicted: excluded from the macro average
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1) / 2)
    assert m["micro_f1"] == pytest.approx(2 * 2 / (2 * 2 + 1))


def test_decide_uses_thresholds():
    t = Task("s", "multi_label", ("a", "b"))
    assert decide(np.array([[0.3, 0.6]]), t, np.array([0.2, 0.7])).tolist() == [[1, 0]]
    assert decide(np.array([[0.3, 0.6]]), Task("x", "single_label", ("a", "b"))).tolist() == [1]


def test_tune_thresholds_finds_separating_value():
    y = np.array([[1], [1], [0], [0]])
    probs = np.array([[0.35], [0.4], [0.2], [0.1]])
    thr = tune_thresholds(y, probs, grid=[0.1, 0.25, 0.3, 0.5])
    assert 0.2 < thr[0] <= 0.35
    assert tune_thresholds(np.zeros((3, 1)), np.ones((3, 1)), [0.1, 0.9])[0] == 0.5
