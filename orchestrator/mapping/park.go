package mapping

import (
	"math"

	"collaborate/topics"
)

// ParkSpot is where a robot parks when marker id is its final goal: beside
// the marker, halfway in angle (about the arena's centre) to the next marker
// counter-clockwise, wallGapM in from the wall (the circle through the
// markers). A robot parked there hides no marker from robots that come to
// one across the arena, and stands clear of where they stop in front of
// it; a robot parked in front of its marker would hide it from every
// visitor. Each marker has its own spot, so robots with different final
// goals park apart. ok is false for a marker not on the map.
func ParkSpot(markers []topics.MapMarker, id int, wallGapM float64) (x, y float64, ok bool) {
	var m *topics.MapMarker
	for i := range markers {
		if markers[i].ID == id {
			m = &markers[i]
		}
	}
	if m == nil {
		return 0, 0, false
	}
	r := math.Hypot(m.XM, m.YM)
	a := math.Atan2(m.YM, m.XM)
	gap := 2 * math.Pi
	for _, o := range markers {
		if o.ID == id {
			continue
		}
		d := math.Mod(math.Atan2(o.YM, o.XM)-a+4*math.Pi, 2*math.Pi)
		if d > 1e-9 && d < gap {
			gap = d
		}
	}
	if gap == 2*math.Pi {
		gap = math.Pi / 6 // a lone marker: beside it as if there were twelve
	}
	pr := math.Max(0, r-wallGapM)
	return pr * math.Cos(a+gap/2), pr * math.Sin(a+gap/2), true
}
