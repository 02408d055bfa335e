package sim

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"collaborate/robot/hw"
	"collaborate/topics"
)

var (
	_ hw.Clock = clock{}
	_ hw.Drive = (*Robot)(nil)
)

func TestDefaultStarts(t *testing.T) {
	for _, n := range []int{1, 2, 5, 12, 13, 30, 50} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			w := newWorld(t, Config{})
			ids := make([]string, n)
			for i := range ids {
				ids[i] = fmt.Sprintf("r%d", i)
			}
			rs, err := w.AddRobots(ids...)
			if err != nil {
				t.Fatalf("AddRobots(%d): %v", n, err)
			}
			if p := rs[0].Pose(); p != (Pose{}) {
				t.Errorf("first robot at %+v, want the centre", p)
			}
			for i, r := range rs[1:] {
				p := r.Pose()
				d := math.Hypot(p.XM, p.YM)
				if d > 1.2+1e-12 || d < 0.25 {
					t.Errorf("robot %d at %.3f m from the centre", i+1, d)
				}
				if e := wrap(p.ThetaRad - math.Atan2(-p.YM, -p.XM)); !near(e, 0, 1e-12) {
					t.Errorf("robot %d does not face the centre (off by %v)", i+1, e)
				}
			}
			// AddRobot refuses overlaps, so placement succeeded without any;
			// stepping idle robots must count none.
			w.Step(time.Second)
			if w.CollisionCount() != 0 || len(w.WallContacts()) != 0 {
				t.Errorf("idle default fleet: %d collisions, %d wall contacts", w.CollisionCount(), len(w.WallContacts()))
			}
		})
	}
	w := newWorld(t, Config{})
	if _, err := w.DefaultStarts(500); err == nil {
		t.Error("500 robots fit a 3 m arena")
	}
}

// trace runs a fleet of wandering robots and hashes everything observable:
// every detection and the final truth.
func trace(t testing.TB, seed int64) (uint64, topics.World) {
	w := newWorld(t, Config{Seed: seed})
	ids := make([]string, 10)
	for i := range ids {
		ids[i] = fmt.Sprintf("r%d", i)
	}
	rs, err := w.AddRobots(ids...)
	if err != nil {
		t.Fatal(err)
	}
	h := fnv.New64a()
	if err := w.Every(50*time.Millisecond, func(now time.Time) {
		for _, r := range rs {
			ds, _ := r.Detect()
			for _, d := range ds {
				fmt.Fprintf(h, "%d %x %x %d;", d.MarkerID, math.Float64bits(d.DistanceM), math.Float64bits(d.BearingRad), d.At.UnixNano())
			}
			wander(r, ds)
		}
	}); err != nil {
		t.Fatal(err)
	}
	w.Step(20 * time.Second)
	tr := w.Truth()
	for _, p := range tr.Robots {
		fmt.Fprintf(h, "%s %x %x %x;", p.Robot, math.Float64bits(p.XM), math.Float64bits(p.YM), math.Float64bits(p.ThetaRad))
	}
	fmt.Fprint(h, tr.Collisions, len(w.WallContacts()))
	return h.Sum64(), tr
}

func TestDeterminism(t *testing.T) {
	h1, tr1 := trace(t, 7)
	h2, _ := trace(t, 7)
	h3, tr3 := trace(t, 8)
	if h1 != h2 {
		t.Errorf("same seed, different traces: %x != %x", h1, h2)
	}
	if h1 == h3 {
		t.Errorf("different seeds gave the same trace %x", h1)
	}
	moved := 0
	for i := range tr1.Robots {
		if tr1.Robots[i] != tr3.Robots[i] {
			moved++
		}
	}
	if moved == 0 {
		t.Error("noise did not change any trajectory; the trace proves nothing")
	}
}

func TestEveryFiresAtExactTimes(t *testing.T) {
	w := newWorld(t, Config{PhysicsDt: 30 * time.Millisecond})
	var ticks, truths []time.Duration
	var seqs []uint64
	if err := w.Every(50*time.Millisecond, func(now time.Time) { ticks = append(ticks, now.Sub(DefaultStart)) }); err != nil {
		t.Fatal(err)
	}
	if err := w.TruthEvery(TruthPeriod, func(m topics.World) {
		if err := m.Validate(); err != nil {
			t.Errorf("truth invalid: %v", err)
		}
		truths = append(truths, m.TS.Sub(DefaultStart))
		seqs = append(seqs, m.Seq)
		if m.SimTimeS != m.TS.Sub(DefaultStart).Seconds() {
			t.Errorf("sim time %v at %v", m.SimTimeS, m.TS)
		}
	}); err != nil {
		t.Fatal(err)
	}
	w.Step(time.Second)
	w.Step(5 * time.Millisecond) // not yet due
	if len(ticks) != 20 || len(truths) != 10 {
		t.Fatalf("%d ticks and %d truths in 1 s, want 20 and 10", len(ticks), len(truths))
	}
	for i, d := range ticks {
		if d != time.Duration(i+1)*50*time.Millisecond {
			t.Errorf("tick %d at %v", i, d)
		}
	}
	for i, d := range truths {
		if d != time.Duration(i+1)*100*time.Millisecond || seqs[i] != uint64(i+1) {
			t.Errorf("truth %d at %v seq %d", i, d, seqs[i])
		}
	}
	if err := w.Every(0, func(time.Time) {}); err == nil {
		t.Error("Every accepted a zero period")
	}
}

func TestTruth(t *testing.T) {
	w := newWorld(t, Config{})
	r := mustAdd(t, w, "r0", Pose{XM: 0.1, YM: 0.2, ThetaRad: 0.3})
	_ = r.Set(0.2, 0)
	w.Step(time.Second)
	m := w.Truth()
	if err := m.Validate(); err != nil {
		t.Fatalf("truth invalid: %v", err)
	}
	b, err := topics.Encode(&m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := topics.DecodeWorld(b)
	if err != nil {
		t.Fatalf("truth does not decode: %v", err)
	}
	p := r.Pose()
	if back.Sender != Sender || back.SimTimeS != 1 || back.DiameterM != 3 || len(back.Robots) != 1 ||
		back.Robots[0].XM != p.XM || !near(back.Robots[0].SpeedMps, 0.2, 1e-9) {
		t.Errorf("truth %+v, want robot r0 at %+v moving at 0.2", back, p)
	}
}

func TestRunRealTime(t *testing.T) {
	cases := []struct {
		desc  string
		scale float64
		wall  time.Duration
	}{
		{"real time", 1, time.Second},
		{"ten times faster", 10, 2 * time.Second},
		{"half speed", 0.5, 4 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t, Config{})
				r := mustAdd(t, w, "r", Pose{})
				ticks := 0
				_ = w.Every(50*time.Millisecond, func(time.Time) { ticks++; _ = r.Set(0.1, 0) })
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan error)
				wallTicks := 0
				go func() {
					done <- w.Run(ctx, RunConfig{TimeScale: c.scale, OnTick: func(time.Time) { wallTicks++ }})
				}()
				time.Sleep(c.wall) // fake time inside the bubble
				synctest.Wait()
				want := time.Duration(float64(c.wall) * c.scale)
				if got := w.Elapsed(); got != want {
					t.Errorf("after %v of wall time at ×%v: %v of sim time, want %v", c.wall, c.scale, got, want)
				}
				if ticks != int(want/(50*time.Millisecond)) {
					t.Errorf("%d control ticks in %v", ticks, want)
				}
				if wallTicks != int(c.wall/(20*time.Millisecond)) {
					t.Errorf("%d wall ticks in %v at 50 Hz", wallTicks, c.wall)
				}
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Run returned %v", err)
				}
			})
		})
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	w := newWorld(t, Config{})
	for _, rc := range []RunConfig{{TimeScale: -1}, {TickHz: math.NaN()}, {MaxLag: -time.Second}} {
		if err := w.Run(t.Context(), rc); err == nil {
			t.Errorf("Run(%+v) accepted", rc)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	// Pilots in their own goroutines while Run steps: run with -race.
	w := newWorld(t, Config{})
	rs, err := w.AddRobots("a", "b", "c")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				ds, _ := r.Detect()
				wander(r, ds)
				_ = w.Clock().Now()
				_ = w.Truth()
			}
			_ = r.Halt()
		}()
	}
	for i := 0; i < 200; i++ {
		w.Step(10 * time.Millisecond)
	}
	wg.Wait()
	if w.Elapsed() != 2*time.Second {
		t.Errorf("elapsed %v, want 2s", w.Elapsed())
	}
}
