#!/usr/bin/env bash
# Starts the services the tests need, idempotently: `scripts/services.sh redis postgres`.
# With no arguments there is nothing to start. Each service is checked first and
# started only when it does not answer.
set -euo pipefail

start_redis() {
	if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then return; fi
	command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }
	redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >/dev/null
	for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return; sleep 0.1; done
	echo "services: redis did not start" >&2; exit 1
}

start_postgres() {
	if pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then return; fi
	pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
	for _ in $(seq 100); do pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1 && return; sleep 0.1; done
	echo "services: postgres did not start" >&2; exit 1
}

if [ $# -eq 0 ]; then
	echo "services: none needed"
	exit 0
fi
for s in "$@"; do
	case "$s" in
	redis) start_redis ;;
	postgres) start_postgres ;;
	*) echo "services: unknown service $s" >&2; exit 2 ;;
	esac
	echo "services: $s up"
done
