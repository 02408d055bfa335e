package sim

import (
	"math"
	"testing"
	"time"
)

func TestStraightLine(t *testing.T) {
	cases := []struct {
		desc string
		v    float64
		dur  time.Duration
		dt   time.Duration
	}{
		{"full speed forward", 0.25, 4 * time.Second, 10 * time.Millisecond},
		{"slow forward, odd step", 0.1, 3 * time.Second, 7 * time.Millisecond},
		{"backward", -0.2, 2 * time.Second, 10 * time.Millisecond},
		{"one big step", 0.25, 2 * time.Second, 2 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			w := newWorld(t, Config{PhysicsDt: c.dt})
			r := mustAdd(t, w, "r", Pose{XM: -1, ThetaRad: 0})
			if err := r.Set(c.v, 0); err != nil {
				t.Fatal(err)
			}
			w.Step(c.dur)
			a := w.Config().MaxAccelMps2
			ts := c.dur.Seconds()
			// Ramp up at a, then cruise: v·t − v²/(2a).
			want := c.v*ts - math.Copysign(c.v*c.v/(2*a), c.v)
			p := r.Pose()
			if !near(p.XM-(-1), want, 1e-9) || p.YM != 0 || p.ThetaRad != 0 {
				t.Errorf("after %v at %v m/s: pose %+v, want x moved by %.6f", c.dur, c.v, p, want)
			}
			if v, _ := r.Speed(); v != c.v {
				t.Errorf("speed %v, want %v", v, c.v)
			}
		})
	}
}

func TestTurnInPlace(t *testing.T) {
	for _, om := range []float64{1, -1.5, 2} {
		w := newWorld(t, Config{})
		r := mustAdd(t, w, "r", Pose{XM: 0.3, YM: -0.2, ThetaRad: 0.1})
		_ = r.Set(0, om)
		w.Step(1500 * time.Millisecond)
		alpha := w.Config().MaxTurnAccelRps2
		want := wrap(0.1 + om*1.5 - math.Copysign(om*om/(2*alpha), om))
		p := r.Pose()
		if !near(wrap(p.ThetaRad-want), 0, 1e-9) || p.XM != 0.3 || p.YM != -0.2 {
			t.Errorf("ω=%v for 1.5 s: pose %+v, want heading %.6f at (0.3, -0.2)", om, p, want)
		}
	}
}

func TestArcKeepsRadius(t *testing.T) {
	w := newWorld(t, Config{})
	r := mustAdd(t, w, "r", Pose{})
	// Reach the constant speeds first, then the robot runs on a circle of
	// radius v/ω; its centre is fixed.
	_ = r.Set(0.2, 1)
	w.Step(time.Second)
	p := r.Pose()
	cx, cy := p.XM-0.2*math.Sin(p.ThetaRad), p.YM+0.2*math.Cos(p.ThetaRad)
	for i := 0; i < 50; i++ {
		w.Step(130 * time.Millisecond)
		q := r.Pose()
		if d := math.Hypot(q.XM-cx, q.YM-cy); !near(d, 0.2, 1e-9) {
			t.Fatalf("step %d: %.12f m from the arc's centre, want 0.2", i, d)
		}
	}
}

func TestAccelerationLimits(t *testing.T) {
	w := newWorld(t, Config{})
	c := w.Config()
	r := mustAdd(t, w, "r", Pose{XM: -1.2})
	dt := 10 * time.Millisecond
	cmds := []struct {
		v, om float64
		steps int
	}{
		{10, 10, 100}, // clamped to the maxima
		{-0.25, -2, 100},
		{0.1, 0.5, 50},
	}
	pv, pom := 0.0, 0.0
	for _, cmd := range cmds {
		_ = r.Set(cmd.v, cmd.om)
		for i := 0; i < cmd.steps; i++ {
			w.Step(dt)
			v, om := r.Speed()
			if math.Abs(v) > c.MaxSpeedMps || math.Abs(om) > c.MaxTurnRps {
				t.Fatalf("speed (%v, %v) above the limits", v, om)
			}
			dv := math.Abs(v - pv)
			dom := math.Abs(om - pom)
			maxDv := math.Max(c.MaxAccelMps2, c.BrakeDecelMps2) * dt.Seconds()
			if math.Abs(v) > math.Abs(pv) && v*pv >= 0 {
				maxDv = c.MaxAccelMps2 * dt.Seconds()
			}
			maxDom := math.Max(c.MaxTurnAccelRps2, c.BrakeTurnDecelRps2) * dt.Seconds()
			if math.Abs(om) > math.Abs(pom) && om*pom >= 0 {
				maxDom = c.MaxTurnAccelRps2 * dt.Seconds()
			}
			if dv > maxDv+1e-12 || dom > maxDom+1e-12 {
				t.Fatalf("command %+v step %d: speed jumped by (%v, %v), limits (%v, %v)", cmd, i, dv, dom, maxDv, maxDom)
			}
			pv, pom = v, om
		}
	}
	if tv, tom := r.Target(); tv != 0.1 || tom != 0.5 {
		t.Errorf("target (%v, %v), want (0.1, 0.5)", tv, tom)
	}
}

func TestHaltBrakes(t *testing.T) {
	w := newWorld(t, Config{})
	c := w.Config()
	r := mustAdd(t, w, "r", Pose{XM: -1})
	_ = r.Set(0.25, 0)
	w.Step(2 * time.Second)
	x0 := r.Pose().XM
	_ = r.Halt()
	w.Step(time.Second)
	if v, om := r.Speed(); v != 0 || om != 0 {
		t.Fatalf("speed (%v, %v) a second after Halt", v, om)
	}
	want := 0.25 * 0.25 / (2 * c.BrakeDecelMps2)
	if got := r.Pose().XM - x0; !near(got, want, 1e-9) {
		t.Errorf("braking distance %.6f m, want %.6f", got, want)
	}
}

func TestSetRefusesNonFinite(t *testing.T) {
	w := newWorld(t, Config{})
	r := mustAdd(t, w, "r", Pose{})
	_ = r.Set(0.1, 0.2)
	for _, cmd := range [][2]float64{{math.NaN(), 0}, {0, math.Inf(-1)}} {
		if err := r.Set(cmd[0], cmd[1]); err == nil {
			t.Errorf("Set(%v, %v) accepted", cmd[0], cmd[1])
		}
	}
	if r.Rejected() != 2 {
		t.Errorf("Rejected() = %d, want 2", r.Rejected())
	}
	if v, om := r.Target(); v != 0.1 || om != 0.2 {
		t.Errorf("target changed to (%v, %v) by refused commands", v, om)
	}
}

func TestRamp(t *testing.T) {
	cases := []struct {
		desc                  string
		v, target, acc, brk   float64
		dt, wantV, wantIntegr float64
	}{
		{"accelerate within the step", 0, 1, 1, 4, 0.5, 0.5, 0.125},
		{"accelerate then cruise", 0, 1, 1, 4, 2, 1, 1.5},
		{"brake to zero then stand", 1, 0, 1, 4, 1, 0, 0.125},
		{"reverse: brake then accelerate", 1, -1, 1, 4, 1.25, -1, 0.125 - 0.5},
		{"slow down to a lower speed", 1, 0.5, 1, 4, 1, 0.5, 0.75*0.125 + 0.5*0.875},
		{"already there", 0.3, 0.3, 1, 4, 2, 0.3, 0.6},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			v, s := ramp(c.v, c.target, c.acc, c.brk, c.dt)
			if !near(v, c.wantV, 1e-12) || !near(s, c.wantIntegr, 1e-12) {
				t.Errorf("ramp = (%v, %v), want (%v, %v)", v, s, c.wantV, c.wantIntegr)
			}
		})
	}
}
