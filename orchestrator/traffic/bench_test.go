package traffic

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// benchFleet scatters n robots with random 0.5–2 m drives in a disc whose
// area grows with n, at the density of 8 robots in the 3 m arena.
func benchFleet(n int, seed int64) []Robot {
	rng := rand.New(rand.NewSource(seed))
	radius := math.Sqrt(float64(n) * math.Pi * 1.5 * 1.5 / 8 / math.Pi)
	in := make([]Robot, n)
	for i := range in {
		rr, a := radius*math.Sqrt(rng.Float64()), 2*math.Pi*rng.Float64()
		pos := Point{rr * math.Cos(a), rr * math.Sin(a)}
		h := 2 * math.Pi * rng.Float64()
		l := 0.5 + 1.5*rng.Float64()
		to := pos.add(Point{math.Cos(h), math.Sin(h)}.scale(l + 0.35))
		in[i] = mover(fmt.Sprintf("r%04d", i), pos, to)
		in[i].Final = rng.Intn(4) == 0
		if !in[i].Final {
			h2 := 2 * math.Pi * rng.Float64()
			in[i].Next, in[i].HasNext = to.add(Point{math.Cos(h2), math.Sin(h2)}.scale(1)), true
		}
	}
	return in
}

// BenchmarkPlan is the conflict-check time of one Plan call.
func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{50, 200, 1000} {
		b.Run(fmt.Sprintf("robots=%d", n), func(b *testing.B) {
			in := benchFleet(n, 1)
			p := New(DefaultConfig())
			p.Plan(at(0), in) // settle the holds
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p.Plan(at(1), in)
			}
		})
	}
}
