package mapping

import (
	"math"
	"testing"

	"collaborate/topics"
)

func ring(n int, r float64) []topics.MapMarker {
	var ms []topics.MapMarker
	for i := 0; i < n; i++ {
		a := 2 * math.Pi * float64(i) / float64(n)
		ms = append(ms, topics.MapMarker{ID: i, XM: r * math.Cos(a), YM: r * math.Sin(a)})
	}
	return ms
}

func TestParkSpotBesideItsMarker(t *testing.T) {
	ms := ring(12, 1.5)
	seen := map[[2]int]bool{}
	for i := 0; i < 12; i++ {
		x, y, ok := ParkSpot(ms, i, 0.14)
		if !ok {
			t.Fatalf("marker %d: no spot", i)
		}
		if r := math.Hypot(x, y); math.Abs(r-1.36) > 1e-9 {
			t.Errorf("marker %d: spot at radius %.3f, want 1.36", i, r)
		}
		// Halfway to the next marker: 15° past it.
		want := float64(i)*math.Pi/6 + math.Pi/12
		if d := math.Abs(math.Remainder(math.Atan2(y, x)-want, 2*math.Pi)); d > 1e-9 {
			t.Errorf("marker %d: spot %.4f rad off halfway to the next", i, d)
		}
		// Apart from the others, and clear of the marker's front (the line
		// from the marker to the centre).
		seen[[2]int{int(math.Round(x * 100)), int(math.Round(y * 100))}] = true
		mx, my := ms[i].XM, ms[i].YM
		if off := math.Abs(x*my-y*mx) / 1.5; off < 0.3 {
			t.Errorf("marker %d: spot only %.2f m off the marker's front", i, off)
		}
	}
	if len(seen) != 12 {
		t.Errorf("12 markers share %d spots", len(seen))
	}
	if _, _, ok := ParkSpot(ms, 40, 0.14); ok {
		t.Error("a spot for a marker not on the map")
	}
}

func TestParkSpotUnevenRing(t *testing.T) {
	ms := []topics.MapMarker{{ID: 3, XM: 1.5}, {ID: 8, XM: 0, YM: 1.5}, {ID: 9, XM: -1.5}}
	x, y, _ := ParkSpot(ms, 3, 0.14)
	if a := math.Atan2(y, x); math.Abs(a-math.Pi/4) > 1e-9 {
		t.Errorf("spot of 3 at %.3f rad, want halfway to 8 (π/4)", a)
	}
	x, y, _ = ParkSpot(ms, 9, 0.14)
	if a := math.Atan2(y, x); math.Abs(a+math.Pi/2) > 1e-9 {
		t.Errorf("spot of 9 at %.3f rad, want halfway round to 3 (-π/2)", a)
	}
}
