"""`python -m bench`: the invoke benchmarks (see bench/invoke.py)."""

from bench.invoke import main

main()
