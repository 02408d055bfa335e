package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/rs/zerolog"

	"collaborate/robot/drive"
	"collaborate/robot/hw"
	"collaborate/robot/vision"
)

// piBackend opens the camera with its ArUco detector (needs a build with
// -tags opencv) and the H-bridge drive. The drive's ramp and watchdog run
// beside the control loop; close halts the motors and releases the pins.
// Detections stay unscaled: the pilot applies fleet/map's scale, once.
func piBackend(c Config, log zerolog.Logger) (backend, error) {
	cam, err := vision.OpenLive(c.Vision, hw.SystemClock{})
	if err != nil {
		return backend{}, fmt.Errorf("camera: %w", err)
	}
	d, err := drive.Open(c.Drive, drive.WithLogger(log))
	if err != nil {
		cam.Close()
		return backend{}, err
	}
	return backend{
		detector: cam, drive: d, clock: hw.SystemClock{},
		run:      func(ctx context.Context) error { return d.Run(ctx) },
		progress: d.Updates,
		close:    func() error { return errors.Join(d.Close(), cam.Close()) },
	}, nil
}
