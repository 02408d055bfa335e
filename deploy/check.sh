#!/usr/bin/env bash
# Deployment checks (run by .ci/run; also fine by hand). Nothing here needs a
# Docker engine or a network: docker-compose only parses the file.
#   - docker-compose.yml is valid, with and without the sim profile;
#   - the shell scripts parse (and pass shellcheck where it is installed);
#   - the systemd unit passes systemd-analyze verify;
#   - the Prometheus scrape config passes promtool, the NATS node config
#     nats-server -t (where they are installed);
#   - the non-OpenCV binaries cross-compile for linux/arm64 and linux/arm GOARM=7.
# The Go tests in deploy/ (go test ./deploy/, part of go test ./...) run
# mkcerts.sh, check the example robot config, the compose file and the unit.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "-- docker-compose config"
docker-compose -f docker-compose.yml config -q
docker-compose -f docker-compose.yml --profile sim config -q

echo "-- shell scripts"
for f in deploy/*.sh; do bash -n "$f"; done
if command -v shellcheck >/dev/null; then shellcheck deploy/*.sh; fi

echo "-- systemd unit"
if command -v systemd-analyze >/dev/null; then
	# The binary is not installed here: point ExecStart at one that is.
	sed 's#/usr/local/bin/robot#/bin/true#g' deploy/robot.service >"$tmp/robot.service"
	systemd-analyze verify "$tmp/robot.service"
else
	echo "   systemd-analyze not installed; skipped"
fi

echo "-- Prometheus and NATS configs"
if command -v promtool >/dev/null; then
	promtool check config deploy/prometheus.yml
else
	echo "   promtool not installed; skipped"
fi
if command -v nats-server >/dev/null; then
	# The users come from orchestrator nats-auth; any valid block will do.
	cp deploy/nats/nats.conf "$tmp/nats.conf"
	echo 'authorization { users = [ {user: "check", password: "not-used"} ] }' >"$tmp/auth.conf"
	NATS_NAME=nats1 nats-server -c "$tmp/nats.conf" -t
else
	echo "   nats-server not installed; skipped"
fi

echo "-- cross-compile (linux/arm64, linux/arm GOARM=7)"
bash deploy/cross-build.sh "$tmp/bin"
echo "deploy checks passed"
