package core

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"collaborate/orchestrator/mapping"
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

// TestRouteCarriesWhereToStopAndPark: with the reservation planner, route
// directives tell the robot how far short of markers to stop and where to
// park for its final goal (beside the marker, as mapping.ParkSpot puts it),
// and the planner is given the same park spot and the mission's start.
func TestRouteCarriesWhereToStopAndPark(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path)
	file := `
arena: {diameter_m: 3}
robots:
  r1: {route: [6, 3], start: {x_m: 1.2, y_m: 0}}
`
	res := traffic.NewReserver(traffic.ReserverConfig{})
	h := newHarness(t, Config{Missions: missionsFile(t, file), Planner: res, SilenceTimeout: time.Minute}, openStore(t, path))
	outs := h.must("r1", status(topics.StateIdle))
	var route *topics.Directive
	for i := 0; i < 5 && route == nil; i++ {
		for _, d := range directives(outs, "r1") {
			if d.Kind == topics.DirRoute {
				route = d
			}
		}
		outs = h.tick(100 * time.Millisecond)
	}
	if route == nil {
		t.Fatal("no route directive")
	}
	stop, gap := res.StopDistances()
	if route.StopM != stop {
		t.Errorf("stop_m %v, want the planner's %v", route.StopM, stop)
	}
	wx, wy, _ := mapping.ParkSpot(h.c.Map().Markers, 3, gap)
	if route.ParkXM == nil || route.ParkYM == nil || math.Hypot(*route.ParkXM-wx, *route.ParkYM-wy) > 1e-9 {
		t.Fatalf("park spot %v,%v, want (%.3f, %.3f) beside marker 3", route.ParkXM, route.ParkYM, wx, wy)
	}
	in := h.c.TrafficInputs()
	if len(in) != 1 || !in[0].HasPark || in[0].Park != (traffic.Point{X: wx, Y: wy}) || !in[0].HasStart || in[0].Start != (traffic.Point{X: 1.2}) {
		t.Fatalf("planner inputs %+v: want the park spot and the start", in)
	}

	// The predictive planner plans no stop points: robots keep their own.
	path2 := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path2)
	h2 := newHarness(t, Config{Missions: missionsFile(t, file), Planner: traffic.New(traffic.Config{}), SilenceTimeout: time.Minute}, openStore(t, path2))
	for _, d := range directives(h2.must("r1", status(topics.StateIdle)), "r1") {
		if d.Kind == topics.DirRoute && (d.StopM != 0 || d.ParkXM != nil) {
			t.Fatalf("predictive planner's route carries stop %v park %v", d.StopM, d.ParkXM)
		}
	}
}
