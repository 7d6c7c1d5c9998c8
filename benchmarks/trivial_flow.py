"""The peer of the offline demo refresh: a one-task Prefect flow, started the same way
(a fresh process, Prefect's temporary server). `python -m benchmarks.trivial_flow`"""

from __future__ import annotations

from prefect import flow, task


@task
def one() -> int:
    return 1


@flow(name="partnerdd-bench-trivial")
def trivial() -> int:
    return one()


if __name__ == "__main__":
    trivial()
