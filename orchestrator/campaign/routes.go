package campaign

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"collaborate/orchestrator/mapping"
	"collaborate/orchestrator/traffic"
	"collaborate/robot/sim"
)

// RandomRoutes draws n crossing routes over the 12 markers. Robot k has a
// home marker, spread around the ring; it starts parked there and its route
// ends there (its final goal). Its intermediate markers are any others,
// other robots' homes included: robots park beside their marker, near the
// wall (traffic.ReserverConfig.ParkWallGapM), and robots on their way stop
// StopShortM in front of it, so a parked robot does not stand where
// visitors stop. Every leg spans at least a third of a turn of the arena,
// so legs cross its middle and keep clear of the stop points of the
// markers they pass.
func RandomRoutes(rng *rand.Rand, n, min, max int) (homes []int, routes [][]int) {
	offset := rng.IntN(markers)
	for k := 0; k < n; k++ {
		homes = append(homes, (offset+k*markers/n)%markers)
	}
	routes = make([][]int, n)
	for k := range routes {
		for attempt := 0; ; attempt++ {
			length := min + rng.IntN(max-min+1)
			route, ok := drawRoute(rng, homes[k], length)
			if ok {
				routes[k] = route
				break
			}
			if attempt > 200 {
				routes[k] = []int{homes[k]} // no crossing route from here: stay home
				break
			}
		}
	}
	return homes, routes
}

// ErrNoDrivableRoutes: no draw gave routes the robots could drive one at a
// time.
var ErrNoDrivableRoutes = errors.New("no drivable routes")

// DrivableRoutes draws random routes (RandomRoutes) until the robots,
// standing at their homes, could drive them one at a time without coming
// near each other (traffic.Reserver.Drivable), where either control would
// have them stop: routes that no traffic control could serve are not a fair
// test of it. It is deterministic in seed.
func DrivableRoutes(seed int64, n, min, max int) ([]int, [][]int, error) {
	w, err := sim.New(sim.Config{DiameterM: diameterM, MarkerCount: markers})
	if err != nil {
		return nil, nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	fm := trueMap(w)
	for attempt := 0; attempt < 2000; attempt++ {
		homes, routes := RandomRoutes(rng, n, min, max)
		robots := make([]traffic.Robot, n)
		for k := range robots {
			px, py, _ := mapping.ParkSpot(fm.Markers, homes[k], parkGapM)
			park := traffic.Point{X: px, Y: py}
			robots[k] = traffic.Robot{ID: fmt.Sprintf("r%d", k+1), Online: true, Pos: park, Park: park, HasPark: true}
			for _, m := range routes[k] {
				x, y, _ := w.MarkerPos(m)
				robots[k].Route = append(robots[k].Route, traffic.Point{X: x, Y: y})
			}
		}
		if traffic.NewReserver(traffic.ReserverConfig{}).Drivable(robots) &&
			traffic.NewReserver(traffic.ReserverConfig{Queue: true}).Drivable(robots) {
			return homes, routes, nil
		}
	}
	return nil, nil, fmt.Errorf("%w for %d robots in 2000 draws (seed %d)", ErrNoDrivableRoutes, n, seed)
}

// drawRoute draws a route of length markers ending at home, each leg
// spanning at least minSep marker steps; the first leg leaves, and the last
// reaches, the park spot beside home, half a step counter-clockwise of it.
func drawRoute(rng *rand.Rand, home int, length int) ([]int, bool) {
	route := make([]int, 0, length)
	prev := -1 // the park spot beside home
	far := func(a, b int) bool {
		if a < 0 || b < 0 {
			m := max(a, b)
			d := (m - home + markers) % markers // half a step from the spot: d-0.5 and 12-(d-0.5)
			return float64(d)-0.5 >= minSep && float64(markers-d)+0.5 >= minSep
		}
		return sep(a, b) >= minSep
	}
	for len(route) < length-1 {
		var cands []int
		for m := 0; m < markers; m++ {
			if m != home && far(m, prev) && (len(route) < length-2 || far(m, -1)) {
				cands = append(cands, m)
			}
		}
		if len(cands) == 0 {
			return nil, false
		}
		m := cands[rng.IntN(len(cands))]
		route = append(route, m)
		prev = m
	}
	if prev >= 0 && !far(prev, -1) {
		return nil, false
	}
	return append(route, home), true
}

// sep is the distance between two markers, in marker steps around the ring.
func sep(a, b int) int {
	d := (a - b + markers) % markers
	return min(d, markers-d)
}
