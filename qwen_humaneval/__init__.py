"""Reproducible HumanEval pipeline for small Qwen coder models: serve -> generate -> evaluate ->
report."""
