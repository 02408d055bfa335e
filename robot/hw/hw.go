// Package hw holds the robot's hardware seams: a camera that yields marker
// detections, a differential drive, and a clock. They speak our types, never a
// library's, so that the simulator, the Pi and the test fakes (package hwtest)
// all plug into the same pilot.
//
// Units: metres, seconds, radians. A bearing is relative to the robot's
// heading, counter-clockwise (to the left) positive, within ±π.
package hw

import "time"

// Detection is one marker seen in one camera frame.
type Detection struct {
	MarkerID   int
	DistanceM  float64 // camera distance, before the map's scale is applied
	BearingRad float64 // relative to the robot's heading, left positive
	At         time.Time
	// Corners are the marker's image corners in pixels when a camera image
	// was read (a Pi's camera, or a SITL robot's rendered frames); nil from
	// the simulator's geometric camera.
	Corners [][2]float64
}

// Detector yields the markers of the latest frame. It returns an empty slice
// when a frame showed nothing.
type Detector interface {
	Detect() ([]Detection, error)
}

// Drive is a differential drive commanded by linear and angular speed.
// Halt makes it inert (motors off); it is called on hold, on link loss and on
// every exit path, and must be safe to call repeatedly.
type Drive interface {
	Set(linearMps, angularRps float64) error
	Halt() error
}

// Clock tells the time; the simulator and tests substitute a virtual one.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, for real hardware.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }
