#!/usr/bin/env bash
# Cross-compile the pure-Go (non-OpenCV) binaries for the Raspberry Pi:
# linux/arm64 (Pi 4/5 with a 64-bit OS) and linux/arm GOARM=7 (32-bit OS).
# No cgo: the robot built this way has the simulator and the drive, but no
# camera (that needs -tags opencv, see deploy/build-robot.sh).
#
#   deploy/cross-build.sh [OUTDIR]      default OUTDIR: bin/
#
# Writes OUTDIR/<os>-<arch>/<binary> for every main package that exists
# (./orchestrator, ./robot), then vets and compiles every package for each
# target (go build ./...), so CI catches code that only breaks on 32-bit ARM.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bin}
targets=("arm64:" "arm:7")
mains=()
for m in orchestrator robot; do
	# A directory is a main package when it has a non-test .go file saying so.
	if grep -lqs '^package main' "$m"/*.go 2>/dev/null; then
		mains+=("./$m")
	fi
done
for t in "${targets[@]}"; do
	arch=${t%%:*}
	arm=${t#*:}
	dir="$out/linux-$arch${arm:+v$arm}"
	echo "== linux/$arch${arm:+ GOARM=$arm}"
	export CGO_ENABLED=0 GOOS=linux GOARCH=$arch GOARM=$arm
	go build ./...
	for m in "${mains[@]}"; do
		mkdir -p "$dir"
		go build -trimpath -ldflags="-s -w" -o "$dir/$(basename "$m")" "$m"
		echo "   $dir/$(basename "$m")"
	done
done
if [ ${#mains[@]} -eq 0 ]; then
	echo "note: no main package (./orchestrator, ./robot) yet; compiled the libraries only"
fi
