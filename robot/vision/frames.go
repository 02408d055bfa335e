package vision

import "image"

// GraySource yields 8-bit grey frames as Go images. A simulated camera
// (render.Source, which draws frames from the simulated world) is one: the
// software-in-the-loop robot runs the real Detector on its frames through
// GrayFrames, the same pipeline as on a Pi.
type GraySource interface {
	// ReadGray makes dst the next frame, reusing its pixels when they are
	// large enough. It is not called concurrently.
	ReadGray(dst *image.Gray) error
}
