package vision

import "collaborate/robot/hw"

// Stats counts what a Detector has seen, for logs and metrics.
type Stats struct {
	Frames     uint64 // frames looked at
	ReadErrors uint64 // frames the source failed to give
	BadFrames  uint64 // frames rejected (empty, wrong type)
	Markers    uint64 // markers found, of any kind
	Unranged   uint64 // markers found but not ranged (unknown id, too small, bad geometry)
}

// Live is the robot's camera as the pilot uses it: a Detector on an open
// camera. It exists in every build, so that `--hw pi` can be wired without
// build tags; without OpenCV, OpenLive returns ErrNoOpenCV.
type Live interface {
	hw.Detector
	// SetScale sets fleet/map's distance scale for Sight; Detect's
	// hw.Detection stays unscaled.
	SetScale(s float64) error
	Sight() ([]Sighting, error)
	Stats() Stats
	// Close releases the camera and OpenCV's state.
	Close() error
}
