package mapping

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"collaborate/topics"
)

// MinSpreadM is the smallest outlier threshold: samples within it of the
// median are always kept, so perfect data is not thinned.
const MinSpreadM = 0.03

// MinMarkers is how many distinct markers a sweep needs to fit the ring.
const MinMarkers = 3

// ErrTooFew marks a sweep that saw too few markers.
var ErrTooFew = errors.New("sweep saw too few markers")

type point struct{ x, y float64 }

// Sweep accumulates the sightings of one mapping sweep.
type Sweep struct {
	samples  map[int][]point
	Ignored  int // face sightings and sightings without heading
	Accepted int
}

// NewSweep starts an empty sweep.
func NewSweep() *Sweep { return &Sweep{samples: map[int][]point{}} }

// Add takes one frame of sightings. A frame without a heading cannot be
// placed and is ignored, as are face markers. It returns how many sightings
// were kept.
func (s *Sweep) Add(m *topics.Sightings) int {
	if m.HeadingRad == nil {
		s.Ignored += len(m.Seen)
		return 0
	}
	n := 0
	for _, v := range m.Seen {
		if v.Kind != topics.MarkerArena {
			s.Ignored++
			continue
		}
		a := *m.HeadingRad + v.BearingRad
		s.samples[v.MarkerID] = append(s.samples[v.MarkerID], point{v.DistanceM * math.Cos(a), v.DistanceM * math.Sin(a)})
		n++
	}
	s.Accepted += n
	return n
}

// Markers is the number of distinct markers seen so far.
func (s *Sweep) Markers() int { return len(s.samples) }

// Result is the outcome of a sweep.
type Result struct {
	Markers           []topics.MapMarker // arena frame, scaled, sorted by id
	MeasuredDiameterM float64            // fitted ring diameter in camera metres
	Scale             float64            // configured / measured
	Dropped           int                // outlier samples dropped
}

// Result computes the map for an arena of the configured diameter.
func (s *Sweep) Result(diameterM float64) (Result, error) {
	if !(diameterM > 0) {
		return Result{}, fmt.Errorf("mapping: configured diameter must be > 0, got %v", diameterM)
	}
	if len(s.samples) < MinMarkers {
		return Result{}, fmt.Errorf("%w: %d distinct markers, need %d", ErrTooFew, len(s.samples), MinMarkers)
	}
	ids := make([]int, 0, len(s.samples))
	for id := range s.samples {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	var res Result
	centres := make([]point, len(ids))
	counts := make([]int, len(ids))
	for i, id := range ids {
		c, kept := robustMean(s.samples[id])
		centres[i], counts[i] = c, kept
		res.Dropped += len(s.samples[id]) - kept
	}
	cx, cy, r, err := fitCircle(centres)
	if err != nil {
		return Result{}, err
	}
	res.MeasuredDiameterM = 2 * r
	res.Scale = diameterM / res.MeasuredDiameterM
	for i, id := range ids {
		res.Markers = append(res.Markers, topics.MapMarker{
			ID:      id,
			XM:      (centres[i].x - cx) * res.Scale,
			YM:      (centres[i].y - cy) * res.Scale,
			Samples: counts[i],
		})
	}
	return res, nil
}

// robustMean drops samples far from the median and averages the rest.
func robustMean(ps []point) (point, int) {
	xs := make([]float64, len(ps))
	ys := make([]float64, len(ps))
	for i, p := range ps {
		xs[i], ys[i] = p.x, p.y
	}
	med := point{median(xs), median(ys)}
	ds := make([]float64, len(ps))
	for i, p := range ps {
		ds[i] = math.Hypot(p.x-med.x, p.y-med.y)
	}
	// 1.4826 makes the MAD a consistent estimate of a normal spread.
	limit := math.Max(3*1.4826*median(append([]float64(nil), ds...)), MinSpreadM)
	var sum point
	n := 0
	for i, p := range ps {
		if ds[i] <= limit {
			sum.x += p.x
			sum.y += p.y
			n++
		}
	}
	return point{sum.x / float64(n), sum.y / float64(n)}, n
}

func median(v []float64) float64 {
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// fitCircle is the algebraic (Kåsa) least-squares circle through points:
// x²+y² + D x + E y + F = 0, solved by the 3×3 normal equations.
func fitCircle(ps []point) (cx, cy, r float64, err error) {
	var a [3][4]float64
	for _, p := range ps {
		row := [3]float64{p.x, p.y, 1}
		rhs := -(p.x*p.x + p.y*p.y)
		for i := 0; i < 3; i++ {
			for j := 0; j < 3; j++ {
				a[i][j] += row[i] * row[j]
			}
			a[i][3] += row[i] * rhs
		}
	}
	sol, ok := solve3(a)
	if !ok {
		return 0, 0, 0, fmt.Errorf("mapping: markers are collinear, cannot fit the arena ring")
	}
	cx, cy = -sol[0]/2, -sol[1]/2
	r2 := cx*cx + cy*cy - sol[2]
	if !(r2 > 0) {
		return 0, 0, 0, fmt.Errorf("mapping: degenerate ring fit")
	}
	return cx, cy, math.Sqrt(r2), nil
}

// solve3 solves a 3×3 system (augmented) by Gaussian elimination with
// partial pivoting.
func solve3(a [3][4]float64) ([3]float64, bool) {
	for c := 0; c < 3; c++ {
		p := c
		for r := c + 1; r < 3; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		if math.Abs(a[p][c]) < 1e-12 {
			return [3]float64{}, false
		}
		a[c], a[p] = a[p], a[c]
		for r := 0; r < 3; r++ {
			if r == c {
				continue
			}
			f := a[r][c] / a[c][c]
			for k := c; k < 4; k++ {
				a[r][k] -= f * a[c][k]
			}
		}
	}
	return [3]float64{a[0][3] / a[0][0], a[1][3] / a[1][1], a[2][3] / a[2][2]}, true
}
