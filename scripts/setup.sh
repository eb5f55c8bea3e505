#!/usr/bin/env bash
# Prepares this machine for tsdx: Python environment, RabbitMQ (started if none answers),
# and, with --test, what the test suite needs (Chromium, promtool, amqp-tools).
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TEST=0
[[ "${1:-}" == "--test" ]] && WITH_TEST=1

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

# Another apt or dpkg process (unattended upgrades, a second set-up) may hold the dpkg lock:
# every apt-get call waits up to 5 minutes for it instead of failing at once.
APT_GET=(apt-get -o DPkg::Lock::Timeout=300)

apt_updated=0
need_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  if ! command -v apt-get >/dev/null; then
    echo "tsdx setup: please install: ${missing[*]}" >&2
    return 1
  fi
  if ((apt_updated == 0)); then
    $SUDO "${APT_GET[@]}" update -qq
    apt_updated=1
  fi
  echo "tsdx setup: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO "${APT_GET[@]}" install -y -qq "${missing[@]}" >/dev/null
}

# Python 3.11+ with venv.
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  echo "tsdx setup: Python 3.11 or newer is needed (found: $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi
if [[ ! -x .venv/bin/python ]]; then
  "$PYTHON" -m venv .venv 2>/dev/null || { need_apt python3-venv && "$PYTHON" -m venv .venv; }
fi
extras=""
((WITH_TEST)) && extras="[test,otel]"  # the tracing test needs the optional extra
stamp=".venv/.installed${extras}"
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e ".${extras}"
  touch "$stamp"
fi

# RabbitMQ: use the one at TSDX_AMQP_URL if it answers; otherwise install and start a local one.
if ! .venv/bin/python -c 'from tools.cli.broker_check import broker_answers; from shared.settings import Settings; import sys; sys.exit(0 if broker_answers(Settings().amqp_url) else 1)'; then
  need_apt rabbitmq-server
  .venv/bin/python - <<'PY'
import sys
from tools.cli.broker_check import start_local_rabbitmq
from shared.settings import Settings
url = Settings().amqp_url
if not start_local_rabbitmq(url):
    sys.exit(f"tsdx setup: could not start RabbitMQ for {url}")
print("tsdx setup: RabbitMQ started")
PY
fi
# The dashboard and the tests read queue depths from the management API.
if command -v rabbitmq-plugins >/dev/null && ! rabbitmq-plugins list -e -m 2>/dev/null | grep -q '^rabbitmq_management$'; then
  $SUDO rabbitmq-plugins enable rabbitmq_management >/dev/null
  for _ in $(seq 1 60); do
    curl -fsS -u guest:guest http://localhost:15672/api/overview >/dev/null 2>&1 && break
    sleep 1
  done
fi

if ((WITH_TEST)); then
  # The storage contract suite's MongoDB wire-protocol stand-in (nx-27017, NOT MongoDB), in an
  # environment of its own so that its dependencies never move the project's.
  NX_VERSION=0.8.1
  if [[ ! -x .venv-nx/bin/nx-27017 ]] || ! .venv-nx/bin/pip show nx-27017 2>/dev/null | grep -qx "Version: $NX_VERSION"; then
    "$PYTHON" -m venv .venv-nx
    .venv-nx/bin/pip install -q "nx-27017==$NX_VERSION" >/dev/null
  fi
  # Browser tests (Debian's Chromium driven by Playwright), promtool for metrics,
  # amqp-tools for the non-Python AMQP client test.
  need_apt chromium prometheus amqp-tools curl
fi
