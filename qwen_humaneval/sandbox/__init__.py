"""The sandbox: candidates run jailed in processes of their own and are judged from outside.

pool.py is the evaluator's side (start workers, send jobs); worker.py, jail.py, judge.py,
candidate.py and wire.py run inside each worker under `python -I` and use the stdlib only.
docs/sandbox.md describes what is and is not contained.
"""
