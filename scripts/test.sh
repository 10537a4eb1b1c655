#!/usr/bin/env bash
# The whole default suite: unit tests once, integration tests against both deployments:
# the embedded default (SQLite + filesystem broker) and PostgreSQL + Redis.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=".venv/bin/python -m pytest"
status=0

echo "== unit tests"
$PYTEST tests/unit -q "$@" || status=1
echo "== integration tests: embedded default (SQLite, filesystem broker)"
DESIGNLOOP_TEST_BACKEND=embedded $PYTEST tests/integration -q "$@" || status=1
echo "== integration tests: PostgreSQL + Redis"
DESIGNLOOP_TEST_BACKEND=postgres $PYTEST tests/integration -q "$@" || status=1
echo "== lint: ruff, import contracts, types"
.venv/bin/ruff check service models workers tests examples || status=1
.venv/bin/lint-imports || status=1
.venv/bin/mypy || status=1
exit $status
