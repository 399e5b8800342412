"""A real 3-peer IPFS Cluster (tests/support/cluster.py): one for the whole session, shared by
the tests that leave it as they found it (a test that stops a peer starts it again), and
fresh ones for tests that lose a peer for good."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.serverless import conftest as serverless
from tests.support.cluster import IpfsCluster


@pytest.fixture(scope="session")
def ipfs_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IpfsCluster]:
    cluster = IpfsCluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture
def cluster_factory(tmp_path: Path) -> Iterator[Callable[..., IpfsCluster]]:
    started: list[IpfsCluster] = []

    def start(size: int = 3) -> IpfsCluster:
        cluster = IpfsCluster(tmp_path / f"cluster-{len(started)}", size)
        started.append(cluster)
        return cluster.start()

    yield start
    for cluster in started:
        cluster.stop()


# The Lambda fixtures (moto over HTTP, a daemon, the handler as a cold start), for the test of
# the scheduled remote-pin path against the cluster.
lambda_env = serverless.lambda_env
load_handler = serverless.load_handler
shared_daemon = serverless.shared_daemon
moto_server = serverless.moto_server
aws_env = serverless.aws_env
dynamodb_table = serverless.dynamodb_table
