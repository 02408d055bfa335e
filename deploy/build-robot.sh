#!/usr/bin/env bash
# Build the robot binary with OpenCV (-tags opencv) for Raspberry Pis.
#
#   deploy/build-robot.sh [arm64|armv7|all]   with docker buildx + qemu (default all)
#   deploy/build-robot.sh --native [OUT]      on the Pi itself (or any machine
#                                             with libopencv-dev, for itself)
#
# Output: bin/linux-arm64/robot, bin/linux-armv7/robot (or OUT, default
# bin/robot for --native).
#
# buildx needs qemu's binfmt handlers once per machine:
#   docker run --privileged --rm tonistiigi/binfmt --install arm64,arm
# The emulated build takes 10-30 minutes; building on a Pi 4/5 takes a few.
# Pure-Go binaries without OpenCV cross-compile in seconds: deploy/cross-build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(git describe --always --dirty 2>/dev/null || echo dev)

if [ "${1:-}" = "--native" ]; then
	out=${2:-bin/robot}
	pkg-config --exists opencv4 || {
		echo "build-robot: OpenCV 4 not found; sudo apt install libopencv-dev libopencv-contrib-dev pkg-config" >&2
		exit 1
	}
	mkdir -p "$(dirname "$out")"
	CGO_ENABLED=1 go build -tags opencv -trimpath -ldflags="-s -w -X main.version=$version" -o "$out" ./robot
	echo "build-robot: $out ($(go env GOOS)/$(go env GOARCH), OpenCV $(pkg-config --modversion opencv4))"
	exit 0
fi

command -v docker >/dev/null || { echo "build-robot: docker not found (or use --native on the Pi)" >&2; exit 1; }
case "${1:-all}" in
arm64) targets=("linux/arm64:linux-arm64") ;;
armv7) targets=("linux/arm/v7:linux-armv7") ;;
all) targets=("linux/arm64:linux-arm64" "linux/arm/v7:linux-armv7") ;;
*) echo "build-robot: unknown target ${1} (arm64, armv7, all, --native)" >&2; exit 2 ;;
esac
for t in "${targets[@]}"; do
	platform=${t%%:*}
	dest=bin/${t#*:}
	echo "== $platform -> $dest/robot"
	docker buildx build --platform "$platform" -f deploy/Dockerfile.robot \
		--build-arg VERSION="$version" --target export \
		--output "type=local,dest=$dest" .
done
