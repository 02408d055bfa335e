//go:build opencv

package vision

import (
	"errors"
	"fmt"
	"image"
	"strconv"
	"strings"

	"gocv.io/x/gocv"
)

// FrameSource yields camera frames. Read fills dst with the next frame
// (8-bit BGR or grey) and is not safe for concurrent use.
type FrameSource interface {
	Read(dst *gocv.Mat) error
}

// GrayFrames is a FrameSource of the frames src draws as Go images.
func GrayFrames(src GraySource) FrameSource { return &grayFrames{src: src} }

type grayFrames struct {
	src GraySource
	img image.Gray
}

func (g *grayFrames) Read(dst *gocv.Mat) error {
	if err := g.src.ReadGray(&g.img); err != nil {
		return err
	}
	return GrayMat(&g.img, dst)
}

// GrayMat copies img into dst as an 8-bit grey Mat, reallocating dst when
// its size or type differ.
func GrayMat(img *image.Gray, dst *gocv.Mat) error {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w <= 0 || h <= 0 {
		return fmt.Errorf("gray frame of %d×%d pixels", w, h)
	}
	if dst.Empty() || dst.Cols() != w || dst.Rows() != h || dst.Type() != gocv.MatTypeCV8UC1 || !dst.IsContinuous() {
		dst.Close()
		*dst = gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC1)
	}
	pix, err := dst.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("gray frame: %w", err)
	}
	for y := 0; y < h; y++ {
		off := img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y)
		copy(pix[y*w:(y+1)*w], img.Pix[off:off+w])
	}
	return nil
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
