//go:build opencv

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

// piBackend opens the camera, the ArUco detector and the H-bridge drive.
// The drive's ramp and watchdog run beside the control loop; Close halts the
// motors and releases the pins.
func piBackend(c Config, log zerolog.Logger) (backend, error) {
	cam, err := vision.OpenCamera(c.Vision.Camera)
	if err != nil {
		return backend{}, fmt.Errorf("camera: %w", err)
	}
	det, err := vision.NewDetector(c.Vision, cam, hw.SystemClock{})
	if err != nil {
		cam.Close()
		return backend{}, fmt.Errorf("detector: %w", err)
	}
	d, err := drive.Open(c.Drive, drive.WithLogger(log))
	if err != nil {
		det.Close()
		return backend{}, err
	}
	return backend{
		detector: det, drive: d, clock: hw.SystemClock{},
		run: func(ctx context.Context) error { return d.Run(ctx) },
		close: func() error {
			return errors.Join(d.Close(), det.Close())
		},
	}, nil
}
