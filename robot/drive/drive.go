package drive

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"collaborate/robot/hw"

	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// PWMOut is the part of a pin the drive needs for speed. A periph gpio.PinIO
// satisfies it, and so does *SysfsPWM.
type PWMOut interface {
	PWM(duty gpio.Duty, f physic.Frequency) error
	Halt() error
}

// Pins are one motor's outputs.
type Pins struct {
	PWM      PWMOut
	In1, In2 gpio.PinOut
	// Invert swaps forward and backward (Motor.Invert).
	Invert bool
}

// Stats counts what the drive did, for logs and metrics.
type Stats struct {
	Commands      uint64 // accepted Set calls
	Clamped       uint64 // Set calls scaled down to the limits
	Rejected      uint64 // Set calls with NaN or infinite speeds
	AfterClose    uint64 // Set calls after Close, ignored
	Halts         uint64 // Halt calls, including the watchdog's
	WatchdogHalts uint64 // halts because Set went quiet
	PinErrors     uint64 // failed pin writes
}

// Option configures a Drive.
type Option func(*Drive)

// WithClock sets where the drive reads the time; the default is time.Now.
func WithClock(c hw.Clock) Option { return func(d *Drive) { d.now = c.Now } }

// WithLogger sets the logger; the default discards.
func WithLogger(l zerolog.Logger) Option { return func(d *Drive) { d.log = l } }

// WithStandby sets the TB6612FNG STBY pin: high while open, low on Close.
func WithStandby(p gpio.PinOut) Option { return func(d *Drive) { d.standby = p } }

var _ hw.Drive = (*Drive)(nil)

// Drive is a differential drive on an H-bridge. Its methods are safe for
// concurrent use: the pilot calls Set while Run updates the pins.
type Drive struct {
	updates     atomic.Uint64
	mu          sync.Mutex
	cfg         Config
	ramp        *Ramp
	left, right *motor
	standby     gpio.PinOut
	now         func() time.Time
	log         zerolog.Logger
	closed      bool
	stats       Stats
	freq        physic.Frequency
}

// motor remembers what was written last, so a steady speed does not rewrite
// the PWM (a rewrite makes periph's DMA PWM glitch).
type motor struct {
	Pins
	name    string
	written bool
	dir     int // -1, 0, +1 as written
	duty    gpio.Duty
}

// New makes a drive on the given pins and sets them to stopped. cfg must pass
// Validate.
func New(cfg Config, left, right Pins, opts ...Option) (*Drive, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("drive config: %w", err)
	}
	for _, p := range []struct {
		name string
		p    Pins
	}{{"left", left}, {"right", right}} {
		if p.p.PWM == nil || p.p.In1 == nil || p.p.In2 == nil {
			return nil, fmt.Errorf("drive: %s motor: PWM, In1 and In2 pins are required", p.name)
		}
	}
	d := &Drive{
		cfg:   cfg,
		ramp:  NewRamp(cfg),
		left:  &motor{Pins: left, name: "left"},
		right: &motor{Pins: right, name: "right"},
		now:   time.Now,
		log:   zerolog.Nop(),
		freq:  physic.Frequency(cfg.PWM.FrequencyHz) * physic.Hertz,
	}
	for _, o := range opts {
		o(d)
	}
	if err := d.haltPins(); err != nil {
		return nil, fmt.Errorf("drive: stop motors at start: %w", err)
	}
	if d.standby != nil {
		if err := d.standby.Out(gpio.High); err != nil {
			return nil, fmt.Errorf("drive: standby pin high: %w", err)
		}
	}
	return d, nil
}

// Set commands a linear (m/s, forward positive) and angular (rad/s,
// counter-clockwise positive) speed. The wheels get there at the configured
// acceleration on the following Updates. It also feeds the watchdog. Speeds
// beyond the limits are scaled down; NaN or Inf is rejected, counted, logged
// and treated as a stop, with an error. After Close, Set does nothing and
// returns ErrClosed. Clamping is not an error (see Stats).
func (d *Drive) Set(linearMps, angularRps float64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		d.stats.AfterClose++
		return ErrClosed
	}
	clamped, ok := d.ramp.Command(d.now(), linearMps, angularRps)
	if !ok {
		d.stats.Rejected++
		d.log.Warn().Float64("linear_mps", linearMps).Float64("angular_rps", angularRps).
			Msg("drive: rejected a non-finite speed command; stopping")
		return fmt.Errorf("drive: rejected speed command linear %v m/s angular %v rad/s: not finite; stopping", linearMps, angularRps)
	}
	d.stats.Commands++
	if clamped {
		d.stats.Clamped++
	}
	return nil
}

// ErrClosed is returned by Set after Close.
var ErrClosed = errors.New("drive: closed")

// Halt makes both motors inert at once: duty 0 and the direction pins in the
// stop mode. It always writes the pins, whatever they were, and may be called
// any number of times. A later Set moves again (from standstill). After Close
// the pins are released and already stopped, so Halt does nothing. A pin
// error is logged, counted and returned; the other pins are still written.
func (d *Drive) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	return d.haltLocked()
}

func (d *Drive) haltLocked() error {
	d.stats.Halts++
	d.ramp.Halt(d.now())
	if err := d.haltPins(); err != nil {
		d.log.Error().Err(err).Msg("drive: halt")
		return fmt.Errorf("drive: halt: %w", err)
	}
	return nil
}

// Update advances the ramp and the watchdog to the clock's now and writes the
// pins. Run calls it every Tick; call it yourself if you drive the loop.
func (d *Drive) Update() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	defer d.updates.Add(1)
	if d.closed {
		return nil
	}
	w, tripped := d.ramp.Step(d.now())
	if tripped {
		d.stats.WatchdogHalts++
		d.log.Warn().Dur("watchdog", d.cfg.Watchdog).Msg("drive: no command within the watchdog time; halting")
		d.stats.Halts++
		if err := d.haltPins(); err != nil {
			return fmt.Errorf("drive: watchdog halt: %w", err)
		}
		return nil
	}
	return errors.Join(d.apply(d.left, w.LeftMps), d.apply(d.right, w.RightMps))
}

// Run calls Update every Tick until ctx ends, then halts. Cancel ctx on
// SIGINT/SIGTERM (signal.NotifyContext) to stop the motors. Pin errors are
// logged and counted, and do not end Run: the watchdog and Halt still work.
func (d *Drive) Run(ctx context.Context) error {
	t := time.NewTicker(d.cfg.Tick)
	defer t.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return d.Halt()
		case <-t.C:
			if err := d.Update(); err != nil {
				// A broken pin fails every tick: log the first and every
				// hundredth, count them all (Stats.PinErrors).
				failures++
				if failures == 1 || failures%100 == 0 {
					d.log.Error().Err(err).Int("count", failures).Msg("drive: update")
				}
			}
		}
	}
}

// Close halts, puts a TB6612 into standby, releases the pins, and makes every
// later Set a no-op. It is idempotent.
func (d *Drive) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	errs := []error{d.haltLocked()}
	d.closed = true
	for _, m := range []*motor{d.left, d.right} {
		// Releases a periph PWM (DMA or clock) or disables a sysfs channel.
		if err := m.PWM.Halt(); err != nil {
			errs = append(errs, fmt.Errorf("drive: %s motor: release pwm: %w", m.name, err))
		}
	}
	if d.standby != nil {
		if err := d.standby.Out(gpio.Low); err != nil {
			errs = append(errs, fmt.Errorf("drive: standby pin low: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Wheels returns the wheel speeds now applied (after clamping and ramping):
// what dead reckoning should integrate.
func (d *Drive) Wheels() Wheels {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ramp.Current()
}

// Velocity returns the applied linear (m/s) and angular (rad/s) speed.
func (d *Drive) Velocity() (linearMps, angularRps float64) {
	return d.Wheels().Velocity(d.cfg.WheelBaseM)
}

// Updates is how many ramp and watchdog steps have run (Update calls): a
// drive whose loop hangs, or whose pin write never returns, stops counting
// (the robot's systemd watchdog watches it).
func (d *Drive) Updates() uint64 { return d.updates.Load() }

// Stats returns a copy of the counters.
func (d *Drive) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

// haltPins writes duty 0 and the stop levels to both motors, unconditionally.
func (d *Drive) haltPins() error {
	var errs []error
	for _, m := range []*motor{d.left, d.right} {
		m.written = false // force the write
		if err := d.write(m, 0, 0); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// apply turns a signed wheel speed into direction levels and a duty.
func (d *Drive) apply(m *motor, mps float64) error {
	dir := 0
	switch {
	case mps > 0:
		dir = 1
	case mps < 0:
		dir = -1
	}
	if m.Invert {
		dir = -dir
	}
	var duty gpio.Duty
	if dir != 0 {
		frac := d.cfg.MinDuty + (1-d.cfg.MinDuty)*math.Abs(mps)/d.cfg.MaxWheelMps
		duty = gpio.Duty(math.Round(math.Min(frac, 1) * float64(gpio.DutyMax)))
	}
	if m.written && m.dir == dir && m.duty == duty {
		return nil
	}
	return d.write(m, dir, duty)
}

// write sets the direction pins, then the duty. When the direction changes
// the duty drops to 0 first, so the bridge never drives the old direction
// with the new duty.
func (d *Drive) write(m *motor, dir int, duty gpio.Duty) error {
	fail := func(what string, err error) error {
		d.stats.PinErrors++
		m.written = false
		return fmt.Errorf("%s motor: %s: %w", m.name, what, err)
	}
	if m.written && m.dir != dir && m.duty != 0 {
		if err := m.PWM.PWM(0, d.freq); err != nil {
			return fail("duty 0 before reversing", err)
		}
	}
	l1, l2 := gpio.Low, gpio.Low
	switch {
	case dir > 0:
		l1 = gpio.High
	case dir < 0:
		l2 = gpio.High
	case d.cfg.Stop == StopBrake:
		l1, l2 = gpio.High, gpio.High
	}
	if err := m.In1.Out(l1); err != nil {
		return fail("in1", err)
	}
	if err := m.In2.Out(l2); err != nil {
		return fail("in2", err)
	}
	if err := m.PWM.PWM(duty, d.freq); err != nil {
		return fail("pwm", err)
	}
	m.written, m.dir, m.duty = true, dir, duty
	return nil
}
