package sim

import (
	"fmt"
	"math"
	"math/rand/v2"

	"collaborate/robot/hw"
	"collaborate/topics"
)

// Robot is one simulated disc robot. It is its own hw.Detector and hw.Drive.
type Robot struct {
	w  *World
	id string
	k  int // index in the world, from 0

	// guarded by w.mu
	x, y, th float64 // true pose
	v, om    float64 // current wheel speeds: linear and angular
	ground   float64 // speed made good along the heading in the last step
	tv, tom  float64 // targets set by the drive
	x0, y0   float64 // pose at the start of the physics step
	wallOn   bool    // touching the wall now
	wallIdx  int     // index in w.walls of the ongoing wall contact
	rejected int
	rng      *rand.Rand
	faces    topics.FaceIDs
}

var (
	_ hw.Detector = (*Robot)(nil)
	_ hw.Drive    = (*Robot)(nil)
)

// ID is the robot's id.
func (r *Robot) ID() string { return r.id }

// Index is the robot's place in the world, from 0; it fixes its face ids.
func (r *Robot) Index() int { return r.k }

// FaceIDs are the robot's four face markers.
func (r *Robot) FaceIDs() topics.FaceIDs { return r.faces }

// Detector is the robot's camera.
func (r *Robot) Detector() hw.Detector { return r }

// Drive is the robot's differential drive.
func (r *Robot) Drive() hw.Drive { return r }

// Pose is the robot's true pose.
func (r *Robot) Pose() Pose {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	return Pose{XM: r.x, YM: r.y, ThetaRad: r.th}
}

// Speed is the robot's true linear (m/s) and angular (rad/s) wheel speed. A
// robot held back by a wall or another robot keeps its wheel speed; Truth
// reports the speed it really makes.
func (r *Robot) Speed() (linearMps, angularRps float64) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	return r.v, r.om
}

// Target is the speed the drive was last told to reach.
func (r *Robot) Target() (linearMps, angularRps float64) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	return r.tv, r.tom
}

// Rejected counts the drive commands refused as not finite.
func (r *Robot) Rejected() int {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	return r.rejected
}

// Set sets the target speeds, clamped to the world's limits; the world ramps
// towards them. A NaN or infinite command is refused, counted, and leaves the
// target as it was.
func (r *Robot) Set(linearMps, angularRps float64) error {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	if math.IsNaN(linearMps) || math.IsInf(linearMps, 0) || math.IsNaN(angularRps) || math.IsInf(angularRps, 0) {
		r.rejected++
		return fmt.Errorf("sim drive %s: refused command v=%v ω=%v: not finite", r.id, linearMps, angularRps)
	}
	c := r.w.cfg
	r.tv = math.Max(-c.MaxSpeedMps, math.Min(c.MaxSpeedMps, linearMps))
	r.tom = math.Max(-c.MaxTurnRps, math.Min(c.MaxTurnRps, angularRps))
	return nil
}

// Halt sets both targets to zero. The world brakes at BrakeDecelMps2 and
// BrakeTurnDecelRps2 (fast, as a motor driver that shorts its motors), so the
// robot stops within a few centimetres rather than at once.
func (r *Robot) Halt() error {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	r.tv, r.tom = 0, 0
	return nil
}

// Detect returns what the robot's camera sees now, sorted by marker id, each
// stamped with the sim time.
func (r *Robot) Detect() ([]hw.Detection, error) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	return r.w.detect(r, true), nil
}

// ramp moves speed v towards target over dt: up at accel, and down at brake
// while the speed falls towards zero (crossing zero brakes to zero first). It
// returns the final speed and the exact integral of the speed over dt.
func ramp(v, target, accel, brake, dt float64) (float64, float64) {
	dist := 0.0
	for phase := 0; phase < 3 && dt > 0; phase++ {
		if v == target {
			break
		}
		goal, a := target, accel
		if v != 0 && (target*v <= 0 || math.Abs(target) < math.Abs(v)) {
			a = brake
			if target*v <= 0 {
				goal = 0
			}
		}
		need := math.Abs(goal-v) / a
		t := math.Min(need, dt)
		nv := goal
		if t < need {
			nv = v + math.Copysign(a*t, goal-v)
		}
		dist += (v + nv) / 2 * t
		v, dt = nv, dt-t
	}
	return v, dist + v*dt
}

// move integrates the robot's unicycle over dt seconds: the speeds ramp, the
// robot advances along the chord of its arc (exact for constant speeds).
func (r *Robot) move(c *Config, dt float64) {
	var s, dth float64
	r.v, s = ramp(r.v, r.tv, c.MaxAccelMps2, c.BrakeDecelMps2, dt)
	r.om, dth = ramp(r.om, r.tom, c.MaxTurnAccelRps2, c.BrakeTurnDecelRps2, dt)
	chord := s
	if h := dth / 2; h != 0 {
		chord = s * math.Sin(h) / h
	}
	a := r.th + dth/2
	r.x += chord * math.Cos(a)
	r.y += chord * math.Sin(a)
	r.th = wrap(r.th + dth)
}
