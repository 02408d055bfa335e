//go:build opencv

package vision

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gocv.io/x/gocv"
)

// FrameSource yields camera frames. Read fills dst with the next frame
// (8-bit BGR or grey) and is not safe for concurrent use.
type FrameSource interface {
	Read(dst *gocv.Mat) error
}

// Camera captures frames from a V4L2 device or a GStreamer pipeline.
type Camera struct {
	vc   *gocv.VideoCapture
	name string
}

var _ FrameSource = (*Camera)(nil)

// OpenCamera opens the configured source. A pipeline wins over a device; a
// device is an index ("0") or a path ("/dev/video0") opened through V4L2,
// at the configured width, height and frame rate. A pipeline sets its own
// size in its caps (see LibcameraPipeline).
func OpenCamera(c CameraConfig) (*Camera, error) {
	var (
		vc   *gocv.VideoCapture
		err  error
		name string
	)
	switch {
	case strings.TrimSpace(c.Pipeline) != "":
		name = "pipeline " + strconv.Quote(c.Pipeline)
		vc, err = gocv.OpenVideoCaptureWithAPI(c.Pipeline, gocv.VideoCaptureGstreamer)
	case strings.TrimSpace(c.Device) != "":
		name = "device " + c.Device
		vc, err = gocv.OpenVideoCaptureWithAPI(c.Device, gocv.VideoCaptureV4L2)
	default:
		return nil, errors.New("open camera: neither camera.device nor camera.pipeline is set")
	}
	if err == nil && !vc.IsOpened() {
		err = errors.New("not opened")
	}
	if err != nil {
		if vc != nil {
			vc.Close()
		}
		return nil, fmt.Errorf("open camera %s: %w", name, err)
	}
	if c.Pipeline == "" {
		vc.Set(gocv.VideoCaptureFrameWidth, float64(c.Width))
		vc.Set(gocv.VideoCaptureFrameHeight, float64(c.Height))
		if c.FPS > 0 {
			vc.Set(gocv.VideoCaptureFPS, float64(c.FPS))
		}
		// One buffered frame: the pilot wants the newest frame, not a queue.
		vc.Set(gocv.VideoCaptureBufferSize, 1)
	}
	return &Camera{vc: vc, name: name}, nil
}

// Read grabs the next frame into dst.
func (c *Camera) Read(dst *gocv.Mat) error {
	if c.vc == nil {
		return fmt.Errorf("read %s: camera closed", c.name)
	}
	if !c.vc.Read(dst) || dst.Empty() {
		return fmt.Errorf("read %s: no frame (camera unplugged, pipeline ended, or busy)", c.name)
	}
	return nil
}

// Close releases the camera. It is safe to call twice.
func (c *Camera) Close() error {
	if c.vc != nil {
		c.vc.Close()
		c.vc = nil
	}
	return nil
}

// String names the source, for logs.
func (c *Camera) String() string { return c.name }
