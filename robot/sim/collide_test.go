package sim

import (
	"math"
	"testing"
	"time"
)

func TestHeadOnCountedOncePerContact(t *testing.T) {
	w := newWorld(t, Config{})
	a := mustAdd(t, w, "a", Pose{XM: -0.5})
	b := mustAdd(t, w, "b", Pose{XM: 0.5, ThetaRad: math.Pi})
	_ = a.Set(0.2, 0)
	_ = b.Set(0.2, 0)
	w.Step(6 * time.Second) // they meet, then keep pushing for seconds
	cs := w.Collisions()
	if len(cs) != 1 {
		t.Fatalf("%d contacts while pushing into each other, want 1: %+v", len(cs), cs)
	}
	c := cs[0]
	if c.A != "a" || c.B != "b" || !c.End.IsZero() {
		t.Errorf("contact %+v, want a-b, ongoing", c)
	}
	// Each covers 0.5 − 0.09 m: 0.1 m ramping (1 s at 0.2 m/s with 0.5 m/s²
	// takes 0.4 s for 0.04 m), so they touch at 0.4 + (0.41−0.04)/0.2 s.
	wantAt := DefaultStart.Add(time.Duration((0.4 + (0.41-0.04)/0.2) * float64(time.Second)))
	if d := c.Start.Sub(wantAt); d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("contact at %v, want %v", c.Start, wantAt)
	}
	if !near(c.XM, 0, 1e-9) || !near(c.YM, 0, 1e-9) {
		t.Errorf("contact at (%v, %v), want the origin", c.XM, c.YM)
	}
	// The bodies do not pass through each other.
	if gap := b.Pose().XM - a.Pose().XM; gap < 0.18-1e-9 {
		t.Errorf("centres %.4f m apart: the discs interpenetrate", gap)
	}
	// Part, then meet again: a second contact.
	_ = a.Set(-0.2, 0)
	_ = b.Set(-0.2, 0)
	w.Step(2 * time.Second)
	if cs := w.Collisions(); len(cs) != 1 || cs[0].End.IsZero() {
		t.Fatalf("after parting: %+v, want one ended contact", cs)
	}
	_ = a.Set(0.2, 0)
	_ = b.Set(0.2, 0)
	w.Step(4 * time.Second)
	if n := w.CollisionCount(); n != 2 {
		t.Errorf("%d contacts after meeting twice, want 2", n)
	}
	if tr := w.Truth(); tr.Collisions != 2 {
		t.Errorf("truth says %d collisions, want 2", tr.Collisions)
	}
}

func TestPassing(t *testing.T) {
	cases := []struct {
		desc   string
		offset float64 // lateral distance between the two parallel tracks
		want   int
	}{
		{"safe distance", 0.25, 0},
		{"just clear", 0.1805, 0},
		{"overlapping tracks", 0.17, 1},
		{"same track", 0, 1},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			w := newWorld(t, Config{})
			a := mustAdd(t, w, "a", Pose{XM: -1, YM: c.offset / 2})
			b := mustAdd(t, w, "b", Pose{XM: 1, YM: -c.offset / 2, ThetaRad: math.Pi})
			_ = a.Set(0.25, 0)
			_ = b.Set(0.25, 0)
			w.Step(12 * time.Second)
			if n := w.CollisionCount(); n != c.want {
				t.Errorf("tracks %.4f m apart: %d contacts, want %d", c.offset, n, c.want)
			}
		})
	}
}

func TestGrazeWithinOneStep(t *testing.T) {
	// Fast robots, one coarse physics step: they start and end far apart and
	// only overlap in the middle of the step. Continuous collision detection
	// must see it.
	cases := []struct {
		desc   string
		offset float64
		want   int
	}{
		{"graze", 0.18 - 1e-6, 1},
		{"touch exactly", 0.18, 1},
		{"miss by a micron", 0.18 + 1e-6, 0},
		{"straight through", 0, 1},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			w := newWorld(t, Config{MaxSpeedMps: 5, MaxAccelMps2: 1e9, BrakeDecelMps2: 1e9, PhysicsDt: 400 * time.Millisecond})
			a := mustAdd(t, w, "a", Pose{XM: -1, YM: c.offset / 2})
			b := mustAdd(t, w, "b", Pose{XM: 1, YM: -c.offset / 2, ThetaRad: math.Pi})
			_ = a.Set(5, 0)
			_ = b.Set(5, 0)
			w.Step(400 * time.Millisecond)
			// They have swapped sides in one step.
			if pa := a.Pose(); pa.XM < 0.9 && c.offset > 0.1 {
				t.Fatalf("a at %+v, expected past b", pa)
			}
			cs := w.Collisions()
			if len(cs) != c.want {
				t.Fatalf("%d contacts, want %d: %+v", len(cs), c.want, cs)
			}
			if c.want == 1 && c.offset > 0.1 {
				if !near(cs[0].XM, 0, 1e-3) || !near(cs[0].YM, 0, 1e-9) {
					t.Errorf("graze at (%v, %v), want near the origin", cs[0].XM, cs[0].YM)
				}
				if d := cs[0].Start.Sub(DefaultStart.Add(200 * time.Millisecond)); d < -time.Millisecond || d > time.Millisecond {
					t.Errorf("graze at %v, want mid-step", cs[0].Start)
				}
			}
		})
	}
}

func TestFirstTouch(t *testing.T) {
	mk := func(x0, y0, x1, y1 float64) *Robot { return &Robot{x0: x0, y0: y0, x: x1, y: y1} }
	cases := []struct {
		desc  string
		a, b  *Robot
		ok    bool
		wantS float64
	}{
		{"overlapping at the start", mk(0, 0, 0, 0), mk(0.1, 0, 0.1, 0), true, 0},
		{"meet in the middle", mk(-1, 0, 0, 0), mk(1, 0, 0, 0), true, 0.91},
		{"moving apart", mk(-0.2, 0, -1, 0), mk(0, 0.5, 0, 0.5), false, 0},
		{"stop short", mk(-1, 0, 0.5, 0), mk(1, 0, 1, 0), false, 0},
		{"both still, apart", mk(0, 0, 0, 0), mk(1, 0, 1, 0), false, 0},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s, ok := firstTouch(c.a, c.b, 0.18)
			if ok != c.ok || (ok && !near(s, c.wantS, 1e-6)) {
				t.Errorf("firstTouch = %v, %v; want %v, %v", s, ok, c.wantS, c.ok)
			}
		})
	}
}

func TestWallClamp(t *testing.T) {
	w := newWorld(t, Config{})
	r := mustAdd(t, w, "r", Pose{ThetaRad: deg(30)})
	_ = r.Set(0.25, 0)
	w.Step(10 * time.Second)
	p := r.Pose()
	lim := 1.5 - 0.09
	if d := math.Hypot(p.XM, p.YM); !near(d, lim, 1e-12) {
		t.Fatalf("robot %.6f m from the centre after driving into the wall, want %v", d, lim)
	}
	ws := w.WallContacts()
	if len(ws) != 1 || ws[0].Robot != "r" || !ws[0].End.IsZero() {
		t.Fatalf("wall contacts %+v, want one ongoing", ws)
	}
	if w.CollisionCount() != 0 {
		t.Errorf("a wall contact counted as a collision")
	}
	if tr := w.Truth(); !near(tr.Robots[0].SpeedMps, 0, 1e-9) {
		t.Errorf("truth speed %v against the wall, want 0", tr.Robots[0].SpeedMps)
	}
	// Back away, then drive into the wall again.
	_ = r.Set(-0.25, 0)
	w.Step(2 * time.Second)
	_ = r.Set(0.25, 0)
	w.Step(4 * time.Second)
	ws = w.WallContacts()
	if len(ws) != 2 || ws[0].End.IsZero() || !ws[1].End.IsZero() {
		t.Errorf("wall contacts %+v, want one ended and one ongoing", ws)
	}
}

func TestPushIntoWall(t *testing.T) {
	// A robot pushed against the wall by another stays inside the arena and
	// the pair stays in one contact.
	w := newWorld(t, Config{})
	a := mustAdd(t, w, "a", Pose{XM: 0.8})
	b := mustAdd(t, w, "b", Pose{XM: 0.5})
	_ = b.Set(0.25, 0)
	w.Step(10 * time.Second)
	for _, r := range []*Robot{a, b} {
		if p := r.Pose(); math.Hypot(p.XM, p.YM) > 1.41+1e-9 {
			t.Errorf("%s at %+v, outside the arena", r.ID(), p)
		}
	}
	if n := w.CollisionCount(); n != 1 {
		t.Errorf("%d contacts, want 1", n)
	}
	if len(w.WallContacts()) != 1 {
		t.Errorf("wall contacts %+v, want a's", w.WallContacts())
	}
}
