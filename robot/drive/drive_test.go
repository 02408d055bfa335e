package drive

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/physic"

	"collaborate/robot/hw/hwtest"
)

// newClock is a clock the test moves by hand.
func newClock() *hwtest.Clock       { return hwtest.NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)) }
func duty(frac float64) gpio.Duty   { return gpio.Duty(math.Round(frac * float64(gpio.DutyMax))) }
func pin(name string) *gpiotest.Pin { return &gpiotest.Pin{N: name} }
func motorPins(p string) (pwm, in1, in2 *gpiotest.Pin) {
	return pin(p + "_PWM"), pin(p + "_IN1"), pin(p + "_IN2")
}

// testConfig: wheel base 0.2 m, so angular 1 rad/s gives ±0.1 m/s at the
// wheels; full duty at 0.5 m/s.
func testConfig() Config {
	c := Defaults()
	c.WheelBaseM = 0.2
	c.MaxWheelMps = 0.5
	c.MaxLinearMps = 0.4
	c.MaxAngularRps = 3
	c.MaxAccelMps2 = 1
	c.Tick = 20 * time.Millisecond
	c.Watchdog = 300 * time.Millisecond
	return c
}

type rig struct {
	d                *Drive
	clk              *hwtest.Clock
	lPWM, lIn1, lIn2 *gpiotest.Pin
	rPWM, rIn1, rIn2 *gpiotest.Pin
}

func newRig(t *testing.T, cfg Config) *rig {
	t.Helper()
	r := &rig{clk: newClock()}
	r.lPWM, r.lIn1, r.lIn2 = motorPins("L")
	r.rPWM, r.rIn1, r.rIn2 = motorPins("R")
	d, err := New(cfg,
		Pins{PWM: r.lPWM, In1: r.lIn1, In2: r.lIn2, Invert: cfg.Left.Invert},
		Pins{PWM: r.rPWM, In1: r.rIn1, In2: r.rIn2, Invert: cfg.Right.Invert},
		WithClock(r.clk))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	r.d = d
	return r
}

// drive commands (lin, ang) every tick for dur, as a pilot would, updating
// the pins after each tick.
func (r *rig) drive(t *testing.T, lin, ang float64, dur time.Duration) {
	t.Helper()
	for el := time.Duration(0); el < dur; el += r.d.cfg.Tick {
		if err := r.d.Set(lin, ang); err != nil {
			t.Fatalf("Set(%v, %v): %v", lin, ang, err)
		}
		r.clk.Advance(r.d.cfg.Tick)
		if err := r.d.Update(); err != nil {
			t.Fatalf("Update: %v", err)
		}
	}
}

// motorState is what one motor's pins say: direction by the levels, and duty.
type motorState struct {
	In1, In2 gpio.Level
	Duty     gpio.Duty
}

func (r *rig) state() (l, rt motorState) {
	return motorState{r.lIn1.Read(), r.lIn2.Read(), dutyOf(r.lPWM)},
		motorState{r.rIn1.Read(), r.rIn2.Read(), dutyOf(r.rPWM)}
}

// dutyOf reads a fake pin's duty under its lock, as Run writes it from
// another goroutine.
func dutyOf(p *gpiotest.Pin) gpio.Duty {
	p.Lock()
	defer p.Unlock()
	return p.D
}

var (
	fwd   = func(d gpio.Duty) motorState { return motorState{gpio.High, gpio.Low, d} }
	back  = func(d gpio.Duty) motorState { return motorState{gpio.Low, gpio.High, d} }
	brake = motorState{gpio.High, gpio.High, 0}
	coast = motorState{gpio.Low, gpio.Low, 0}
)

// closeDuty allows one step of duty rounding.
func closeDuty(a, b gpio.Duty) bool { return a-b <= 1 && b-a <= 1 }

func sameState(a, b motorState) bool {
	return a.In1 == b.In1 && a.In2 == b.In2 && closeDuty(a.Duty, b.Duty)
}

func TestSteadyPins(t *testing.T) {
	tests := []struct {
		desc        string
		mutate      func(*Config)
		lin, ang    float64
		left, right motorState
		clamped     bool
	}{
		{desc: "forward", lin: 0.25, left: fwd(duty(0.5)), right: fwd(duty(0.5))},
		{desc: "backward", lin: -0.25, left: back(duty(0.5)), right: back(duty(0.5))},
		{desc: "spin left in place", ang: 2, left: back(duty(0.4)), right: fwd(duty(0.4))},
		{desc: "spin right in place", ang: -2, left: fwd(duty(0.4)), right: back(duty(0.4))},
		{desc: "arc left", lin: 0.2, ang: 1, left: fwd(duty(0.2)), right: fwd(duty(0.6))},
		{desc: "linear clamped to max_linear_mps", lin: 1.0, left: fwd(duty(0.8)), right: fwd(duty(0.8)), clamped: true},
		{desc: "angular clamped to max_angular_rps", ang: 10, left: back(duty(0.6)), right: fwd(duty(0.6)), clamped: true},
		// 0.4 ± 0.3 = 0.1, 0.7; scaled by 0.5/0.7 keeps the radius.
		{desc: "wheel clamped to max_wheel_mps keeps the radius", lin: 0.4, ang: 3,
			left: fwd(duty(0.1 / 0.7)), right: fwd(duty(1)), clamped: true},
		{desc: "left motor inverted", mutate: func(c *Config) { c.Left.Invert = true },
			lin: 0.25, left: back(duty(0.5)), right: fwd(duty(0.5))},
		{desc: "right motor inverted, backward", mutate: func(c *Config) { c.Right.Invert = true },
			lin: -0.25, left: back(duty(0.5)), right: fwd(duty(0.5))},
		{desc: "min duty lifts small speeds", mutate: func(c *Config) { c.MinDuty = 0.3 },
			lin: 0.25, left: fwd(duty(0.65)), right: fwd(duty(0.65))},
		{desc: "zero brakes", lin: 0, left: brake, right: brake},
		{desc: "zero coasts", mutate: func(c *Config) { c.Stop = StopCoast }, left: coast, right: coast},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			cfg := testConfig()
			if tc.mutate != nil {
				tc.mutate(&cfg)
			}
			r := newRig(t, cfg)
			r.drive(t, tc.lin, tc.ang, time.Second)
			l, rt := r.state()
			if !sameState(l, tc.left) {
				t.Errorf("left = %+v, want %+v", l, tc.left)
			}
			if !sameState(rt, tc.right) {
				t.Errorf("right = %+v, want %+v", rt, tc.right)
			}
			if got := r.d.Stats().Clamped > 0; got != tc.clamped {
				t.Errorf("clamped = %v, want %v", got, tc.clamped)
			}
			if r.lPWM.F != physic.KiloHertz || r.rPWM.F != physic.KiloHertz {
				t.Errorf("pwm frequency = %v, %v, want 1kHz", r.lPWM.F, r.rPWM.F)
			}
		})
	}
}

func TestRampLimitsAcceleration(t *testing.T) {
	// max_accel_mps2 = 1: each 20 ms tick adds at most 0.02 m/s.
	tests := []struct {
		desc      string
		before    float64 // linear speed held for 1 s first
		lin, ang  float64
		after     time.Duration
		wantLeft  float64 // m/s
		wantRight float64
	}{
		{desc: "one tick from rest", lin: 0.4, after: 20 * time.Millisecond, wantLeft: 0.02, wantRight: 0.02},
		{desc: "200 ms from rest", lin: 0.4, after: 200 * time.Millisecond, wantLeft: 0.2, wantRight: 0.2},
		{desc: "reaches the target and stays", lin: 0.4, after: time.Second, wantLeft: 0.4, wantRight: 0.4},
		{desc: "slows down at the same rate", before: 0.4, lin: 0, after: 100 * time.Millisecond, wantLeft: 0.3, wantRight: 0.3},
		{desc: "reversing passes through zero", before: 0.1, lin: -0.1, after: 160 * time.Millisecond, wantLeft: -0.06, wantRight: -0.06},
		// Target wheels 0.1 and 0.3: the faster one ramps at the limit, the
		// other in proportion, so the turning radius holds during the ramp.
		{desc: "arc ramps both wheels together", lin: 0.2, ang: 1, after: 60 * time.Millisecond, wantLeft: 0.02, wantRight: 0.06},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			r := newRig(t, testConfig())
			if tc.before != 0 {
				r.drive(t, tc.before, 0, time.Second)
			}
			r.drive(t, tc.lin, tc.ang, tc.after)
			w := r.d.Wheels()
			if math.Abs(w.LeftMps-tc.wantLeft) > 1e-9 || math.Abs(w.RightMps-tc.wantRight) > 1e-9 {
				t.Fatalf("wheels = %+v, want left %v right %v", w, tc.wantLeft, tc.wantRight)
			}
			l, _ := r.state()
			if want := duty(math.Abs(tc.wantLeft) / 0.5); !closeDuty(l.Duty, want) {
				t.Errorf("left duty = %d, want %d", l.Duty, want)
			}
		})
	}
}

func TestLongPauseDoesNotJump(t *testing.T) {
	r := newRig(t, testConfig())
	r.clk.Advance(time.Hour) // idle: nothing happened for an hour
	if err := r.d.Set(0.4, 0); err != nil {
		t.Fatal(err)
	}
	r.clk.Advance(20 * time.Millisecond)
	if err := r.d.Update(); err != nil {
		t.Fatal(err)
	}
	if w := r.d.Wheels(); math.Abs(w.LeftMps-0.02) > 1e-9 {
		t.Fatalf("first tick after a pause: left %v m/s, want 0.02", w.LeftMps)
	}
}

func TestHalt(t *testing.T) {
	tests := []struct {
		desc string
		stop string
		want motorState
	}{
		{"brake", StopBrake, brake},
		{"coast", StopCoast, coast},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			cfg := testConfig()
			cfg.Stop = tc.stop
			r := newRig(t, cfg)
			r.drive(t, 0.3, 0.5, time.Second)
			for i := range 3 { // idempotent
				if err := r.d.Halt(); err != nil {
					t.Fatalf("Halt #%d: %v", i, err)
				}
				l, rt := r.state()
				if !sameState(l, tc.want) || !sameState(rt, tc.want) {
					t.Fatalf("after Halt #%d: left %+v right %+v, want %+v", i, l, rt, tc.want)
				}
			}
			// Halt is immediate, not ramped; the next tick keeps it off.
			r.clk.Advance(cfg.Tick)
			if err := r.d.Update(); err != nil {
				t.Fatal(err)
			}
			if w := r.d.Wheels(); w != (Wheels{}) {
				t.Fatalf("wheels after halt = %+v", w)
			}
			if l, _ := r.state(); !sameState(l, tc.want) {
				t.Fatalf("tick after Halt: left %+v", l)
			}
			// A new command moves again, from standstill.
			r.drive(t, 0.25, 0, time.Second)
			if l, _ := r.state(); !sameState(l, fwd(duty(0.5))) {
				t.Fatalf("after Halt and Set: left %+v", l)
			}
		})
	}
}

func TestWatchdog(t *testing.T) {
	cfg := testConfig()
	r := newRig(t, cfg)
	r.drive(t, 0.25, 0, time.Second)
	// The pilot goes silent; ticks continue.
	tick := func() {
		r.clk.Advance(cfg.Tick)
		if err := r.d.Update(); err != nil {
			t.Fatal(err)
		}
	}
	silent := cfg.Tick // the last Set was one tick ago
	for silent+cfg.Tick < cfg.Watchdog {
		tick()
		silent += cfg.Tick
		if l, _ := r.state(); !sameState(l, fwd(duty(0.5))) {
			t.Fatalf("silent %v (< watchdog %v): left %+v, want still driving", silent, cfg.Watchdog, l)
		}
	}
	tick()
	l, rt := r.state()
	if !sameState(l, brake) || !sameState(rt, brake) {
		t.Fatalf("silent %v: left %+v right %+v, want halted", silent+cfg.Tick, l, rt)
	}
	for range 10 {
		tick()
	}
	if got := r.d.Stats().WatchdogHalts; got != 1 {
		t.Fatalf("WatchdogHalts = %d, want 1 per silence", got)
	}
	r.drive(t, -0.25, 0, time.Second)
	if l, _ := r.state(); !sameState(l, back(duty(0.5))) {
		t.Fatalf("after the watchdog, a new Set drives again: left %+v", l)
	}
}

func TestRejectsNonFinite(t *testing.T) {
	for _, tc := range []struct {
		desc     string
		lin, ang float64
	}{
		{"NaN linear", math.NaN(), 0},
		{"Inf angular", 0.1, math.Inf(1)},
		{"-Inf linear", math.Inf(-1), 0},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			r := newRig(t, testConfig())
			r.drive(t, 0.25, 0, time.Second)
			err := r.d.Set(tc.lin, tc.ang)
			if err == nil || !strings.Contains(err.Error(), "not finite") {
				t.Fatalf("Set(%v, %v) = %v, want a not-finite rejection", tc.lin, tc.ang, err)
			}
			if got := r.d.Stats().Rejected; got != 1 {
				t.Fatalf("Rejected = %d, want 1", got)
			}
			if tg := r.d.ramp.Target(); tg != (Wheels{}) {
				t.Fatalf("target after rejection = %+v, want a stop", tg)
			}
		})
	}
}

func TestClose(t *testing.T) {
	r := newRig(t, testConfig())
	r.drive(t, 0.25, 0, time.Second)
	if err := r.d.Close(); err != nil {
		t.Fatal(err)
	}
	l, rt := r.state()
	if !sameState(l, brake) || !sameState(rt, brake) {
		t.Fatalf("after Close: left %+v right %+v", l, rt)
	}
	if err := r.d.Set(0.25, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Set after Close = %v, want ErrClosed", err)
	}
	r.clk.Advance(time.Second)
	if err := r.d.Update(); err != nil {
		t.Fatal(err)
	}
	if l, _ := r.state(); l.Duty != 0 {
		t.Fatalf("duty after Close and Set = %d", l.Duty)
	}
	if err := r.d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := r.d.Halt(); err != nil {
		t.Fatalf("Halt after Close: %v", err)
	}
}

// failPin fails every write, like a pin whose line was taken away.
type failPin struct{ *gpiotest.Pin }

func (failPin) Out(gpio.Level) error { return errors.New("line busy") }

func TestPinErrorsAreReportedAndCounted(t *testing.T) {
	cfg := testConfig()
	lPWM, lIn1, lIn2 := motorPins("L")
	rPWM, rIn1, rIn2 := motorPins("R")
	_, err := New(cfg, Pins{PWM: lPWM, In1: failPin{lIn1}, In2: lIn2}, Pins{PWM: rPWM, In1: rIn1, In2: rIn2})
	if err == nil || !strings.Contains(err.Error(), "left motor: in1: line busy") {
		t.Fatalf("New with a failing pin = %v, want the left in1 error", err)
	}
	// The other motor was still stopped.
	if rIn1.Read() != gpio.High || rIn2.Read() != gpio.High || rPWM.D != 0 {
		t.Fatalf("right motor not braked: %v %v %d", rIn1.Read(), rIn2.Read(), rPWM.D)
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	p := pin("P")
	for _, tc := range []struct {
		desc        string
		cfg         Config
		left, right Pins
		want        string
	}{
		{"missing pin", testConfig(), Pins{PWM: p, In1: p}, Pins{PWM: p, In1: p, In2: p}, "left motor"},
		{"bad config", func() Config { c := testConfig(); c.WheelBaseM = 0; return c }(),
			Pins{PWM: p, In1: p, In2: p}, Pins{PWM: p, In1: p, In2: p}, "wheel_base_m"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := New(tc.cfg, tc.left, tc.right)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want an error about %s", err, tc.want)
			}
		})
	}
}

func TestVelocity(t *testing.T) {
	r := newRig(t, testConfig())
	r.drive(t, 0.2, 1, time.Second)
	lin, ang := r.d.Velocity()
	if math.Abs(lin-0.2) > 1e-9 || math.Abs(ang-1) > 1e-9 {
		t.Fatalf("Velocity = %v, %v, want 0.2, 1", lin, ang)
	}
}

// flakyPin fails writes while fail is set.
type flakyPin struct {
	*gpiotest.Pin
	fail bool
}

func (p *flakyPin) Out(l gpio.Level) error {
	if p.fail {
		return errors.New("line busy")
	}
	return p.Pin.Out(l)
}

func TestUpdateCountsPinErrorsAndRecovers(t *testing.T) {
	cfg := testConfig()
	clk := newClock()
	lPWM, lIn1, lIn2 := motorPins("L")
	rPWM, rIn1, rIn2 := motorPins("R")
	flaky := &flakyPin{Pin: lIn1}
	d, err := New(cfg, Pins{PWM: lPWM, In1: flaky, In2: lIn2}, Pins{PWM: rPWM, In1: rIn1, In2: rIn2}, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	flaky.fail = true
	if err := d.Set(0.25, 0); err != nil {
		t.Fatal(err)
	}
	clk.Advance(cfg.Tick)
	if err := d.Update(); err == nil || !strings.Contains(err.Error(), "left motor: in1: line busy") {
		t.Fatalf("Update with a failing pin = %v", err)
	}
	if got := d.Stats().PinErrors; got != 1 {
		t.Fatalf("PinErrors = %d, want 1", got)
	}
	if rIn1.Read() != gpio.High || rIn2.Read() != gpio.Low || dutyOf(rPWM) == 0 {
		t.Fatal("the right motor should still be driven")
	}
	// The pin comes back: the next tick rewrites it.
	flaky.fail = false
	if err := d.Set(0.25, 0); err != nil {
		t.Fatal(err)
	}
	clk.Advance(cfg.Tick)
	if err := d.Update(); err != nil {
		t.Fatal(err)
	}
	if lIn1.Read() != gpio.High || lIn2.Read() != gpio.Low || dutyOf(lPWM) == 0 {
		t.Fatalf("left not driving after the pin recovered: %v %v %d", lIn1.Read(), lIn2.Read(), dutyOf(lPWM))
	}
}
