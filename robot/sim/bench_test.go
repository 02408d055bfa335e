package sim

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkStep50Robots measures the stepped simulation with 50 robots, all
// reading their cameras and commanding their drives at 20 Hz over 100 Hz
// physics. One iteration is one second of sim time.
func BenchmarkStep50Robots(b *testing.B) {
	for _, n := range []int{10, 50} {
		b.Run(fmt.Sprintf("robots=%d", n), func(b *testing.B) {
			w := newWorld(b, Config{Seed: 1, PhysicsDt: 10 * time.Millisecond})
			ids := make([]string, n)
			for i := range ids {
				ids[i] = fmt.Sprintf("r%d", i)
			}
			rs, err := w.AddRobots(ids...)
			if err != nil {
				b.Fatal(err)
			}
			detections := 0
			if err := w.Every(50*time.Millisecond, func(time.Time) {
				for _, r := range rs {
					ds, _ := r.Detect()
					detections += len(ds)
					wander(r, ds)
				}
			}); err != nil {
				b.Fatal(err)
			}
			w.Step(5 * time.Second) // spread out from the start
			start := time.Now()
			b.ResetTimer()
			for b.Loop() {
				w.Step(time.Second)
			}
			wall := time.Since(start).Seconds()
			b.ReportMetric(float64(b.N)/wall, "sim-s/wall-s")
			b.ReportMetric(float64(w.CollisionCount()), "collisions")
		})
	}
}
