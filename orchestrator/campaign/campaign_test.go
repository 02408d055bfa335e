package campaign

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

var (
	seeds       = flag.Int("seeds", 0, "seeds of the full campaign; 0 runs the small CI version")
	firstSeed   = flag.Int64("first-seed", 1, "first seed of the campaign")
	controlFlag = flag.String("control", "flow", "traffic control of the full campaign: flow or queue")
	compare     = flag.Bool("compare", false, "run the full campaign with both controls, flow and queue, on the same seeds")
)

// maxParkErrM: a robot parked farther than this from its spot could stand
// where others pass (the planner keeps 0.24 m between a standing robot and
// a leg).
const maxParkErrM = 0.08

// tally sums one control's runs of one fleet size.
type tally struct {
	runs, finished, collisions                int
	ratio, bound, flow, flowtime, drive, wait float64
}

func (t *tally) add(r Result, b Bounds) {
	t.runs++
	t.collisions += r.Collisions
	t.drive += r.Driving
	t.wait += r.Waiting
	if r.Finished {
		t.finished++
		t.ratio += r.Makespan.Seconds() / b.Longest.Seconds()
		t.bound += r.Makespan.Seconds() / b.Lower().Seconds()
		t.flow += r.Flowtime.Seconds() / b.Sum.Seconds()
		t.flowtime += r.Flowtime.Seconds()
	}
}

func (t *tally) mean(v float64, finished bool) float64 {
	n := t.runs
	if finished {
		n = t.finished
	}
	if n == 0 {
		return 0
	}
	return v / float64(n)
}

// TestCampaign runs the safety campaign in stepped mode: the real pilots
// and control loops, the simulated world and the orchestrator core, with
// traffic control on, then the same seeds with it off. Collisions with
// traffic control on fail the test; so does a campaign with it off that
// never collides (the test could not see a collision). "Off" means the
// planner off and the robots' local face reflex off: the reflex alone keeps
// robots apart most of the time. A seed whose missions do not all finish
// within the limit (a deadlock, or a robot stuck) fails the test, and so
// does a robot parked more than maxParkErrM off its park spot.
//
// Each run is measured against bounds no control could beat (Measure): the
// longest route driven alone, and the shared-space bound (SharedBound);
// its flowtime (the sum of the robots' completion times) against the sum
// of the routes driven alone.
//
// The small CI version runs 4 seeds, of 4, 6, 9 and 12 robots, with both
// controls, flow and queue; flow must not take longer in total. The full
// campaign (4–12 robots), one control or both side by side:
//
//	go test ./orchestrator/campaign -run TestCampaign -timeout 3h -v -args -seeds 200 [-compare]
func TestCampaign(t *testing.T) {
	n := *seeds
	ci := []int{4, 6, 9, 12}
	controls := []Control{Flow, Queue}
	if n == 0 {
		n = len(ci)
	} else if !*compare {
		c, err := ParseControl(*controlFlag)
		if err != nil || c == Off {
			t.Fatalf("-control %q: want flow or queue", *controlFlag)
		}
		controls = controls[c : c+1]
	}
	out := os.Stdout
	seedTable := tabwriter.NewWriter(out, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(seedTable, "seed\trobots\tcontrol\tcollisions\tfinished\tmakespan s\talone s\tshared s\t/alone\t/bound\tflowtime s\t/Σalone\tdriving\twaiting\tholds\tpark error m\tcollisions off\t")
	tallies := map[Control]map[int]*tally{}
	for _, c := range controls {
		tallies[c] = map[int]*tally{}
	}
	total := map[Control]time.Duration{}
	// Per seed, for the paired comparison: makespan and flowtime against
	// their alone bounds, for the runs that finished.
	type pair struct{ makespan, flowtime map[int64]float64 }
	perSeed := map[Control]pair{}
	for _, c := range controls {
		perSeed[c] = pair{map[int64]float64{}, map[int64]float64{}}
	}
	var collisionsOff, undrivable int
	for i := 0; i < n; i++ {
		seed := *firstSeed + int64(i)
		robots := 4 + rand.New(rand.NewPCG(uint64(seed), 7)).IntN(9) // 4..12, fixed by the seed
		if *seeds == 0 {
			robots = ci[i]
		}
		cfg, err := WithRoutes(Config{Seed: seed, Robots: robots})
		if errors.Is(err, ErrNoDrivableRoutes) {
			undrivable++
			t.Logf("seed %d skipped: %v", seed, err)
			continue
		}
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		b, err := Measure(cfg)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		offCfg := cfg
		offCfg.Control, offCfg.NoReflex = Off, true
		off, err := run(offCfg, nil)
		if err != nil {
			t.Fatalf("seed %d, traffic off: %v", seed, err)
		}
		collisionsOff += off.Collisions
		for _, c := range controls {
			cfg.Control = c
			on, err := run(cfg, nil)
			if err != nil {
				t.Fatalf("seed %d, %v: %v", seed, c, err)
			}
			tl := tallies[c][robots]
			if tl == nil {
				tl = &tally{}
				tallies[c][robots] = tl
			}
			tl.add(on, b)
			total[c] += on.Makespan
			if on.Finished {
				perSeed[c].makespan[seed] = on.Makespan.Seconds() / b.Longest.Seconds()
				perSeed[c].flowtime[seed] = on.Flowtime.Seconds() / b.Sum.Seconds()
			}
			if !on.Finished {
				t.Errorf("seed %d (%d robots, %v) did not finish within %v: %v", seed, robots, c, cfg.Limit, on.Stuck)
			}
			for _, k := range on.Contacts {
				t.Errorf("seed %d (%v): collision with traffic control on: %s and %s at (%.2f, %.2f), %v", seed, c, k.A, k.B, k.XM, k.YM, k.Start.Sub(start))
			}
			if on.ParkErrM > maxParkErrM {
				t.Errorf("seed %d (%v): a robot parked %.3f m off its park spot (limit %.2f)", seed, c, on.ParkErrM, maxParkErrM)
			}
			fmt.Fprintf(seedTable, "%d\t%d\t%v\t%d\t%v\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%.0f\t%.2f\t%.1f\t%.1f\t%d\t%.3f\t%d\t\n",
				seed, robots, c, on.Collisions, on.Finished, on.Makespan.Seconds(), b.Longest.Seconds(), b.Shared.Seconds(),
				on.Makespan.Seconds()/b.Longest.Seconds(), on.Makespan.Seconds()/b.Lower().Seconds(),
				on.Flowtime.Seconds(), on.Flowtime.Seconds()/b.Sum.Seconds(), on.Driving, on.Waiting, on.Holds, on.ParkErrM, off.Collisions)
			t.Logf("seed %d: %d robots, %v: %d collisions, finished %v, makespan %.2f × the longest alone, flowtime %.2f × the sum alone; %d collisions without traffic control",
				seed, robots, c, on.Collisions, on.Finished, on.Makespan.Seconds()/b.Longest.Seconds(), on.Flowtime.Seconds()/b.Sum.Seconds(), off.Collisions)
		}
	}
	seedTable.Flush()
	fmt.Fprintln(out)
	summary(out, controls, tallies)
	for _, c := range controls {
		var all tally
		var big tally
		for k, tl := range tallies[c] {
			all.runs += tl.runs
			all.finished += tl.finished
			all.collisions += tl.collisions
			all.ratio += tl.ratio
			all.bound += tl.bound
			all.flow += tl.flow
			if k >= 8 {
				big.runs += tl.runs
				big.drive += tl.drive
			}
		}
		fmt.Fprintf(out, "campaign %v: %d seeds (%d skipped: no drivable routes), %d run, %d finished, %d collisions with traffic control (%d without), mean makespan %.2f × the longest alone, %.2f × the lower bound, flowtime %.2f × the sum alone, %.1f robots driving at 8+ robots\n",
			c, n, undrivable, all.runs, all.finished, all.collisions, collisionsOff,
			all.mean(all.ratio, true), all.mean(all.bound, true), all.mean(all.flow, true), big.mean(big.drive, false))
	}
	if len(controls) == 2 {
		// Seeds differ far more than controls do, so the controls are
		// compared seed by seed: the mean of the differences, with its
		// standard error (a difference within two of them is noise).
		a, b := perSeed[controls[0]], perSeed[controls[1]]
		m := paired(a.makespan, b.makespan)
		f := paired(a.flowtime, b.flowtime)
		fmt.Fprintf(out, "%v − %v, paired over %d seeds: makespan / longest alone %+.2f ± %.2f (standard error; per-seed sd %.2f), %v sooner on %d; flowtime / sum alone %+.2f ± %.2f\n",
			controls[0], controls[1], m.n, m.mean, m.se, m.sd, controls[0], m.below, f.mean, f.se)
	}
	if collisionsOff == 0 {
		t.Errorf("with traffic control off, %d seeds never collided: this campaign cannot see a collision", n)
	}
	if *seeds == 0 && total[Flow] > total[Queue] {
		t.Errorf("flow took %v in all, the queue %v: the flow control is slower on the CI seeds", total[Flow], total[Queue])
	}
}

// pairing is the comparison of two controls over the seeds both finished:
// the mean, standard deviation and standard error of the per-seed
// differences a − b, and the number of seeds where a was below b.
type pairing struct {
	n            int
	mean, sd, se float64
	below        int
}

func paired(a, b map[int64]float64) pairing {
	var d []float64
	var p pairing
	for seed, x := range a {
		if y, ok := b[seed]; ok {
			d = append(d, x-y)
			if x < y {
				p.below++
			}
		}
	}
	p.n = len(d)
	if p.n == 0 {
		return p
	}
	for _, v := range d {
		p.mean += v / float64(p.n)
	}
	if p.n > 1 {
		for _, v := range d {
			p.sd += (v - p.mean) * (v - p.mean)
		}
		p.sd = math.Sqrt(p.sd / float64(p.n-1))
		p.se = p.sd / math.Sqrt(float64(p.n))
	}
	return p
}

func TestPaired(t *testing.T) {
	a := map[int64]float64{1: 2.0, 2: 3.0, 3: 4.0, 4: 9.0}
	b := map[int64]float64{1: 1.0, 2: 3.5, 3: 2.0, 5: 1.0}
	// Seeds 1-3: differences 1, -0.5, 2.
	p := paired(a, b)
	wantSD := math.Sqrt(((1-5.0/6)*(1-5.0/6) + (-0.5-5.0/6)*(-0.5-5.0/6) + (2-5.0/6)*(2-5.0/6)) / 2)
	if p.n != 3 || p.below != 1 || math.Abs(p.mean-5.0/6) > 1e-12 || math.Abs(p.sd-wantSD) > 1e-12 || math.Abs(p.se-wantSD/math.Sqrt(3)) > 1e-12 {
		t.Fatalf("paired = %+v, want n 3, below 1, mean %.4f, sd %.4f", p, 5.0/6, wantSD)
	}
	if p := paired(a, map[int64]float64{}); p.n != 0 || p.mean != 0 {
		t.Fatalf("nothing in common: %+v", p)
	}
}

// summary prints one row per fleet size, the controls side by side.
func summary(out *os.File, controls []Control, tallies map[Control]map[int]*tally) {
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', tabwriter.AlignRight)
	head := "robots\truns\t"
	for _, c := range controls {
		head += strings.ReplaceAll("C finished\tC collisions\tC /alone\tC /bound\tC flowtime s\tC /Σalone\tC driving\tC waiting\t", "C", c.String())
	}
	fmt.Fprintln(tw, head)
	for k := 4; k <= 12; k++ {
		row := ""
		for _, c := range controls {
			tl := tallies[c][k]
			if tl == nil {
				continue
			}
			if row == "" {
				row = fmt.Sprintf("%d\t%d\t", k, tl.runs)
			}
			row += fmt.Sprintf("%d\t%d\t%.2f\t%.2f\t%.0f\t%.2f\t%.1f\t%.1f\t", tl.finished, tl.collisions,
				tl.mean(tl.ratio, true), tl.mean(tl.bound, true), tl.mean(tl.flowtime, true), tl.mean(tl.flow, true),
				tl.mean(tl.drive, false), tl.mean(tl.wait, false))
		}
		if row != "" {
			fmt.Fprintln(tw, row)
		}
	}
	tw.Flush()
	fmt.Fprintln(out)
}

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
