//go:build !opencv

package main

import (
	"errors"

	"github.com/rs/zerolog"
)

func piBackend(Config, zerolog.Logger) (backend, error) {
	return backend{}, errors.New("--hw pi needs the camera: this binary was built without OpenCV; rebuild with `go build -tags opencv ./robot` (see README, Setting up a Pi)")
}
