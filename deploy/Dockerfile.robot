# Builds the robot binary WITH OpenCV (-tags opencv: camera and ArUco) for a
# Raspberry Pi, natively for the target architecture: Debian bookworm (the
# base of Raspberry Pi OS bookworm, same OpenCV 4.6) under buildx and qemu.
# cgo cross-compiling OpenCV is not worth it; emulation is slow (10-30 min)
# but simple. Use deploy/build-robot.sh, which runs:
#
#   docker buildx build --platform linux/arm64  -f deploy/Dockerfile.robot \
#       --output type=local,dest=bin/linux-arm64 .
#   docker buildx build --platform linux/arm/v7 -f deploy/Dockerfile.robot \
#       --output type=local,dest=bin/linux-armv7 .
#
# The binary links Debian's libopencv*406 dynamically: on the Pi,
#   sudo apt install libopencv-dev libopencv-contrib-dev
# (or just the runtime libraries libopencv-core406 libopencv-imgproc406
# libopencv-videoio406 libopencv-contrib406 and their dependencies).

# golang:*-bookworm is multi-arch (amd64, arm64v8, arm32v7) on Debian 12.
FROM golang:1.26-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libopencv-dev libopencv-contrib-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -tags opencv -trimpath -ldflags="-s -w -X main.version=${VERSION}" \
      -o /out/robot ./robot \
 && ldd /out/robot | grep -q libopencv_core

# Only the binary leaves the build: --output type=local writes it to dest.
FROM scratch AS export
COPY --from=build /out/robot /robot
