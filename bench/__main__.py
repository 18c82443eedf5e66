"""`python -m bench`: the invoke benchmarks (bench/invoke.py); `python -m bench cluster`:
the same through the cluster preset, beside standalone (bench/cluster.py); `python -m bench framework`: the warm path beside Google's functions-framework serving the
same no-op (bench/framework.py); `python -m bench asgi-servers`: the API's HTTP server
against others behind the same ASGI app (bench/asgi_servers.py); `python -m bench
warm-parts`: two parts of the warm path, in process (bench/warm_parts.py); `python -m bench
apigw`: an API route against its web action's own URL (bench/apigw.py); `python -m bench
hop`: the invoker → runtime hop over TCP and over a Unix socket (bench/hop.py); `python -m
bench sandbox`: what the process containers' sandbox costs through the platform, servers in
turns (bench/sandbox.py), `python -m bench sandbox-factory` at the container factory
(bench/sandbox_factory.py), `python -m bench launch-guard` what the parent-death guard costs a
sandbox's launch (bench/launch_guard.py); `python -m bench cold-start`: a new action's first /init + /run
with its runtime booted ahead in a spare sandbox and without (bench/cold_start.py); `python
-m bench first-invoke`: where a new action's first invoke taking a stem cell spends its
time, step by step (bench/first_invoke.py); `python -m bench docker`: Docker containers' output through FIFOs and through the engine's
attach stream, beside process containers, in turns (bench/docker.py); `python -m bench metrics`: what counting an activation costs (bench/metrics.py); `python -m bench
layers`: what an action's layers cost its cold starts (bench/layers.py); `python -m bench cli`:
a whole `wsk` process beside a bare interpreter (bench/cli.py); `python -m bench burst`: 128
concurrent callers of one 50 ms action, the pool's policies side by side (bench/burst.py);
`python -m bench queue`: the Kafka queue alone, our Produce and Fetch requests against
aiokafka's (bench/kafka_queue.py)."""

import sys

if sys.argv[1:2] == ["cluster"]:
    from bench import cluster

    cluster.main(sys.argv[2:])
elif sys.argv[1:2] == ["queue"]:
    from bench import kafka_queue

    kafka_queue.main(sys.argv[2:])
elif sys.argv[1:2] == ["framework"]:
    from bench import framework

    framework.main(sys.argv[2:])
elif sys.argv[1:2] == ["asgi-servers"]:
    from bench import asgi_servers

    asgi_servers.main(sys.argv[2:])
elif sys.argv[1:2] == ["warm-parts"]:
    from bench import warm_parts

    warm_parts.main(sys.argv[2:])
elif sys.argv[1:2] == ["metrics"]:
    from bench import metrics

    metrics.main(sys.argv[2:])
elif sys.argv[1:2] == ["apigw"]:
    from bench import apigw

    apigw.main(sys.argv[2:])
elif sys.argv[1:2] == ["hop"]:
    from bench import hop

    hop.main(sys.argv[2:])
elif sys.argv[1:2] == ["layers"]:
    from bench import layers

    layers.main(sys.argv[2:])
elif sys.argv[1:2] == ["cli"]:
    from bench import cli

    cli.main(sys.argv[2:])
elif sys.argv[1:2] == ["docker"]:
    from bench import docker

    docker.main(sys.argv[2:])
elif sys.argv[1:2] == ["burst"]:
    from bench import burst

    burst.main(sys.argv[2:])
elif sys.argv[1:2] == ["sandbox"]:
    from bench import sandbox

    sandbox.main(sys.argv[2:])
elif sys.argv[1:2] == ["cold-start"]:
    from bench import cold_start

    cold_start.main(sys.argv[2:])
elif sys.argv[1:2] == ["launch-guard"]:
    from bench import launch_guard

    launch_guard.main(sys.argv[2:])
elif sys.argv[1:2] == ["first-invoke"]:
    from bench import first_invoke

    first_invoke.main(sys.argv[2:])
elif sys.argv[1:2] == ["sandbox-factory"]:
    from bench import sandbox_factory

    sandbox_factory.main(sys.argv[2:])
else:
    from bench import invoke

    invoke.main()
