//go:build opencv

package main

import (
	"image"
	"math"
	"math/rand/v2"
	"time"

	"collaborate/robot/hw"
	"collaborate/robot/vision"
	"collaborate/robot/vision/aruco"
	"collaborate/robot/vision/render"
	"collaborate/robot/world"
)

// renderedCamera is a SITL robot's camera: it renders what the camera
// sees from the world's true state (package render: lens, occlusion,
// lighting, noise, motion blur) and runs the Pi's own detector on the frame.
// It takes a frame at most fps times a second of the world's time; between
// frames Detect returns nothing new.
type renderedCamera struct {
	body  *world.Body
	det   *vision.Detector
	rend  *render.Renderer
	cfg   vision.Config
	scene render.Scene
	gap   time.Duration
	last  time.Time
	rng   *rand.Rand
	fx    render.Effects
	stats *cameraStats

	// The view of the frame being taken, for ranging errors.
	self  world.BodyState
	ahead float64
	faces map[int][2]float64 // face marker id -> its true position
}

var _ hw.Detector = (*renderedCamera)(nil)

// sitlCamera opens a rendered camera on body, with the robot's vision
// config (its lens is the one rendered: the camera as calibrated).
func sitlCamera(c Config, body *world.Body, fps float64, stats *cameraStats) (hw.Detector, func() error, error) {
	in, err := c.Vision.Intrinsics()
	if err != nil {
		return nil, nil, err
	}
	dict, err := aruco.ParseDictionary(c.Vision.Dictionary)
	if err != nil {
		return nil, nil, err
	}
	fx := render.Effects{NoiseSigma: 2, ShotNoise: 0.05, Vignetting: 0.3, ExposureS: 0.01, Seed: uint64(time.Now().UnixNano())}
	rend, err := render.New(render.Camera{Width: c.Vision.Camera.Width, Height: c.Vision.Camera.Height, Lens: in.Lens(), HeightM: 0.10}, fx)
	if err != nil {
		return nil, nil, err
	}
	a := body.Arena()
	cam := &renderedCamera{body: body, rend: rend, cfg: c.Vision, gap: time.Duration(float64(time.Second) / fps),
		rng: rand.New(rand.NewPCG(fx.Seed, 7)), fx: fx, stats: stats, ahead: a.CameraAheadM}
	cam.scene = render.Scene{Dictionary: dict, Arena: render.Arena{RadiusM: a.DiameterM / 2}}
	for _, m := range a.Markers {
		cam.scene.Markers = append(cam.scene.Markers, render.Marker{ID: m.ID, XM: m.XM, YM: m.YM,
			NormalRad: m.NormalRad, SideM: c.Vision.Markers.Arena.SideM})
	}
	src := &render.Source{Renderer: rend, View: cam.view}
	det, err := vision.NewDetector(c.Vision, vision.GrayFrames(timedSource{src, stats}), body)
	if err != nil {
		return nil, nil, err
	}
	cam.det = det
	return cam, det.Close, nil
}

// view fetches the world as it stands and makes it the scene of the frame.
func (c *renderedCamera) view() (*render.Scene, render.Pose, float64) {
	self, all, _, err := c.body.Scene()
	if err != nil {
		// No world: a frame of the last scene, as a camera that keeps
		// giving frames while the robot's computer lost its bus.
		return &c.scene, c.pose(), 0
	}
	c.self = self
	c.scene.Robots = c.scene.Robots[:0]
	if c.faces == nil {
		c.faces = map[int][2]float64{}
	}
	clear(c.faces)
	r := c.body.Arena().RobotRadiusM
	for _, b := range all {
		faces := [4]int{b.Faces.Front, b.Faces.Left, b.Faces.Back, b.Faces.Right}
		c.scene.Robots = append(c.scene.Robots, render.Robot{XM: b.XM, YM: b.YM, ThetaRad: b.ThetaRad,
			RadiusM: r, Faces: faces, FaceSideM: c.cfg.Markers.Face.SideM})
		for k, id := range faces {
			a := b.ThetaRad + float64(k)*math.Pi/2
			c.faces[id] = [2]float64{b.XM + r*math.Cos(a), b.YM + r*math.Sin(a)}
		}
	}
	// Lighting and exposure vary from frame to frame, as a room's light and
	// an auto-exposure do.
	fx := c.fx
	fx.Gain = 0.85 + 0.3*c.rng.Float64()
	_ = c.rend.SetEffects(fx)
	return &c.scene, c.pose(), self.AngularRps
}

func (c *renderedCamera) pose() render.Pose {
	s := c.self
	return render.Pose{XM: s.XM + c.ahead*math.Cos(s.ThetaRad), YM: s.YM + c.ahead*math.Sin(s.ThetaRad), ThetaRad: s.ThetaRad}
}

// Detect takes a frame when one is due and ranges its markers.
func (c *renderedCamera) Detect() ([]hw.Detection, error) {
	now := c.body.Now()
	if !c.last.IsZero() && now.Sub(c.last) < c.gap {
		return nil, nil
	}
	c.last = now
	t0 := time.Now()
	dets, err := c.det.Detect()
	took := time.Since(t0)
	if err != nil {
		return nil, err
	}
	c.record(dets, took)
	return dets, nil
}

// record keeps the frame's figures: detection time (render excluded) and
// the ranging error of every marker against the truth.
func (c *renderedCamera) record(dets []hw.Detection, took time.Duration) {
	st := c.stats
	st.mu.Lock()
	defer st.mu.Unlock()
	st.Frames++
	st.Detections += len(dets)
	render := 0.0
	if n := len(st.RenderMs); n > 0 {
		render = st.RenderMs[n-1]
	}
	st.DetectMs = append(st.DetectMs, float64(took)/1e6-render)
	p := c.pose()
	for _, d := range dets {
		var mx, my float64
		if m, ok := c.marker(d.MarkerID); ok {
			mx, my = m[0], m[1]
		} else {
			continue
		}
		truth := math.Hypot(mx-p.XM, my-p.YM)
		if truth < 0.3 || truth > 2 {
			continue // the range the targets speak of
		}
		st.RangeErr = append(st.RangeErr, math.Abs(d.DistanceM/truth-1))
	}
}

func (c *renderedCamera) marker(id int) ([2]float64, bool) {
	for _, m := range c.scene.Markers {
		if m.ID == id {
			return [2]float64{m.XM, m.YM}, true
		}
	}
	f, ok := c.faces[id]
	return f, ok
}

// timedSource times each render into the stats.
type timedSource struct {
	src   *render.Source
	stats *cameraStats
}

func (t timedSource) ReadGray(dst *image.Gray) error {
	t0 := time.Now()
	err := t.src.ReadGray(dst)
	t.stats.mu.Lock()
	t.stats.RenderMs = append(t.stats.RenderMs, float64(time.Since(t0))/1e6)
	t.stats.mu.Unlock()
	return err
}
