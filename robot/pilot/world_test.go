package pilot_test

import (
	"math"
	"testing"
	"time"

	"collaborate/robot/hw"
	"collaborate/robot/hw/hwtest"
	"collaborate/robot/pilot"
	"collaborate/topics"
)

// A tiny kinematic world for the pilot's tests: unicycle discs in a circular
// arena, arena markers on the wall, four face markers per disc, and a camera
// with a field of view and a range, without noise or occlusion. The real
// simulator lives in robot/sim; this one only has to be obviously right.

const (
	arenaR  = 1.5
	bodyR   = 0.09
	fovRad  = 62 * math.Pi / 180
	rangeM  = 3.2
	tick    = 50 * time.Millisecond
	nArena  = 8
	faceRad = 0.2 // a face is visible when its normal points at least this much (cosine) to the camera
)

type body struct {
	id       string
	x, y, th float64
	faces    topics.FaceIDs
}

type world struct {
	markers map[int][2]float64
	bodies  []*body
}

func newWorld() *world {
	w := &world{markers: map[int][2]float64{}}
	for k := 0; k < nArena; k++ {
		a := float64(k) * 2 * math.Pi / nArena
		w.markers[k] = [2]float64{arenaR * math.Cos(a), arenaR * math.Sin(a)}
	}
	return w
}

func (w *world) add(id string, k int, x, y, th float64) *body {
	b := &body{id: id, x: x, y: y, th: th, faces: pilot.FacesAt(100, k)}
	w.bodies = append(w.bodies, b)
	return b
}

func (w *world) remove(b *body) {
	for i, o := range w.bodies {
		if o == b {
			w.bodies = append(w.bodies[:i], w.bodies[i+1:]...)
			return
		}
	}
}

func wrapAngle(a float64) float64 { return math.Atan2(math.Sin(a), math.Cos(a)) }

// see returns the detection of a point at (x, y) from b, if in view.
func see(b *body, id int, x, y float64) (hw.Detection, bool) {
	d := math.Hypot(x-b.x, y-b.y)
	bearing := wrapAngle(math.Atan2(y-b.y, x-b.x) - b.th)
	if d > rangeM || math.Abs(bearing) > fovRad/2 {
		return hw.Detection{}, false
	}
	return hw.Detection{MarkerID: id, DistanceM: d, BearingRad: bearing}, true
}

func (w *world) detect(b *body) []hw.Detection {
	out := []hw.Detection{}
	for id, m := range w.markers {
		if d, ok := see(b, id, m[0], m[1]); ok {
			out = append(out, d)
		}
	}
	for _, o := range w.bodies {
		if o == b {
			continue
		}
		for i, id := range []int{o.faces.Front, o.faces.Left, o.faces.Back, o.faces.Right} {
			a := o.th + float64(i)*math.Pi/2 // front, left, back, right
			fx, fy := o.x+bodyR*math.Cos(a), o.y+bodyR*math.Sin(a)
			dx, dy := b.x-fx, b.y-fy
			if (math.Cos(a)*dx+math.Sin(a)*dy)/math.Hypot(dx, dy) < faceRad {
				continue
			}
			if d, ok := see(b, id, fx, fy); ok {
				out = append(out, d)
			}
		}
	}
	return out
}

func (b *body) move(lin, ang, dt float64) {
	mid := b.th + ang*dt/2
	b.x += lin * dt * math.Cos(mid)
	b.y += lin * dt * math.Sin(mid)
	b.th = wrapAngle(b.th + ang*dt)
}

// camera is the world seen from one body, as an hw.Detector.
type camera struct {
	w *world
	b *body
}

var _ hw.Detector = camera{}

func (c camera) Detect() ([]hw.Detection, error) { return c.w.detect(c.b), nil }

func (w *world) fleetMap(scale float64) *topics.FleetMap {
	m := &topics.FleetMap{Header: topics.Stamp("orchestrator", 1, t0), DiameterM: 2 * arenaR, MeasuredDiameterM: 2 * arenaR / scale, Scale: scale}
	for k := 0; k < nArena; k++ {
		m.Markers = append(m.Markers, topics.MapMarker{ID: k, XM: w.markers[k][0], YM: w.markers[k][1], Samples: 1})
	}
	for _, b := range w.bodies {
		m.Roster = append(m.Roster, topics.RosterEntry{Robot: b.id, Faces: b.faces})
	}
	return m
}

var t0 = time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)

// rig runs one pilot in the world through a recording drive.
type rig struct {
	t     *testing.T
	w     *world
	me    *body
	p     *pilot.Pilot
	cam   hw.Detector
	drive *hwtest.Drive
	clock *hwtest.Clock
	link  pilot.LinkState
	msgs  []pilot.Msg
}

func newRig(t *testing.T, w *world, me *body, mut func(*pilot.Config)) *rig {
	t.Helper()
	cfg := pilot.Config{ID: me.id, Faces: me.faces, Version: "test"}
	if mut != nil {
		mut(&cfg)
	}
	p, err := pilot.New(cfg)
	if err != nil {
		t.Fatalf("pilot.New: %v", err)
	}
	return &rig{t: t, w: w, me: me, p: p, cam: camera{w, me}, drive: &hwtest.Drive{}, clock: hwtest.NewClock(t0),
		link: pilot.LinkState{Connected: true, OrchestratorOnline: true}}
}

// step runs one tick with in (Now, Link and the camera frame filled in),
// checks that everything published is valid on the wire, applies the drive
// command to the body and advances the clock.
func (r *rig) step(in pilot.Input) pilot.Output {
	r.t.Helper()
	in.Now = r.clock.Now()
	in.Link = r.link
	if in.Detections == nil {
		f, err := r.cam.Detect()
		if err != nil {
			r.t.Fatal(err)
		}
		in.Detections = f
	}
	out := r.p.Step(in)
	for _, m := range out.Publish {
		if _, err := topics.Encode(m.Body); err != nil {
			r.t.Fatalf("published invalid %s: %v", m.Kind, err)
		}
		if h := topics.HeaderOf(m.Body); h.Sender != r.me.id || !h.TS.Equal(in.Now) {
			r.t.Fatalf("%s header %+v: want sender %s at %v", m.Kind, h, r.me.id, in.Now)
		}
	}
	r.msgs = append(r.msgs, out.Publish...)
	if out.Halt {
		_ = r.drive.Halt()
	} else if err := r.drive.Set(out.LinearMps, out.AngularRps); err != nil {
		r.t.Fatal(err)
	}
	c := r.drive.Last()
	r.me.move(c.LinearMps, c.AngularRps, tick.Seconds())
	r.clock.Advance(tick)
	return out
}

// run steps for at most d of simulated time, until done reports true.
func (r *rig) run(d time.Duration, done func(pilot.Output) bool) bool {
	r.t.Helper()
	for end := r.clock.Now().Add(d); r.clock.Now().Before(end); {
		if out := r.step(pilot.Input{}); done != nil && done(out) {
			return true
		}
	}
	return false
}

func (r *rig) published(k topics.Kind) []topics.Message {
	var out []topics.Message
	for _, m := range r.msgs {
		if m.Kind == k {
			out = append(out, m.Body)
		}
	}
	return out
}

func (r *rig) events(kind string) []*topics.Event {
	var out []*topics.Event
	for _, m := range r.published(topics.KindEvents) {
		if e := m.(*topics.Event); e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func (r *rig) checkpoints() []*topics.Checkpoint {
	var out []*topics.Checkpoint
	for _, m := range r.published(topics.KindCheckpoint) {
		out = append(out, m.(*topics.Checkpoint))
	}
	return out
}

func (r *rig) distTo(marker int) float64 {
	m := r.w.markers[marker]
	return math.Hypot(m[0]-r.me.x, m[1]-r.me.y)
}

func (r *rig) moving() bool {
	c := r.drive.Last()
	return !c.Halted && (c.LinearMps != 0 || c.AngularRps != 0)
}

// directive builds a directive from the orchestrator.
func directive(epoch, seq uint64, kind string) topics.Directive {
	return topics.Directive{Header: topics.Stamp("orchestrator", seq, t0), Epoch: epoch, Kind: kind}
}

func route(epoch, seq uint64, released int, markers ...int) topics.Directive {
	d := directive(epoch, seq, topics.DirRoute)
	d.Route, d.Released = markers, released
	return d
}

func fleet(epoch, seq uint64, kind string) topics.FleetCommand {
	return topics.FleetCommand{Header: topics.Stamp("orchestrator", seq, t0), Epoch: epoch, Kind: kind}
}

func reachedAll(r *rig) func(pilot.Output) bool {
	return func(pilot.Output) bool { return r.p.State() == topics.StateDone }
}
