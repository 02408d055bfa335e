package sim

import (
	"context"
	"fmt"
	"math"
	"time"
)

// RunConfig sets the real-time mode.
type RunConfig struct {
	// TimeScale is sim seconds per wall second: 1 is real time, 10 ten
	// times faster. Zero means 1.
	TimeScale float64
	// TickHz is how often, in wall time, the world is stepped. Zero means
	// 50. Each tick steps by the scaled wall time since the start, so slow
	// ticks do not make the sim clock drift.
	TickHz float64
	// MaxLag caps the sim time stepped in one tick (after a stall, e.g. a
	// suspended laptop), so that the world does not leap. Zero means ten
	// ticks' worth; the sim clock then falls behind instead.
	MaxLag time.Duration
	// OnTick, if set, is called after each wall tick's step with the sim
	// time, without the world's lock (like an Every hook, but on the wall
	// cadence: e.g. a dashboard refresh). It must not call Step.
	OnTick func(now time.Time)
}

// Run steps the world in real time, scaled, until ctx ends; it then returns
// nil. Pilots are ticked through Every (in sim time), or by their own
// goroutines against Clock. It returns an error at once for a bad RunConfig.
func (w *World) Run(ctx context.Context, rc RunConfig) error {
	if rc.TimeScale == 0 {
		rc.TimeScale = 1
	}
	if rc.TickHz == 0 {
		rc.TickHz = 50
	}
	if !(rc.TimeScale > 0) || math.IsInf(rc.TimeScale, 0) || !(rc.TickHz > 0) || math.IsInf(rc.TickHz, 0) || rc.MaxLag < 0 {
		return fmt.Errorf("sim run: time scale and tick rate must be positive and finite, max lag not negative: %+v", rc)
	}
	tick := time.Duration(float64(time.Second) / rc.TickHz)
	if tick <= 0 {
		return fmt.Errorf("sim run: tick rate %v Hz is too high", rc.TickHz)
	}
	if rc.MaxLag == 0 {
		rc.MaxLag = time.Duration(10 * float64(tick) * rc.TimeScale)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	wall0 := time.Now()
	sim0 := w.Elapsed()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		want := sim0 + time.Duration(float64(time.Since(wall0))*rc.TimeScale)
		lag := want - w.Elapsed()
		if lag > rc.MaxLag {
			// Forget the stall: restart the wall/sim correspondence.
			lag = rc.MaxLag
			wall0 = time.Now()
			sim0 = w.Elapsed() + lag
		}
		w.Step(lag)
		if rc.OnTick != nil {
			rc.OnTick(w.Now())
		}
	}
}
