"""The contract suite every registered method and classifier must pass.

Used by ``tests/bench/test_contracts.py`` over every registered name, and usable by plug-in
authors on their own components::

    from bench.testing import method_checks, run_checks
    run_checks(method_checks(MyMethod))
"""

from bench.testing.contracts import classifier_checks, method_checks, run_checks, toy_data

__all__ = ["classifier_checks", "method_checks", "run_checks", "toy_data"]
