package traffic

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// reserveFleet is n robots at the density of 8 robots in the 3 m arena (the
// arena's area grows with n), each with a route of 3 random points.
func reserveFleet(n int) []Robot {
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
	return rs
}

// BenchmarkReserverConflictCheck times the conflict check of one update:
// every robot's next leg checked against every reserved leg and every robot
// standing still (the spatial hash makes it about n·√n, not n²).
func BenchmarkReserverConflictCheck(b *testing.B) {
	for _, n := range []int{50, 200, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			rs := reserveFleet(n)
			p := NewReserver(ReserverConfig{})
			p.Plan(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), rs) // registers the robots
			ptrs := make([]*Robot, n)
			stops := make([]Point, n)
			for i := range rs {
				ptrs[i] = &rs[i]
				stops[i] = p.stops(&rs[i])[0]
			}
			b.ResetTimer()
			blocked := 0
			for i := 0; i < b.N; i++ {
				f := p.index(ptrs)
				for k, r := range ptrs {
					if _, who, _ := p.place(r, r.Pos, stops[k], f, k, 0, false); who != "" {
						blocked++
					}
				}
			}
			b.ReportMetric(float64(blocked)/float64(b.N), "blocked/op")
		})
	}
}

// BenchmarkReserverPlan times one whole Plan call: the conflict check, and
// at most maxSearches searches of the deadlock check.
func BenchmarkReserverPlan(b *testing.B) {
	for _, n := range []int{12, 50, 200, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			rs := reserveFleet(n)
			p := NewReserver(ReserverConfig{})
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p.Plan(now.Add(time.Duration(i)*100*time.Millisecond), rs)
			}
		})
	}
}

// BenchmarkReserverPlanMoving times Plan calls while the fleet moves:
// before every call one robot on a reserved leg reaches its end (a robot
// at the end of its route is given three more points), so that the
// reservations change and the deadlock check runs again. A fleet of 200 at
// 10 Hz ends a leg every other call or so.
func BenchmarkReserverPlanMoving(b *testing.B) {
	for _, n := range []int{12, 50, 200, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(3, 4))
			radius := 1.5 * math.Sqrt(float64(n)/8)
			pt := func() Point {
				r, a := radius*math.Sqrt(rng.Float64()), 2*math.Pi*rng.Float64()
				return Point{r * math.Cos(a), r * math.Sin(a)}
			}
			rs := reserveFleet(n)
			p := NewReserver(ReserverConfig{})
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for range 20 {
				now = now.Add(100 * time.Millisecond)
				p.Plan(now, rs)
			}
			next := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for k := 0; k < n; k++ {
					r := &rs[(next+k)%n]
					if st := p.robots[r.ID]; st != nil && st.leg != nil {
						r.Pos, r.Step = st.leg.B, r.Step+1
						if r.Step == len(r.Route) {
							r.Route = append(r.Route, pt(), pt(), pt())
						}
						next = (next + k + 1) % n
						break
					}
				}
				now = now.Add(100 * time.Millisecond)
				p.Plan(now, rs)
			}
		})
	}
}
