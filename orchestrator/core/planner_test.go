package core

import (
	"path/filepath"
	"testing"
	"time"

	"collaborate/orchestrator/traffic"
	"collaborate/topics"
)

// TestWithRealPlanner wires orchestrator/traffic's planner in: two robots
// whose first steps cross at the centre drive at 0.2 m/s, reporting their
// distance; one is held before the crossing and released after it.
func TestWithRealPlanner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path)
	file := `
arena: {diameter_m: 3}
robots:
  r1: {route: [6], start: {x_m: 1.5, y_m: 0}}
  r2: {route: [9], start: {x_m: 0, y_m: 1.5}}
`
	h := newHarness(t, Config{Missions: missionsFile(t, file), Planner: traffic.New(traffic.Config{}), SilenceTimeout: time.Minute}, openStore(t, path))
	h.must("r1", status(topics.StateIdle))
	h.must("r2", status(topics.StateIdle))
	remaining := map[string]float64{"r1": 3, "r2": 3}
	target := map[string]int{"r1": 6, "r2": 9}
	held := map[string]bool{}
	var holds, releases int
	arrived := map[string]bool{}
	for i := 0; i < 400 && !(arrived["r1"] && arrived["r2"]); i++ {
		for _, id := range []string{"r1", "r2"} {
			if arrived[id] {
				continue
			}
			if !held[id] {
				remaining[id] -= 0.02 // 0.2 m/s, 100 ms ticks
			}
			if remaining[id] <= 0.35 {
				arrived[id] = true
				h.must(id, checkpoint(h.c.Epoch(), 0, target[id], true))
				continue
			}
			d, tg := remaining[id], target[id]
			h.must(id, &topics.Pose{State: topics.StateMoving, Target: &tg, DistanceM: &d, SpeedMps: 0.2})
		}
		outs := h.tick(100 * time.Millisecond)
		for _, id := range []string{"r1", "r2"} {
			for _, d := range directives(outs, id) {
				switch d.Kind {
				case topics.DirHold:
					held[id] = true
					holds++
				case topics.DirResume:
					held[id] = false
					releases++
				}
			}
		}
		// Both never inside the crossing zone together.
		if a, b := remaining["r1"]-1.5, remaining["r2"]-1.5; a*a+b*b < 0.3*0.3 {
			t.Fatalf("tick %d: robots %.2f m from the centre each", i, a)
		}
	}
	if !arrived["r1"] || !arrived["r2"] {
		t.Fatalf("not arrived: %v", remaining)
	}
	if holds != 1 || releases != 1 || h.c.Stats().HoldsFinished != 1 {
		t.Fatalf("holds %d releases %d stats %+v", holds, releases, h.c.Stats())
	}
}
