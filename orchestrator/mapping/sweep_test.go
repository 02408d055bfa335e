package mapping

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"collaborate/topics"
)

type synth struct {
	diameter   float64 // true arena diameter
	markers    int     // evenly spaced on the wall
	offX, offY float64 // robot's true offset from the centre
	bias       float64 // camera distance factor (1.1 reads 10% long)
	noiseM     float64 // distance noise, sd
	noiseRad   float64 // bearing noise, sd
	outliers   float64 // fraction of wild sightings
	frames     int     // frames over the 360° turn
	fov        float64 // camera field of view, radians
}

func truth(d float64, n, i int) (float64, float64) {
	a := 2 * math.Pi * float64(i) / float64(n)
	return d / 2 * math.Cos(a), d / 2 * math.Sin(a)
}

// frames produces the sightings of a sweep.
func (s synth) gen(seed uint64) []*topics.Sightings {
	rng := rand.New(rand.NewPCG(seed, 1))
	var out []*topics.Sightings
	for f := 0; f < s.frames; f++ {
		h := 2 * math.Pi * float64(f) / float64(s.frames)
		fr := &topics.Sightings{HeadingRad: &h}
		for i := 0; i < s.markers; i++ {
			mx, my := truth(s.diameter, s.markers, i)
			dx, dy := mx-s.offX, my-s.offY
			b := math.Remainder(math.Atan2(dy, dx)-h, 2*math.Pi)
			if math.Abs(b) > s.fov/2 {
				continue
			}
			d := math.Hypot(dx, dy)*s.bias + rng.NormFloat64()*s.noiseM
			b += rng.NormFloat64() * s.noiseRad
			if rng.Float64() < s.outliers {
				d *= 0.3 + rng.Float64()
				b += rng.Float64() - 0.5
			}
			b = math.Max(-math.Pi, math.Min(math.Pi, b))
			fr.Seen = append(fr.Seen, topics.Sighting{MarkerID: i, Kind: topics.MarkerArena, DistanceM: math.Max(d, 0), BearingRad: b})
		}
		fr.Seen = append(fr.Seen, topics.Sighting{MarkerID: 101, Kind: topics.MarkerFace, Face: topics.FaceFront, DistanceM: 0.5})
		out = append(out, fr)
	}
	return out
}

func TestSweep(t *testing.T) {
	tests := []struct {
		name         string
		s            synth
		maxScaleErr  float64 // relative
		maxMarkerErr float64 // metres
	}{
		{"perfect", synth{3, 12, 0, 0, 1, 0, 0, 0, 72, 1.0}, 1e-9, 1e-9},
		{"10% long, noisy", synth{3, 12, 0, 0, 1.1, 0.02, 0.01, 0, 120, 1.0}, 0.02, 0.05},
		{"8% short, off centre, outliers", synth{3, 12, 0.1, -0.07, 0.92, 0.02, 0.01, 0.1, 120, 1.0}, 0.02, 0.05},
		{"small arena, 6 markers", synth{1.5, 6, 0, 0.03, 1.05, 0.01, 0.01, 0.05, 90, 1.0}, 0.02, 0.05},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sw := NewSweep()
			for _, f := range tc.s.gen(42) {
				sw.Add(f)
			}
			res, err := sw.Result(tc.s.diameter)
			if err != nil {
				t.Fatal(err)
			}
			wantScale := 1 / tc.s.bias
			if e := math.Abs(res.Scale-wantScale) / wantScale; e > tc.maxScaleErr {
				t.Errorf("scale = %.4f, want %.4f (err %.2f%%)", res.Scale, wantScale, 100*e)
			}
			if len(res.Markers) != tc.s.markers {
				t.Fatalf("%d markers, want %d", len(res.Markers), tc.s.markers)
			}
			worst := 0.0
			for _, m := range res.Markers {
				x, y := truth(tc.s.diameter, tc.s.markers, m.ID)
				worst = math.Max(worst, math.Hypot(m.XM-x, m.YM-y))
				if m.Samples == 0 {
					t.Errorf("marker %d has no samples", m.ID)
				}
			}
			if worst > tc.maxMarkerErr {
				t.Errorf("worst marker error %.3f m > %.3f m", worst, tc.maxMarkerErr)
			}
			if tc.s.outliers > 0 && res.Dropped == 0 {
				t.Errorf("no outlier dropped")
			}
			if sw.Ignored == 0 {
				t.Errorf("face sightings not ignored")
			}
			t.Logf("scale %.4f measured %.3f m worst %.3f m dropped %d", res.Scale, res.MeasuredDiameterM, worst, res.Dropped)
		})
	}
}

func TestSweepErrors(t *testing.T) {
	h := 0.0
	line := NewSweep()
	line.Add(&topics.Sightings{HeadingRad: &h, Seen: []topics.Sighting{
		{MarkerID: 1, Kind: topics.MarkerArena, DistanceM: 1},
		{MarkerID: 2, Kind: topics.MarkerArena, DistanceM: 2},
		{MarkerID: 3, Kind: topics.MarkerArena, DistanceM: 3},
	}})
	few := NewSweep()
	few.Add(&topics.Sightings{HeadingRad: &h, Seen: []topics.Sighting{{MarkerID: 1, Kind: topics.MarkerArena, DistanceM: 1}}})
	noHeading := NewSweep()
	if n := noHeading.Add(&topics.Sightings{Seen: []topics.Sighting{{MarkerID: 1, Kind: topics.MarkerArena, DistanceM: 1}}}); n != 0 || noHeading.Ignored != 1 {
		t.Fatalf("frame without heading: kept %d ignored %d", n, noHeading.Ignored)
	}
	tests := []struct {
		name string
		sw   *Sweep
		d    float64
		is   error
		msg  string
	}{
		{"too few", few, 3, ErrTooFew, "1 distinct"},
		{"none", noHeading, 3, ErrTooFew, "0 distinct"},
		{"collinear", line, 3, nil, "collinear"},
		{"bad diameter", line, 0, nil, "diameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.sw.Result(tc.d)
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) || !contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %q", err, tc.msg)
			}
		})
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func BenchmarkSweepResult(b *testing.B) {
	sw := NewSweep()
	for _, f := range (synth{3, 12, 0, 0, 1.1, 0.02, 0.01, 0.05, 360, 1.0}).gen(1) {
		sw.Add(f)
	}
	for b.Loop() {
		if _, err := sw.Result(3); err != nil {
			b.Fatal(err)
		}
	}
}
