"""`python -m bench`: the invoke benchmarks (bench/invoke.py); `python -m bench cluster`:
the same through the cluster preset, beside standalone (bench/cluster.py)."""

import sys

if sys.argv[1:2] == ["cluster"]:
    from bench import cluster

    cluster.main(sys.argv[2:])
else:
    from bench import invoke

    invoke.main()
