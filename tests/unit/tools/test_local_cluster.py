"""The local cluster's description: nodes of their own, never the machine's broker (files in a
temporary directory only; nothing is started)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.cli.local_cluster import ClusterError, LocalCluster, main


def test_nodes_have_names_ports_and_directories_of_their_own(tmp_path: Path) -> None:
    cluster = LocalCluster.create(tmp_path / "c", size=3)
    names = [n.name for n in cluster.nodes]
    ports = [p for n in cluster.nodes for p in (n.amqp_port, n.dist_port, n.management_port)]
    assert len(set(names)) == 3 and not any(name.startswith("rabbit@") for name in names)
    assert len(set(ports)) == 9 and not {5672, 15672, 25672} & set(ports)
    for node in cluster.nodes:
        env = cluster._env(node)
        # Its own cookie, data, logs, plugins and configuration: nothing of the machine's broker.
        assert env["HOME"] == str(tmp_path / "c" / "home")
        for key in ("RABBITMQ_MNESIA_BASE", "RABBITMQ_LOG_BASE", "RABBITMQ_PID_FILE",
                    "RABBITMQ_CONFIG_FILE", "RABBITMQ_ENABLED_PLUGINS_FILE",
                    "RABBITMQ_CONF_ENV_FILE"):  # fmt: skip
            assert env[key].startswith(str(tmp_path)), key
        conf = (Path(node.directory) / "rabbitmq.conf").read_text()
        assert f"127.0.0.1:{node.amqp_port}" in conf
        assert f"management.tcp.port = {node.management_port}" in conf
    cookie = tmp_path / "c" / "home" / ".erlang.cookie"
    assert cookie.stat().st_mode & 0o777 == 0o400
    # A random cookie of its own: the machine's broker does not trust these nodes' tools.
    other = LocalCluster.create(tmp_path / "d", size=1)
    assert cookie.read_text() != (tmp_path / "d" / "home" / ".erlang.cookie").read_text()
    assert len(cookie.read_text()) >= 32
    assert other.nodes[0].name.split("-")[1] != cluster.nodes[0].name.split("-")[1]


def test_the_description_is_found_again_by_another_process(tmp_path: Path) -> None:
    created = LocalCluster.create(tmp_path, size=2)
    loaded = LocalCluster.load(tmp_path)
    assert loaded.nodes == created.nodes
    assert loaded.amqp_urls("tsdx") == created.amqp_urls("tsdx")
    assert loaded.amqp_urls("tsdx").count("/tsdx") == 2


def test_a_second_cluster_in_the_same_directory_is_refused(tmp_path: Path) -> None:
    LocalCluster.create(tmp_path, size=1)
    with pytest.raises(ClusterError, match="already described"):
        LocalCluster.create(tmp_path, size=1)


def test_the_script_says_when_there_is_no_cluster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--dir", str(tmp_path / "none")]) == 1
    assert "no cluster described" in capsys.readouterr().out
    assert main(["down", "--dir", str(tmp_path / "none")]) == 1


def test_the_script_refuses_a_cluster_of_no_nodes(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["up", "--nodes", "0", "--dir", str(tmp_path)])
    assert refused.value.code == 2
    assert not (tmp_path / "cluster.json").exists()
