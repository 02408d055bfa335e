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

// TestRouteCarriesWhereToStopAndPark: with the reservation planner, route
// directives tell the robot where to stop for markers on its way (their
// stop spots) and where to park for its final goal (beside the marker, as mapping.ParkSpot puts it),
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
	if route.StopM != stop || !route.StopRadial {
		t.Errorf("stop_m %v, stop_radial %v: want the planner's %v at stop spots", route.StopM, route.StopRadial, stop)
	}
	wx, wy, _ := mapping.ParkSpot(h.c.Map().Markers, 3, gap)
	if route.ParkXM == nil || route.ParkYM == nil || math.Hypot(*route.ParkXM-wx, *route.ParkYM-wy) > 1e-9 {
		t.Fatalf("park spot %v,%v, want (%.3f, %.3f) beside marker 3", route.ParkXM, route.ParkYM, wx, wy)
	}
	in := h.c.TrafficInputs()
	if len(in) != 1 || !in[0].HasPark || in[0].Park != (traffic.Point{X: wx, Y: wy}) || !in[0].HasStart || in[0].Start != (traffic.Point{X: 1.2}) {
		t.Fatalf("planner inputs %+v: want the park spot and the start", in)
	}
}
