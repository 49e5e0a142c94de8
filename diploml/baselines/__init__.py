"""Baseline models: rules (trigger phrases, gazetteer, keyword lexicon)."""
