"""Performance benchmarks: each ``bench_*.py`` module has a ``main()`` printing its figures."""
