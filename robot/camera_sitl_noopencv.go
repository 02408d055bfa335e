//go:build !opencv

package main

import (
	"errors"

	"collaborate/robot/hw"
	"collaborate/robot/world"
)

// sitlCamera needs OpenCV: the rendered frames go through the Pi's own
// ArUco pipeline.
func sitlCamera(Config, *world.Body, float64, *cameraStats) (hw.Detector, func() error, error) {
	return nil, nil, errors.New("--camera render needs a robot built with -tags opencv (the Pi's ArUco pipeline runs on the rendered frames)")
}
