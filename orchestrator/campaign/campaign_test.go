package campaign

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"text/tabwriter"
	"time"
)

var (
	seeds     = flag.Int("seeds", 0, "seeds of the full safety campaign; 0 runs the small CI version")
	firstSeed = flag.Int64("first-seed", 1, "first seed of the campaign")
)

// TestCampaign runs the safety campaign in stepped mode: the real pilots,
// the simulated world and the orchestrator core, with traffic control on,
// then the same seeds with it off. Collisions with traffic control on fail
// the test; so does a campaign with it off that never collides (the test
// could not see a collision). "Off" means the planner off and the robots'
// local face reflex off: the reflex alone keeps robots apart most of the
// time. A seed whose missions do not all finish within the limit (a
// deadlock, or a robot stuck) fails the test, and so does a robot parked
// more than maxParkErrM off its park spot.
//
// The small CI version runs 4 seeds, of 4, 6, 9 and 12 robots. The full
// campaign (4–12 robots):
//
//	go test ./orchestrator/campaign -run TestCampaign -timeout 3h -v -args -seeds 200
func TestCampaign(t *testing.T) {
	n, limit := *seeds, 15*time.Minute
	ci := []int{4, 6, 9, 12}
	if n == 0 {
		n = len(ci)
	}
	tw := tabwriter.NewWriter(os.Stdout, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "seed\trobots\tcollisions\tfinished\tmakespan s\tlower bound s\tratio\tholds\tpark error m\tcollisions off\t")
	var finished, collisions, collisionsOff, undrivable int
	var ratioSum, parkErr float64
	type group struct {
		runs, finished          int
		ratioSum, moving, waits float64
	}
	groups := map[int]*group{}
	for i := 0; i < n; i++ {
		seed := *firstSeed + int64(i)
		robots := 4 + rand.New(rand.NewPCG(uint64(seed), 7)).IntN(9) // 4..12, fixed by the seed
		if *seeds == 0 {
			robots = ci[i]
		}
		cfg := Config{Seed: seed, Robots: robots, Traffic: true, Limit: limit}
		on, err := Run(cfg)
		if errors.Is(err, ErrNoDrivableRoutes) {
			undrivable++
			t.Logf("seed %d skipped: %v", seed, err)
			continue
		}
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		cfg.Traffic, cfg.NoReflex = false, true
		off, err := run(withRoutes(cfg), nil)
		if err != nil {
			t.Fatalf("seed %d, traffic off: %v", seed, err)
		}
		collisions += on.Collisions
		collisionsOff += off.Collisions
		ratio := on.Makespan.Seconds() / on.LowerBound.Seconds()
		g := groups[robots]
		if g == nil {
			g = &group{}
			groups[robots] = g
		}
		g.runs++
		g.moving += on.Moving
		g.waits += on.Waiting
		parkErr = max(parkErr, on.ParkErrM)
		if on.Finished {
			finished++
			ratioSum += ratio
			g.finished++
			g.ratioSum += ratio
		} else {
			t.Errorf("seed %d (%d robots) did not finish within %v: %v", seed, robots, limit, on.Stuck)
		}
		for _, c := range on.Contacts {
			t.Errorf("seed %d: collision with traffic control on: %s and %s at (%.2f, %.2f), %v", seed, c.A, c.B, c.XM, c.YM, c.Start.Sub(start))
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%v\t%.0f\t%.0f\t%.2f\t%d\t%.3f\t%d\t\n", seed, robots, on.Collisions, on.Finished,
			on.Makespan.Seconds(), on.LowerBound.Seconds(), ratio, on.Holds, on.ParkErrM, off.Collisions)
		if on.ParkErrM > maxParkErrM {
			t.Errorf("seed %d: a robot parked %.3f m off its park spot (limit %.2f)", seed, on.ParkErrM, maxParkErrM)
		}
		t.Logf("seed %d: %d robots, %d collisions, finished %v, ratio %.2f, %d without traffic control",
			seed, robots, on.Collisions, on.Finished, ratio, off.Collisions)
	}
	tw.Flush()
	mean := 0.0
	if finished > 0 {
		mean = ratioSum / float64(finished)
	}
	fmt.Println()
	tw = tabwriter.NewWriter(os.Stdout, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "robots\truns\tfinished\tmean ratio\tdriving\twaiting\t")
	for k := 4; k <= 12; k++ {
		if g := groups[k]; g != nil {
			m := 0.0
			if g.finished > 0 {
				m = g.ratioSum / float64(g.finished)
			}
			fmt.Fprintf(tw, "%d\t%d\t%d\t%.2f\t%.1f\t%.1f\t\n", k, g.runs, g.finished, m, g.moving/float64(g.runs), g.waits/float64(g.runs))
		}
	}
	tw.Flush()
	fmt.Printf("campaign: %d seeds (%d skipped: no drivable routes), %d run, %d finished, %d collisions with traffic control (%d without), mean makespan ratio of finished runs %.2f, worst park error %.3f m\n",
		n, undrivable, n-undrivable, finished, collisions, collisionsOff, mean, parkErr)
	if collisionsOff == 0 {
		t.Errorf("with traffic control off, %d seeds never collided: this campaign cannot see a collision", n)
	}
}

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// maxParkErrM: a robot parked farther than this from its spot could stand
// where others pass (the planner keeps 0.27 m between a standing robot and
// a leg).
const maxParkErrM = 0.08

// withRoutes fixes the random routes of cfg, so that a second run (traffic
// off) drives the same ones.
func withRoutes(cfg Config) Config {
	cfg.defaults()
	if cfg.Routes == nil {
		cfg.Homes, cfg.Routes, _ = DrivableRoutes(cfg.Seed, cfg.Robots, cfg.RouteMin, cfg.RouteMax)
	}
	return cfg
}
