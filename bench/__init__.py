"""Benchmarks, each measured against a baseline in the same run (make bench, bench-eval, bench-plus,
...).

Kept out of the package: nothing in qwen_humaneval imports them. Run from the checkout as `python -m
bench.<module>`; keep the machine otherwise idle: each prints the load average beside its numbers.
"""
