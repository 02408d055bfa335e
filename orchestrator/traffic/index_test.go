package traffic

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The grid must find every point near a segment, and list a segment in the
// cell of every point near it, wherever they lie, also outside its box.
func TestGridFindsWhatBruteForceFinds(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pt := func(r float64) Point { return Point{r * (2*rng.Float64() - 1), r * (2*rng.Float64() - 1)} }
	for trial := 0; trial < 300; trial++ {
		pts := make([]Point, 1+rng.IntN(40))
		for i := range pts {
			pts[i] = pt(3)
		}
		r := 0.05 + 0.4*rng.Float64()
		g := newGrid(pts, r)
		for i, q := range pts {
			g.add(i, q)
		}
		pos := func(i int) Point { return pts[i] }
		for k := 0; k < 20; k++ {
			a, b := pt(4), pt(4)
			skip := rng.IntN(len(pts))
			want := slices.IndexFunc(pts, func(q Point) bool { return pointSegDist(q, a, b) < r }) >= 0
			if i := slices.IndexFunc(pts, func(q Point) bool { return pointSegDist(q, a, b) < r }); i == skip {
				want = slices.ContainsFunc(pts[i+1:], func(q Point) bool { return pointSegDist(q, a, b) < r })
			}
			if got := g.inWay(a, b, r, skip, pos); (got >= 0) != want || (got >= 0 && (got == skip || pointSegDist(pts[got], a, b) >= r)) {
				t.Fatalf("trial %d: inWay(%v, %v, %.2f) = %d, brute force finds one: %v", trial, a, b, r, got, want)
			}
			s := newGrid(pts, r)
			s.addSeg(7, a, b, r)
			for _, q := range pts {
				if pointSegDist(q, a, b) < r && !slices.Contains(s.cells[s.cell(q)], 7) {
					t.Fatalf("trial %d: segment %v-%v not listed in the cell of %v, %.2f m from it", trial, a, b, q, pointSegDist(q, a, b))
				}
			}
			s.removeSeg(7, a, b, r)
			for _, c := range s.cells {
				if len(c) > 0 {
					t.Fatalf("trial %d: removeSeg left %v", trial, c)
				}
			}
		}
	}
}
