package traffic

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkReserverPlan times one Plan call (leg checks plus the deadlock
// check) with n robots at the density of 8 robots in the 3 m arena: the
// arena's area grows with n.
func BenchmarkReserverPlan(b *testing.B) {
	for _, n := range []int{50, 200, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			radius := 1.5 * math.Sqrt(float64(n)/8)
			pt := func() Point {
				r, a := radius*math.Sqrt(rng.Float64()), 2*math.Pi*rng.Float64()
				return Point{r * math.Cos(a), r * math.Sin(a)}
			}
			rs := make([]Robot, n)
			for i := range rs {
				rs[i] = Robot{ID: fmt.Sprintf("r%d", i), Online: true, Pos: pt()}
				for k := 0; k < 3; k++ {
					rs[i].Route = append(rs[i].Route, pt())
				}
			}
			p := NewReserver(ReserverConfig{})
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p.Plan(now.Add(time.Duration(i)*100*time.Millisecond), rs)
			}
		})
	}
}
