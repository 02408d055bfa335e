//go:build !opencv

package vision

import (
	"fmt"

	"collaborate/robot/hw"
)

// OpenLive needs OpenCV: this build returns ErrNoOpenCV.
func OpenLive(cfg Config, clock hw.Clock) (Live, error) {
	return nil, fmt.Errorf("vision: %w", ErrNoOpenCV)
}
