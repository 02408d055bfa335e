package sim

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// CameraConfig describes every robot's camera.
type CameraConfig struct {
	FOVRad          float64 // full horizontal field of view
	RangeM          float64 // farthest marker seen, from the camera
	DistNoise       float64 // σ of distance noise, as a fraction of the distance
	BearingNoiseRad float64 // σ of bearing noise
	// MaxIncidenceRad is the largest angle between a marker's normal and the
	// line to the camera at which the marker is still seen.
	MaxIncidenceRad float64
	// OffsetM is how far ahead of the disc's centre the camera sits. Distances
	// and bearings are measured from the camera. 0 (the default) puts it at
	// the centre, so that the robot at the arena's centre sees every arena
	// marker at exactly half the diameter.
	OffsetM float64
	// Noiseless turns the noise off (DistNoise and BearingNoiseRad are
	// ignored): zero noise fields mean "default", not "none".
	Noiseless bool
}

// Config describes a world. Zero fields take the value of DefaultConfig, so
// Config{Seed: 7} is a complete config.
type Config struct {
	DiameterM float64 // arena diameter
	// Markers are the arena marker ids, placed counter-clockwise from angle 0.
	// Empty means MarkerCount markers with ids 0..MarkerCount-1.
	Markers     []int
	MarkerCount int
	// FaceBase is the first face marker id: robot k carries FaceBase+4k ...
	// FaceBase+4k+3. Face ids must not collide with arena ids.
	FaceBase int

	RobotRadiusM       float64
	MaxSpeedMps        float64 // |v| limit; commands are clamped to it
	MaxTurnRps         float64 // |ω| limit, rad/s
	MaxAccelMps2       float64 // speeding up
	MaxTurnAccelRps2   float64 // speeding up the turn, rad/s²
	BrakeDecelMps2     float64 // slowing towards zero, Halt included
	BrakeTurnDecelRps2 float64 // slowing the turn towards zero
	PhysicsDt          time.Duration
	StartMarginM       float64 // default placement: distance of the outer ring from the wall
	Camera             CameraConfig
	Seed               int64
	Start              time.Time // sim time at zero; zero means DefaultStart
}

// DefaultStart is the virtual clock's origin when Config.Start is zero: a
// fixed instant, so that stepped runs are reproducible. Set Config.Start to
// time.Now() when the world runs in real time beside a broker.
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// DefaultConfig is a 3 m arena with 12 markers (ids 0..11) and robots of
// 0.18 m diameter with a 62° camera.
func DefaultConfig() Config {
	return Config{
		DiameterM:          3,
		MarkerCount:        12,
		FaceBase:           100,
		RobotRadiusM:       0.09,
		MaxSpeedMps:        0.25,
		MaxTurnRps:         2.0,
		MaxAccelMps2:       0.5,
		MaxTurnAccelRps2:   4.0,
		BrakeDecelMps2:     2.0,
		BrakeTurnDecelRps2: 16.0,
		PhysicsDt:          10 * time.Millisecond,
		StartMarginM:       0.3,
		Camera: CameraConfig{
			FOVRad:          62 * math.Pi / 180,
			RangeM:          3.5,
			DistNoise:       0.02,
			BearingNoiseRad: 0.5 * math.Pi / 180,
			MaxIncidenceRad: 75 * math.Pi / 180,
		},
		Start: DefaultStart,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	f := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	f(&c.DiameterM, d.DiameterM)
	f(&c.RobotRadiusM, d.RobotRadiusM)
	f(&c.MaxSpeedMps, d.MaxSpeedMps)
	f(&c.MaxTurnRps, d.MaxTurnRps)
	f(&c.MaxAccelMps2, d.MaxAccelMps2)
	f(&c.MaxTurnAccelRps2, d.MaxTurnAccelRps2)
	f(&c.BrakeDecelMps2, d.BrakeDecelMps2)
	f(&c.BrakeTurnDecelRps2, d.BrakeTurnDecelRps2)
	f(&c.StartMarginM, d.StartMarginM)
	f(&c.Camera.FOVRad, d.Camera.FOVRad)
	f(&c.Camera.RangeM, d.Camera.RangeM)
	f(&c.Camera.DistNoise, d.Camera.DistNoise)
	f(&c.Camera.BearingNoiseRad, d.Camera.BearingNoiseRad)
	f(&c.Camera.MaxIncidenceRad, d.Camera.MaxIncidenceRad)
	if len(c.Markers) == 0 && c.MarkerCount == 0 {
		c.MarkerCount = d.MarkerCount
	}
	if c.FaceBase == 0 {
		c.FaceBase = d.FaceBase
	}
	if c.PhysicsDt == 0 {
		c.PhysicsDt = d.PhysicsDt
	}
	if c.Start.IsZero() {
		c.Start = d.Start
	}
	if c.Camera.Noiseless {
		c.Camera.DistNoise, c.Camera.BearingNoiseRad = 0, 0
	}
	return c
}

// validate reports every problem of a defaulted config at once.
func (c Config) validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("sim config %s: %s", field, fmt.Sprintf(format, args...)))
	}
	pos := func(field string, v float64) {
		if !(v > 0) || math.IsInf(v, 0) {
			bad(field, "must be a positive number, got %v", v)
		}
	}
	nonNeg := func(field string, v float64) {
		if !(v >= 0) || math.IsInf(v, 0) {
			bad(field, "must be zero or positive, got %v", v)
		}
	}
	pos("DiameterM", c.DiameterM)
	pos("RobotRadiusM", c.RobotRadiusM)
	pos("MaxSpeedMps", c.MaxSpeedMps)
	pos("MaxTurnRps", c.MaxTurnRps)
	pos("MaxAccelMps2", c.MaxAccelMps2)
	pos("MaxTurnAccelRps2", c.MaxTurnAccelRps2)
	pos("BrakeDecelMps2", c.BrakeDecelMps2)
	pos("BrakeTurnDecelRps2", c.BrakeTurnDecelRps2)
	pos("StartMarginM", c.StartMarginM)
	pos("Camera.FOVRad", c.Camera.FOVRad)
	if c.Camera.FOVRad > 2*math.Pi {
		bad("Camera.FOVRad", "must be at most 2π, got %v", c.Camera.FOVRad)
	}
	pos("Camera.RangeM", c.Camera.RangeM)
	nonNeg("Camera.DistNoise", c.Camera.DistNoise)
	nonNeg("Camera.BearingNoiseRad", c.Camera.BearingNoiseRad)
	pos("Camera.MaxIncidenceRad", c.Camera.MaxIncidenceRad)
	if c.Camera.MaxIncidenceRad > math.Pi/2 {
		bad("Camera.MaxIncidenceRad", "must be at most π/2, got %v", c.Camera.MaxIncidenceRad)
	}
	nonNeg("Camera.OffsetM", c.Camera.OffsetM)
	if c.Camera.OffsetM > c.RobotRadiusM {
		bad("Camera.OffsetM", "must be within the disc (%v m), got %v", c.RobotRadiusM, c.Camera.OffsetM)
	}
	if c.DiameterM > 0 && c.RobotRadiusM > 0 && 2*c.RobotRadiusM >= c.DiameterM {
		bad("RobotRadiusM", "a robot of radius %v m does not fit an arena of diameter %v m", c.RobotRadiusM, c.DiameterM)
	}
	if c.PhysicsDt <= 0 {
		bad("PhysicsDt", "must be positive, got %v", c.PhysicsDt)
	}
	if c.MarkerCount < 0 {
		bad("MarkerCount", "must be zero or positive, got %d", c.MarkerCount)
	}
	if len(c.Markers) > 0 && c.MarkerCount != 0 && c.MarkerCount != len(c.Markers) {
		bad("MarkerCount", "is %d but Markers lists %d ids", c.MarkerCount, len(c.Markers))
	}
	seen := map[int]bool{}
	for i, id := range c.Markers {
		if id < 0 {
			bad(fmt.Sprintf("Markers[%d]", i), "must be a non-negative id, got %d", id)
		}
		if seen[id] {
			bad(fmt.Sprintf("Markers[%d]", i), "duplicate id %d", id)
		}
		seen[id] = true
	}
	if c.FaceBase < 0 {
		bad("FaceBase", "must be a non-negative id, got %d", c.FaceBase)
	}
	return errors.Join(errs...)
}

// markerIDs returns the arena marker ids of a defaulted config.
func (c Config) markerIDs() []int {
	if len(c.Markers) > 0 {
		return append([]int(nil), c.Markers...)
	}
	ids := make([]int, c.MarkerCount)
	for i := range ids {
		ids[i] = i
	}
	return ids
}
