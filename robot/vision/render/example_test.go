package render_test

import (
	"fmt"
	"log"
	"math"

	"collaborate/robot/vision/aruco"
	"collaborate/robot/vision/lens"
	"collaborate/robot/vision/render"
)

// Example is one control tick of a software-in-the-loop robot: the world
// as it stands (the arena's markers, the other robots), the camera's pose
// and turning speed, and the frame the robot's camera would take. The
// robot's vision.Detector then reads such frames through
// vision.GrayFrames(&render.Source{Renderer: r, View: ...}), the Pi's
// pipeline unchanged.
func Example() {
	// One renderer per robot: its camera as the robot's config describes it
	// (here a Pi Camera v2 with a little barrel distortion), 10 cm up.
	cam := render.Camera{
		Width: 640, Height: 480, HeightM: 0.10,
		Lens: lens.Model{FX: 529.6, FY: 528.8, CX: 320, CY: 240, K1: 0.12, K2: -0.25},
	}
	r, err := render.New(cam, render.Effects{NoiseSigma: 2, ShotNoise: 0.05, Vignetting: 0.3, ExposureS: 0.01})
	if err != nil {
		log.Fatal(err)
	}

	// The world: a 3 m arena with 12 markers facing its centre, and another
	// robot (faces 104..107) 0.8 m ahead.
	s := &render.Scene{Dictionary: aruco.Dict4X4_250, Arena: render.Arena{RadiusM: 1.5}}
	for i := range 12 {
		a := 2 * math.Pi * float64(i) / 12
		s.Markers = append(s.Markers, render.Marker{ID: i, XM: 1.5 * math.Cos(a), YM: 1.5 * math.Sin(a), NormalRad: a + math.Pi, SideM: 0.10})
	}
	s.Robots = append(s.Robots,
		render.Robot{XM: 0, YM: 0, ThetaRad: 0, Faces: [4]int{100, 101, 102, 103}}, // this robot: its disc holds the camera, so it is not drawn
		render.Robot{XM: 0.85, YM: 0.1, ThetaRad: math.Pi, Faces: [4]int{104, 105, 106, 107}},
	)

	// The camera 5 cm ahead of this robot's centre, turning left at 0.5 rad/s.
	img, err := r.Render(s, render.Pose{XM: 0.05, YM: 0, ThetaRad: 0}, 0.5)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(img.Bounds())
	// Output: (0,0)-(640,480)
}
