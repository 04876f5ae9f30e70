import os

import pytest


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory):
    """One Prefect test server for the whole session, in a temporary PREFECT_HOME (never the
    developer's), quiet and offline."""
    home = tmp_path_factory.mktemp("prefect_home")
    os.environ["PREFECT_HOME"] = str(home)
    from diaphuong.prefect_env import configure

    configure(home)
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def sample_warehouse(prefect_harness, tmp_path_factory):
    """The bundled sample tree (data/raw, read in place) run once through the flow into a
    temporary warehouse: (warehouse dir, summary rows, hash of the raw tree before the run)."""
    from pathlib import Path

    from diaphuong.demo import copy_demo_tree
    from diaphuong.ingest.discover import tree_hash
    from diaphuong.prefect_env import no_heartbeat
    from diaphuong_flows.reporting_cycle import reporting_cycle

    # a copy with the generator's receipt times on the files left out of inbox.csv (git keeps no
    # modification times): the figures must not depend on when the repository was cloned
    raw = copy_demo_tree(Path(__file__).resolve().parents[2] / "data" / "raw", tmp_path_factory.mktemp("raw"))
    wh = tmp_path_factory.mktemp("warehouse")
    before = tree_hash(raw)
    with no_heartbeat():
        rows = reporting_cycle(raw_dir=str(raw), warehouse_dir=str(wh))
    return wh, rows, before, raw

