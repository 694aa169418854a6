"""Reproducible performance runs; each ``bench_*.py`` module has a ``main()`` printing figures.

Run them all with ``python -m benchmarks`` (or ``make bench``), or some by name:
``python -m benchmarks import`` runs ``bench_import``.
"""
