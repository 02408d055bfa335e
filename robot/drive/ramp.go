package drive

import (
	"math"
	"time"
)

// Wheels is a pair of signed wheel surface speeds in m/s, positive forward.
type Wheels struct {
	LeftMps, RightMps float64
}

// Velocity converts wheel speeds back to the robot's linear (m/s) and angular
// (rad/s, counter-clockwise) speed for a wheel base in metres.
func (w Wheels) Velocity(wheelBaseM float64) (linearMps, angularRps float64) {
	return (w.LeftMps + w.RightMps) / 2, (w.RightMps - w.LeftMps) / wheelBaseM
}

// Ramp is the pure core of the drive: it holds the target and the current
// wheel speeds and moves one toward the other as time passes. It has no clock
// of its own; every call takes now. It is not safe for concurrent use.
type Ramp struct {
	cfg      Config
	target   Wheels
	current  Wheels
	lastCmd  time.Time // when the last accepted command arrived
	lastStep time.Time // the time current is valid for
	halted   bool      // inert until the next command
}

// NewRamp returns a halted ramp. cfg must be valid.
func NewRamp(cfg Config) *Ramp {
	return &Ramp{cfg: cfg, halted: true}
}

// Command sets a new target from a linear and angular speed. Commands beyond
// the limits are scaled down, keeping the turning radius, and reported as
// clamped. The ramp first advances to now with the old target, so a command
// after a long quiet spell does not jump. A NaN or infinite command is
// rejected: the target becomes zero (a ramped stop) and ok is false.
func (r *Ramp) Command(now time.Time, linearMps, angularRps float64) (clamped, ok bool) {
	r.advance(now)
	if !finite(linearMps) || !finite(angularRps) {
		r.target = Wheels{}
		r.lastCmd = now
		return false, false
	}
	lin, c1 := clamp(linearMps, r.cfg.MaxLinearMps)
	ang, c2 := clamp(angularRps, r.cfg.MaxAngularRps)
	half := ang * r.cfg.WheelBaseM / 2
	w := Wheels{LeftMps: lin - half, RightMps: lin + half}
	c3 := false
	if m := math.Max(math.Abs(w.LeftMps), math.Abs(w.RightMps)); m > r.cfg.MaxWheelMps {
		k := r.cfg.MaxWheelMps / m
		w.LeftMps *= k
		w.RightMps *= k
		c3 = true
	}
	r.target = w
	r.lastCmd = now
	r.halted = false
	return c1 || c2 || c3, true
}

// Halt stops at once, without ramping, until the next command.
func (r *Ramp) Halt(now time.Time) {
	r.halted = true
	r.target = Wheels{}
	r.current = Wheels{}
	r.lastStep = now
}

// Halted reports whether the ramp is inert.
func (r *Ramp) Halted() bool { return r.halted }

// Current returns the wheel speeds as of the last Step.
func (r *Ramp) Current() Wheels { return r.current }

// Target returns the clamped target wheel speeds.
func (r *Ramp) Target() Wheels { return r.target }

// Step advances the ramp to now and returns the wheel speeds to apply. When
// no command has arrived for the watchdog time it halts and reports tripped
// (once per silence).
func (r *Ramp) Step(now time.Time) (w Wheels, tripped bool) {
	if !r.halted && now.Sub(r.lastCmd) >= r.cfg.Watchdog {
		r.Halt(now)
		return r.current, true
	}
	r.advance(now)
	return r.current, false
}

// advance moves current toward target by at most MaxAccelMps2 * dt on the
// wheel that has further to go, and proportionally on the other, so both
// arrive together and the path's curvature is kept during the ramp.
func (r *Ramp) advance(now time.Time) {
	if r.halted {
		r.lastStep = now
		return
	}
	dt := now.Sub(r.lastStep).Seconds()
	if r.lastStep.IsZero() || dt < 0 {
		dt = 0 // first step, or a clock that went backwards: no change
	}
	r.lastStep = now
	dl := r.target.LeftMps - r.current.LeftMps
	dr := r.target.RightMps - r.current.RightMps
	need := math.Max(math.Abs(dl), math.Abs(dr))
	allowed := r.cfg.MaxAccelMps2 * dt
	if need <= allowed {
		r.current = r.target
		return
	}
	k := allowed / need
	r.current.LeftMps += dl * k
	r.current.RightMps += dr * k
}

func clamp(v, limit float64) (float64, bool) {
	if limit <= 0 {
		return v, false
	}
	if v > limit {
		return limit, true
	}
	if v < -limit {
		return -limit, true
	}
	return v, false
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
