package sim_test

import (
	"fmt"
	"time"

	"collaborate/robot/sim"
	"collaborate/topics"
)

// A stepped world: two robots driven head-on by a 20 Hz control hook, the
// ground truth taken every 100 ms of sim time, and the collision oracle.
func Example() {
	w, err := sim.New(sim.Config{Seed: 1})
	if err != nil {
		panic(err)
	}
	a, _ := w.AddRobot("a", sim.Pose{XM: -0.5})
	b, _ := w.AddRobot("b", sim.Pose{XM: 0.5, ThetaRad: 3.14159})
	fmt.Println("faces of b:", b.FaceIDs())

	// The control loop: here a trivial one; a pilot's tick goes here.
	_ = w.Every(50*time.Millisecond, func(now time.Time) {
		for _, r := range []*sim.Robot{a, b} {
			_, _ = r.Detector().Detect()
			_ = r.Drive().Set(0.2, 0)
		}
	})
	var last topics.World
	_ = w.TruthEvery(sim.TruthPeriod, func(m topics.World) { last = m })

	w.Step(5 * time.Second)
	c := w.Collisions()[0]
	fmt.Printf("truth at %.1f s: %d collision(s)\n", last.SimTimeS, last.Collisions)
	fmt.Printf("%s hit %s after %.2f s\n", c.A, c.B, c.Start.Sub(sim.DefaultStart).Seconds())
	// Output:
	// faces of b: {104 105 106 107}
	// truth at 5.0 s: 1 collision(s)
	// a hit b after 2.30 s
}
