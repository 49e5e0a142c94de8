"""Evaluation: metrics (pure functions over arrays), evaluating models, reports."""
