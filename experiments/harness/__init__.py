"""The Volt-C experiment harness: suites, the matrix runner, results, statistics.

Entry point: python3 -m experiments.harness (see __main__.py), from the
repository root. Standard library only.
"""
