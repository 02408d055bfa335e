package core

import (
	"path/filepath"
	"testing"
	"time"

	"collaborate/orchestrator/traffic"
	"collaborate/topics"
)

// TestWithRealPlanner wires orchestrator/traffic's planner in: two robots
// whose first steps cross at the centre; one is held, then released.
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
	holds := map[string]int{}
	count := func(outs []Out) {
		for _, id := range []string{"r1", "r2"} {
			for _, d := range directives(outs, id) {
				if d.Kind == topics.DirHold {
					holds[id]++
				}
			}
		}
	}
	count(h.tick(100 * time.Millisecond))
	if holds["r1"]+holds["r2"] != 1 {
		t.Fatalf("holds %v, want exactly one robot held", holds)
	}
	held, free := "r1", "r2"
	if holds["r2"] == 1 {
		held, free = "r2", "r1"
	}
	t.Logf("%s held for %s: %+v", held, free, h.c.Fleet().Robots)
	// The free robot drives through and arrives; the held one is released.
	tgt := map[string]int{"r1": 6, "r2": 9}[free]
	for _, d := range []float64{2, 1, 0.5} {
		dist := d
		h.must(free, &topics.Pose{State: topics.StateMoving, Target: &tgt, DistanceM: &dist})
		count(h.tick(500 * time.Millisecond))
	}
	h.must(free, checkpoint(h.c.Epoch(), 0, tgt, true))
	var released bool
	for i := 0; i < 10 && !released; i++ {
		for _, d := range directives(h.tick(100*time.Millisecond), held) {
			released = released || d.Kind == topics.DirResume
		}
	}
	if !released {
		t.Fatalf("%s never released; fleet %+v", held, h.c.Fleet().Robots)
	}
	if st := h.c.Stats(); st.HoldsFinished != 1 {
		t.Fatalf("stats %+v", st)
	}
}
