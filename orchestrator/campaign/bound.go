package campaign

import (
	"fmt"
	"math"
	"time"

	"collaborate/orchestrator/mapping"
	"collaborate/orchestrator/traffic"
	"collaborate/robot/sim"
)

// Bounds are what a run is measured against: bounds on what any traffic
// control could achieve on the same routes.
type Bounds struct {
	// Alone is each robot's route driven with no other robot in the arena,
	// under either control (they have robots stop at different points), the
	// faster; Longest is the longest of them (no makespan is shorter) and
	// Sum their sum (no flowtime is smaller).
	Alone         []time.Duration
	Longest, Sum  time.Duration
	Shared        time.Duration // from the arena's shared space: SharedBound
	SharedAtX     float64       // centre and radius of the disc that gives it
	SharedAtY     float64
	SharedRadiusM float64
}

// Lower is the makespan's lower bound: the larger of Longest and Shared.
func (b Bounds) Lower() time.Duration { return max(b.Longest, b.Shared) }

// Measure drives each robot's route alone under each control (which then
// never holds it, so that it stops and parks where it would in the fleet),
// and computes the shared-space bound of the routes.
func Measure(cfg Config) (Bounds, error) {
	var b Bounds
	cfg, err := WithRoutes(cfg)
	if err != nil {
		return b, err
	}
	for i := range cfg.Routes {
		best := time.Duration(0)
		for _, c := range []Control{Flow, Queue} {
			cfg.Control = c
			alone, err := run(cfg, []int{i})
			if err != nil {
				return b, err
			}
			if !alone.Finished {
				return b, fmt.Errorf("seed %d: robot %d cannot finish its route even alone (%v): %v", cfg.Seed, i, c, cfg.Routes[i])
			}
			if best == 0 || alone.Makespan < best {
				best = alone.Makespan
			}
		}
		b.Alone = append(b.Alone, best)
		b.Longest = max(b.Longest, best)
		b.Sum += best
	}
	paths, wc, err := plannedPaths(cfg)
	if err != nil {
		return b, err
	}
	s, at, r := SharedBound(paths, 2*wc.RobotRadiusM, wc.MaxSpeedMps)
	b.Shared, b.SharedAtX, b.SharedAtY, b.SharedRadiusM = s, at.X, at.Y, r
	return b, nil
}

// plannedPaths are the robots' paths as the planner plans them: from the
// park spot beside the home marker through every stop point to the park
// spot beside the final goal.
func plannedPaths(cfg Config) ([][]traffic.Point, sim.Config, error) {
	w, err := sim.New(sim.Config{DiameterM: diameterM, MarkerCount: markers})
	if err != nil {
		return nil, sim.Config{}, err
	}
	fm := trueMap(w)
	p := traffic.NewReserver(traffic.ReserverConfig{})
	spot := func(m int) traffic.Point {
		x, y, _ := mapping.ParkSpot(fm.Markers, m, parkGapM)
		return traffic.Point{X: x, Y: y}
	}
	var paths [][]traffic.Point
	for k, route := range cfg.Routes {
		r := traffic.Robot{ID: "r", Online: true, Pos: spot(cfg.Homes[k]), Park: spot(route[len(route)-1]), HasPark: true}
		for _, m := range route {
			x, y, ok := w.MarkerPos(m)
			if !ok {
				return nil, sim.Config{}, fmt.Errorf("marker %d is not in the world", m)
			}
			r.Route = append(r.Route, traffic.Point{X: x, Y: y})
		}
		paths = append(paths, append([]traffic.Point{r.Pos}, p.Stops(r)...))
	}
	return paths, w.Config(), nil
}

// SharedBound is a lower bound on the makespan from the arena's shared
// space, for robots that are discs of diameterM which never touch and drive
// straight between the points of their paths, no faster than vmaxMps.
// Take a disc R of the arena: at most k robots fit in it at once (k = 1
// while it is narrower than a robot; 2, 3, 4, 5 as its radius passes
// d/√3, d/√2, d/(2 sin 36°) and d, the smallest circles around 2..6 points
// d apart), and each passage of a path through R keeps a robot in R for at
// least its chord / vmax. The passages thus take Σ chord / (k·vmax) between
// the first entry into R, no sooner than the shortest way in from a start,
// and the last exit, no later than the shortest way out to an end before
// the makespan. SharedBound is the largest such bound over discs centred
// on a 5 cm grid, with the disc that gives it.
func SharedBound(paths [][]traffic.Point, diameterM, vmaxMps float64) (time.Duration, traffic.Point, float64) {
	type disc struct {
		r float64
		k int
	}
	d := diameterM * (1 - 1e-9)
	discs := []disc{{d / 2, 1}, {d / math.Sqrt(3), 2}, {d / math.Sqrt(2), 3}, {d / (2 * math.Sin(math.Pi/5)), 4}, {d, 5}}
	var best float64
	var at traffic.Point
	var radius float64
	const step = 0.05 // metres between the discs' centres
	lim := diameterM/2 + 1e-9
	for x := -diameterM / 2; x <= lim; x += step {
		for y := -diameterM / 2; y <= lim; y += step {
			c := traffic.Point{X: x, Y: y}
			for _, dc := range discs {
				occ, head, tail := 0.0, math.Inf(1), math.Inf(1)
				for _, path := range paths {
					first, last, length := math.Inf(1), math.Inf(-1), 0.0
					for i := 1; i < len(path); i++ {
						a, b := path[i-1], path[i]
						if lo, hi, ok := chord(a, b, c, dc.r); ok {
							occ += hi - lo
							first = math.Min(first, length+lo)
							last = math.Max(last, length+hi)
						}
						length += math.Hypot(b.X-a.X, b.Y-a.Y)
					}
					if !math.IsInf(first, 1) {
						head = math.Min(head, first)
						tail = math.Min(tail, length-last)
					}
				}
				if occ == 0 {
					continue
				}
				if s := (head + occ/float64(dc.k) + tail) / vmaxMps; s > best {
					best, at, radius = s, c, dc.r
				}
			}
		}
	}
	return time.Duration(best * float64(time.Second)), at, radius
}

// chord is the stretch [lo, hi] of segment a-b, in metres from a, inside
// the disc of radius r around c.
func chord(a, b, c traffic.Point, r float64) (lo, hi float64, ok bool) {
	dx, dy := b.X-a.X, b.Y-a.Y
	n := math.Hypot(dx, dy)
	if n < 1e-12 {
		return 0, 0, false
	}
	ux, uy := dx/n, dy/n
	fx, fy := a.X-c.X, a.Y-c.Y
	bq := fx*ux + fy*uy
	disc := bq*bq - (fx*fx + fy*fy - r*r)
	if disc <= 0 {
		return 0, 0, false
	}
	sd := math.Sqrt(disc)
	lo, hi = math.Max(-bq-sd, 0), math.Min(-bq+sd, n)
	return lo, hi, lo < hi
}
