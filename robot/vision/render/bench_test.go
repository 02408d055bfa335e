package render

import (
	"math"
	"testing"

	"collaborate/robot/vision/aruco"
	"collaborate/robot/vision/lens"
)

// arena is the simulator's default world: a 3 m arena with 12 markers
// (ids 0..11) at 0.10 m on the wall, and robots at the given poses with
// face markers 100+4k...
func arena(robots ...Pose) *Scene {
	s := &Scene{Dictionary: aruco.Dict4X4_250, Arena: Arena{RadiusM: 1.5}}
	for i := range 12 {
		a := 2 * math.Pi * float64(i) / 12
		s.Markers = append(s.Markers, Marker{ID: i, XM: 1.5 * math.Cos(a), YM: 1.5 * math.Sin(a), NormalRad: a + math.Pi})
	}
	for k, p := range robots {
		b := 100 + 4*k
		s.Robots = append(s.Robots, Robot{XM: p.XM, YM: p.YM, ThetaRad: p.ThetaRad, Faces: [4]int{b, b + 1, b + 2, b + 3}})
	}
	return s
}

// fleet is four robots crossing the arena, each seeing the wall and some
// of the others.
var fleet = []Pose{{XM: -0.6, YM: -0.2, ThetaRad: 0.3}, {XM: 0.5, YM: 0.3, ThetaRad: 2.8}, {XM: 0.1, YM: -0.7, ThetaRad: 1.4}, {XM: 0.2, YM: 0.8, ThetaRad: -1.9}}

var piCamV2 = lens.Model{FX: 529.6, FY: 528.8, CX: 320, CY: 240, K1: 0.12, K2: -0.25}

// BenchmarkRender draws 640×480 frames of the four robots' views in turn,
// turning (motion blur on) with sensor noise: the per-frame cost a
// software-in-the-loop robot pays. BenchmarkSITL in package vision times
// it beside detection, and four robots at once.
func BenchmarkRender(b *testing.B) {
	r, err := New(Camera{Width: 640, Height: 480, HeightM: 0.10, Lens: piCamV2}, Effects{NoiseSigma: 2, ShotNoise: 0.05, ExposureS: 0.01, Vignetting: 0.3})
	if err != nil {
		b.Fatal(err)
	}
	s := arena(fleet...)
	img, _ := r.Render(s, fleet[0], 0)
	for i := 0; b.Loop(); i++ {
		p := fleet[i%len(fleet)]
		if err := r.RenderInto(img, s, Pose{XM: p.XM + 0.05*math.Cos(p.ThetaRad), YM: p.YM + 0.05*math.Sin(p.ThetaRad), ThetaRad: p.ThetaRad}, 0.8); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/frame")
}

// BenchmarkNew is a renderer's one-off cost: the lens inverted at every
// pixel centre and corner (twice 300 000 points at 640×480) and checked.
func BenchmarkNew(b *testing.B) {
	cam := Camera{Width: 640, Height: 480, HeightM: 0.10, Lens: piCamV2}
	for b.Loop() {
		if _, err := New(cam, Effects{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/renderer")
}
