package sim

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// naiveVisible is the camera model written the slow, obvious way: every
// marker, every other disc, angles by atan2 and acos. detect must agree.
func naiveVisible(w *World, r *Robot) []int {
	c := w.cfg.Camera
	rr := w.cfg.RobotRadiusM
	type mk struct {
		id, owner    int
		x, y, normal float64
	}
	var all []mk
	for _, m := range w.markers {
		all = append(all, mk{m.ID, -1, m.XM, m.YM, m.NormalRad})
	}
	for _, o := range w.robots {
		if o == r {
			continue
		}
		for f := 0; f < 4; f++ {
			a := o.th + float64(f)*math.Pi/2
			all = append(all, mk{o.faces.Front + f, o.k, o.x + rr*math.Cos(a), o.y + rr*math.Sin(a), a})
		}
	}
	var ids []int
	for _, m := range all {
		d := math.Hypot(m.x-r.x, m.y-r.y)
		if d > c.RangeM {
			continue
		}
		if math.Abs(wrap(math.Atan2(m.y-r.y, m.x-r.x)-r.th)) > c.FOVRad/2 {
			continue
		}
		toCam := math.Atan2(r.y-m.y, r.x-m.x)
		if math.Abs(wrap(toCam-m.normal)) > c.MaxIncidenceRad {
			continue
		}
		hidden := false
		for _, o := range w.robots {
			if o == r || o.k == m.owner {
				continue
			}
			// Closest point of the segment to the disc's centre, by sampling
			// the exact projection.
			t := ((o.x-r.x)*(m.x-r.x) + (o.y-r.y)*(m.y-r.y)) / (d * d)
			t = math.Max(0, math.Min(1, t))
			if math.Hypot(r.x+t*(m.x-r.x)-o.x, r.y+t*(m.y-r.y)-o.y) < rr {
				hidden = true
			}
		}
		if !hidden {
			ids = append(ids, m.id)
		}
	}
	slices.Sort(ids)
	return ids
}

func TestDetectMatchesNaiveModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	checked, visible := 0, 0
	for trial := 0; trial < 200; trial++ {
		w := newWorld(t, noiseless())
		for k := 0; k < 10; k++ {
			for try := 0; try < 100; try++ {
				rad := 1.41 * math.Sqrt(rng.Float64())
				a := rng.Float64() * 2 * math.Pi
				if _, err := w.AddRobot(string(rune('a'+k)), Pose{XM: rad * math.Cos(a), YM: rad * math.Sin(a), ThetaRad: wrap(rng.Float64() * 7)}); err == nil {
					break
				}
			}
		}
		for _, r := range w.Robots() {
			var got []int
			for id := range seen(t, r) {
				got = append(got, id)
			}
			slices.Sort(got)
			want := naiveVisible(w, r)
			if !slices.Equal(got, want) {
				t.Fatalf("trial %d robot %s at %+v: detect sees %v, the naive model %v", trial, r.ID(), r.Pose(), got, want)
			}
			checked++
			visible += len(want)
		}
	}
	if visible < checked {
		t.Fatalf("only %d markers seen in %d frames: the comparison is too weak", visible, checked)
	}
}
