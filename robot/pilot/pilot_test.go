package pilot_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"collaborate/robot/hw"
	"collaborate/robot/pilot"
	"collaborate/topics"
)

func TestReachesMarkerFromVariedPoses(t *testing.T) {
	tests := []struct {
		desc      string
		x, y, th  float64
		target    int
		withMap   bool
		mapScale  float64
		camFactor float64 // the camera over-reads distances by this; the map's scale corrects it
	}{
		{desc: "centre facing it", th: 0, target: 0},
		{desc: "centre facing away", th: math.Pi, target: 0},
		{desc: "centre, target to the right", th: 0, target: 6},
		{desc: "near the opposite wall", x: -1.1, y: 0.1, th: math.Pi / 2, target: 0},
		{desc: "off centre, diagonal", x: 0.5, y: -0.6, th: 2, target: 3},
		{desc: "near the next marker", x: 0.9, y: 0.6, th: 0.3, target: 2},
		{desc: "with the map, facing away", x: -0.3, y: 0.4, th: -2.5, target: 1, withMap: true, mapScale: 1, camFactor: 1},
		{desc: "with the map and a scale", x: 0.2, y: 0.2, th: 1, target: 5, withMap: true, mapScale: 1 / 1.2, camFactor: 1.2},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			w := newWorld()
			me := w.add("r1", 0, tc.x, tc.y, tc.th)
			r := newRig(t, w, me, nil)
			if tc.camFactor != 0 {
				r.cam = scaledCamera{camera{w, me}, tc.camFactor}
			}
			in := pilot.Input{Directives: []topics.Directive{route(1, 1, 1, tc.target)}}
			if tc.withMap {
				in.Map = w.fleetMap(tc.mapScale)
			}
			r.step(in)
			if !r.run(60*time.Second, reachedAll(r)) {
				t.Fatalf("not done after 60 s: state %s at (%.2f, %.2f, %.2f), %.2f m from marker %d",
					r.p.State(), me.x, me.y, me.th, r.distTo(tc.target), tc.target)
			}
			cps := r.checkpoints()
			if len(cps) != 1 || cps[0].Marker != tc.target || cps[0].Step != 0 || !cps[0].Final || cps[0].Epoch != 1 {
				t.Fatalf("checkpoints = %+v, want one final for marker %d step 0", cps, tc.target)
			}
			if d := r.distTo(tc.target); d > 0.36+0.02 || d < 0.25 {
				t.Fatalf("stopped %.3f m from the marker, want about the stop distance 0.35 m", d)
			}
			if r.run(2*time.Second, func(pilot.Output) bool { return r.moving() }) {
				t.Fatal("moved after the final checkpoint")
			}
		})
	}
}

// scaledCamera over-reads distances, like an uncalibrated camera.
type scaledCamera struct {
	camera
	factor float64
}

func (c scaledCamera) Detect() ([]hw.Detection, error) {
	f, _ := c.camera.Detect()
	for i := range f {
		f[i].DistanceM *= c.factor
	}
	return f, nil
}

func TestTurnsToFindMarkerOutOfView(t *testing.T) {
	// At the centre heading 22.5°, markers 0 and 1 are in view: with the map
	// that gives a fix, so marker 6 (at -90°) is found turning right.
	tests := []struct {
		desc    string
		withMap bool
		wantDir float64
	}{
		{"without the map it turns left", false, 1},
		{"with the map it turns the short way, right", true, -1},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			w := newWorld()
			me := w.add("r1", 0, 0, 0, math.Pi/8)
			r := newRig(t, w, me, nil)
			in := pilot.Input{Directives: []topics.Directive{route(1, 1, 1, 6)}}
			if tc.withMap {
				in.Map = w.fleetMap(1)
			}
			out := r.step(in)
			if out.LinearMps != 0 || math.Signbit(out.AngularRps) != math.Signbit(tc.wantDir) || out.AngularRps == 0 {
				t.Fatalf("first command (%.2f, %.2f): want a turn in place towards %v", out.LinearMps, out.AngularRps, tc.wantDir)
			}
			if !r.run(60*time.Second, reachedAll(r)) {
				t.Fatalf("not done: state %s", r.p.State())
			}
		})
	}
}

func TestFaultWhenMarkerNeverSeen(t *testing.T) {
	w := newWorld()
	me := w.add("r1", 0, 0, 0, 0)
	r := newRig(t, w, me, nil)
	r.step(pilot.Input{Directives: []topics.Directive{route(1, 1, 1, 42)}})
	if !r.run(60*time.Second, func(pilot.Output) bool { return r.p.State() == topics.StateFault }) {
		t.Fatalf("state %s, want fault", r.p.State())
	}
	if len(r.events(topics.EventFault)) != 1 || r.moving() {
		t.Fatalf("fault events %d, moving %v: want one event and a halt", len(r.events(topics.EventFault)), r.moving())
	}
	// A full turn at the search rate is 2π/0.8 = 7.9 s, plus the 5 s timeout.
	if el := r.clock.Now().Sub(t0); el < 12*time.Second || el > 15*time.Second {
		t.Fatalf("fault after %v, want a full turn plus 5 s", el)
	}
	if r.run(3*time.Second, func(pilot.Output) bool { return r.moving() }) {
		t.Fatal("moved while in fault")
	}
}

func TestHoldStaysLatched(t *testing.T) {
	for _, kind := range []string{topics.DirHold, topics.DirStop} {
		t.Run(kind, func(t *testing.T) { testLatched(t, kind) })
	}
}

func testLatched(t *testing.T, kind string) {
	w := newWorld()
	me := w.add("r1", 0, -0.5, 0, 0)
	r := newRig(t, w, me, nil)
	r.step(pilot.Input{Directives: []topics.Directive{route(1, 1, 1, 0)}})
	r.run(time.Second, nil)
	if !r.moving() {
		t.Fatal("not moving after a route")
	}
	if out := r.step(pilot.Input{Directives: []topics.Directive{directive(1, 2, kind)}}); !out.Halt {
		t.Fatalf("%s did not halt in the same tick: %+v", kind, out)
	}
	tries := []struct {
		desc string
		in   pilot.Input
	}{
		{"a new route", pilot.Input{Directives: []topics.Directive{route(1, 3, 1, 1)}}},
		{"more of the same route released", pilot.Input{Directives: []topics.Directive{route(1, 4, 1, 1)}}},
		{"a fleet stop", pilot.Input{Fleet: []topics.FleetCommand{fleet(1, 1, topics.FleetStop)}}},
		{"a fleet resume", pilot.Input{Fleet: []topics.FleetCommand{fleet(1, 2, topics.FleetResume)}}},
		{"a fresh map", pilot.Input{Map: w.fleetMap(1)}},
		{"time passing", pilot.Input{}},
	}
	for _, tc := range tries {
		t.Run(tc.desc, func(t *testing.T) {
			r.step(tc.in)
			if r.run(10*time.Second, func(pilot.Output) bool { return r.moving() }) || r.p.State() != topics.StateHolding {
				t.Fatalf("after %s: moving %v, state %s; want holding", tc.desc, r.moving(), r.p.State())
			}
		})
	}
	r.step(pilot.Input{Directives: []topics.Directive{directive(1, 5, topics.DirResume)}})
	if !r.run(60*time.Second, reachedAll(r)) {
		t.Fatalf("resume did not finish the route: state %s", r.p.State())
	}
	if cps := r.checkpoints(); len(cps) != 1 || cps[0].Marker != 1 {
		t.Fatalf("checkpoints %+v, want the updated route's marker 1", cps)
	}
}

func TestDirectivesApplyOnceInOrder(t *testing.T) {
	tests := []struct {
		desc      string
		d         topics.Directive
		wantEvent string // "" for none
		wantState string
	}{
		{"older seq, same epoch, is stale", directive(2, 4, topics.DirResume), topics.EventStale, topics.StateHolding},
		{"older epoch with a higher seq is stale", directive(1, 99, topics.DirResume), topics.EventStale, topics.StateHolding},
		{"the same seq again is a no-op", directive(2, 5, topics.DirResume), "", topics.StateHolding},
		{"a newer epoch with a lower seq applies", directive(3, 1, topics.DirResume), topics.EventAck, topics.StateMoving},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			w := newWorld()
			me := w.add("r1", 0, 0, 0, 0)
			r := newRig(t, w, me, nil)
			r.step(pilot.Input{Directives: []topics.Directive{route(2, 3, 1, 0), directive(2, 5, topics.DirHold)}})
			before := len(r.published(topics.KindEvents))
			r.step(pilot.Input{Directives: []topics.Directive{tc.d}})
			evs := r.published(topics.KindEvents)[before:]
			switch {
			case tc.wantEvent == "" && len(evs) != 0:
				t.Fatalf("events %+v, want none", evs)
			case tc.wantEvent != "" && (len(evs) != 1 || evs[0].(*topics.Event).Kind != tc.wantEvent):
				t.Fatalf("events %+v, want one %s", evs, tc.wantEvent)
			}
			if tc.wantEvent != "" {
				if e := evs[0].(*topics.Event); e.Epoch != tc.d.Epoch || e.CmdSeq != tc.d.Seq {
					t.Fatalf("event names epoch %d seq %d, want %d %d", e.Epoch, e.CmdSeq, tc.d.Epoch, tc.d.Seq)
				}
			}
			if got := r.p.State(); got != tc.wantState {
				t.Fatalf("state %s, want %s", got, tc.wantState)
			}
		})
	}
}

func TestHeadOn(t *testing.T) {
	w := newWorld()
	me := w.add("r1", 0, -0.8, 0, 0)
	other := w.add("r2", 1, 0.2, 0, math.Pi) // facing r1
	r := newRig(t, w, me, nil)
	r.step(pilot.Input{Map: w.fleetMap(1), Directives: []topics.Directive{route(1, 1, 1, 0)}})
	if !r.run(20*time.Second, func(pilot.Output) bool { return r.p.State() == topics.StateBlocked }) {
		t.Fatalf("never blocked: state %s at x=%.2f", r.p.State(), me.x)
	}
	if r.moving() {
		t.Fatal("still moving when blocked")
	}
	bl := r.events(topics.EventBlocked)
	if len(bl) != 1 || bl[0].Other != "r2" || bl[0].Face != topics.FaceFront || bl[0].Marker == nil || *bl[0].Marker != other.faces.Front {
		t.Fatalf("blocked events %+v, want one naming r2's front face %d", bl, other.faces.Front)
	}
	if gap := math.Hypot(other.x-me.x, other.y-me.y) - bodyR; gap > 0.46 || gap < 0.3 {
		t.Fatalf("stopped %.2f m from the other's face, want just inside 0.45 m", gap)
	}
	if r.run(10*time.Second, func(pilot.Output) bool { return r.moving() }) {
		t.Fatal("moved while blocked without a decision")
	}
	x0 := me.x
	back := directive(1, 2, topics.DirBackoff)
	back.BackoffM = 0.3
	r.step(pilot.Input{Directives: []topics.Directive{back}})
	if r.p.State() != topics.StateBackingUp {
		t.Fatalf("state %s after backoff, want backing_off", r.p.State())
	}
	r.run(10*time.Second, func(pilot.Output) bool { return r.p.State() != topics.StateBackingUp })
	if got := x0 - me.x; math.Abs(got-0.3) > 0.02 {
		t.Fatalf("backed off %.3f m, want 0.3", got)
	}
	if r.run(10*time.Second, func(pilot.Output) bool { return r.moving() }) || r.p.State() != topics.StateHolding {
		t.Fatalf("after the back-off: moving %v, state %s; want a stop until told", r.moving(), r.p.State())
	}
	w.remove(other)
	r.step(pilot.Input{Directives: []topics.Directive{directive(1, 3, topics.DirResume)}})
	if !r.run(30*time.Second, reachedAll(r)) {
		t.Fatalf("resume did not continue: state %s", r.p.State())
	}
}

// A stop lasts until a resume: a backoff does not move a stopped robot
// (an orchestrator that resolves a head-on by backing off the robot an
// operator stopped is wrong, and the robot holds still anyway); after the
// resume, a backoff moves it.
func TestStoppedRobotIgnoresBackoff(t *testing.T) {
	w := newWorld()
	me := w.add("r1", 0, -0.8, 0, 0)
	r := newRig(t, w, me, nil)
	r.step(pilot.Input{Map: w.fleetMap(1), Directives: []topics.Directive{route(1, 1, 1, 0)}})
	r.run(time.Second, func(pilot.Output) bool { return false })
	r.step(pilot.Input{Directives: []topics.Directive{directive(1, 2, topics.DirStop)}})
	r.run(2*time.Second, func(pilot.Output) bool { return false })
	x0 := me.x
	back := directive(1, 3, topics.DirBackoff)
	back.BackoffM = 0.3
	r.step(pilot.Input{Directives: []topics.Directive{back}})
	if r.run(5*time.Second, func(pilot.Output) bool { return r.moving() }) || math.Abs(me.x-x0) > 0.005 {
		t.Fatalf("stopped robot moved %.3f m on a backoff (state %s)", x0-me.x, r.p.State())
	}
	if r.p.State() == topics.StateBackingUp {
		t.Fatalf("stopped robot in state %s", r.p.State())
	}
	r.step(pilot.Input{Directives: []topics.Directive{directive(1, 4, topics.DirResume)}})
	back = directive(1, 5, topics.DirBackoff)
	back.BackoffM = 0.3
	r.step(pilot.Input{Directives: []topics.Directive{back}})
	if r.p.State() != topics.StateBackingUp {
		t.Fatalf("state %s after a resume and a backoff, want backing_off", r.p.State())
	}
}

func TestSideEncounterYieldsAndCarriesOn(t *testing.T) {
	w := newWorld()
	me := w.add("r1", 0, -0.8, 0, 0)
	other := w.add("r2", 1, 0.2, 0, math.Pi/2) // its left face looks at r1
	r := newRig(t, w, me, nil)
	r.step(pilot.Input{Map: w.fleetMap(1), Directives: []topics.Directive{route(1, 1, 1, 0)}})
	if !r.run(20*time.Second, func(pilot.Output) bool { return r.p.State() == topics.StateYielding }) {
		t.Fatalf("never yielded: state %s at x=%.2f", r.p.State(), me.x)
	}
	y := r.events(topics.EventYield)
	if len(y) != 1 || y[0].Other != "r2" || y[0].Face != topics.FaceLeft {
		t.Fatalf("yield events %+v, want one for r2's left face", y)
	}
	if r.run(5*time.Second, func(pilot.Output) bool { return r.moving() }) {
		t.Fatal("moved while the face was still ahead")
	}
	other.y = 1 // it drove on, out of the way
	if !r.run(30*time.Second, reachedAll(r)) {
		t.Fatalf("did not carry on by itself: state %s", r.p.State())
	}
	if c := r.events(topics.EventClear); len(c) != 1 || c[0].Other != "r2" {
		t.Fatalf("clear events %+v, want one for r2", c)
	}
	if n := len(r.published(topics.KindCmd)); n != 0 {
		t.Fatalf("published %d commands", n)
	}
}

func TestOwnFacesAndUnknownIDsAreNotObstacles(t *testing.T) {
	w := newWorld()
	me := w.add("r1", 0, -0.5, 0, 0)
	r := newRig(t, w, me, nil)
	r.step(pilot.Input{Directives: []topics.Directive{route(1, 1, 1, 0)}})
	frame := append(w.detect(me),
		hw.Detection{MarkerID: me.faces.Front, DistanceM: 0.2}, // a mirror
		hw.Detection{MarkerID: 77, DistanceM: 0.2},             // neither arena nor face
		hw.Detection{MarkerID: 3, DistanceM: math.NaN()},
		hw.Detection{MarkerID: 4, DistanceM: 1, BearingRad: 7})
	out := r.step(pilot.Input{Detections: frame})
	if out.Halt || r.p.State() != topics.StateMoving {
		t.Fatalf("state %s halt %v: its own face must not stop it", r.p.State(), out.Halt)
	}
	if got := r.p.Stats().RejectedDetections; got != 3 || len(out.Problems) != 3 {
		t.Fatalf("rejected %d, problems %q; want 3", got, out.Problems)
	}
	for _, m := range r.published(topics.KindSightings) {
		for _, s := range m.(*topics.Sightings).Seen {
			if s.MarkerID == me.faces.Front || s.MarkerID == 77 {
				t.Fatalf("reported marker %d", s.MarkerID)
			}
		}
	}
}

func TestFailsafe(t *testing.T) {
	tests := []struct {
		desc       string
		lost       pilot.LinkState
		wantReason string
	}{
		{"broker connection lost", pilot.LinkState{}, "broker connection lost"},
		{"orchestrator offline", pilot.LinkState{Connected: true}, "orchestrator offline"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			w := newWorld()
			me := w.add("r1", 0, -0.5, 0, 0)
			r := newRig(t, w, me, nil)
			rt := route(1, 1, 1, 0)
			r.step(pilot.Input{Directives: []topics.Directive{rt}})
			r.run(time.Second, nil)
			up := r.link
			r.link = tc.lost
			if out := r.step(pilot.Input{}); !out.Halt || r.p.State() != topics.StateFailsafe {
				t.Fatalf("link lost: halt %v state %s; want a halt in the same tick", out.Halt, r.p.State())
			}
			r.run(3*time.Second, nil)
			r.link = up
			// The retained directive comes again after the reconnect: same seq.
			r.step(pilot.Input{Directives: []topics.Directive{rt}})
			if r.run(10*time.Second, func(pilot.Output) bool { return r.moving() }) || r.p.State() != topics.StateFailsafe {
				t.Fatalf("after reconnecting: moving %v, state %s; want failsafe until a fresh directive", r.moving(), r.p.State())
			}
			fs := r.events(topics.EventFailsafe)
			if len(fs) != 1 || fs[0].Detail != tc.wantReason {
				t.Fatalf("failsafe events %+v, want one saying %q", fs, tc.wantReason)
			}
			st := r.published(topics.KindStatus)
			if last := st[len(st)-1].(*topics.Status); last.State != topics.StateFailsafe {
				t.Fatalf("last status %+v", last)
			}
			r.step(pilot.Input{Directives: []topics.Directive{directive(1, 2, topics.DirResume)}})
			if !r.run(30*time.Second, reachedAll(r)) {
				t.Fatalf("fresh directive did not lift the failsafe: state %s", r.p.State())
			}
		})
	}
}

func TestFleetStopWithinOneTick(t *testing.T) {
	w := newWorld()
	me := w.add("r1", 0, -0.5, 0, 0)
	r := newRig(t, w, me, nil)
	r.step(pilot.Input{Directives: []topics.Directive{route(1, 1, 1, 0)}})
	r.run(time.Second, nil)
	if out := r.step(pilot.Input{Fleet: []topics.FleetCommand{fleet(1, 1, topics.FleetStop)}}); !out.Halt {
		t.Fatalf("fleet stop not obeyed in the same tick: %+v", out)
	}
	if r.run(5*time.Second, func(pilot.Output) bool { return r.moving() }) {
		t.Fatal("moved under a fleet stop")
	}
	// A stale resume (replayed) does not lift it; a fresh one does.
	r.step(pilot.Input{Fleet: []topics.FleetCommand{fleet(0, 9, topics.FleetResume)}})
	if r.moving() || len(r.events(topics.EventStale)) != 1 {
		t.Fatalf("stale fleet resume: moving %v, stale events %d", r.moving(), len(r.events(topics.EventStale)))
	}
	r.step(pilot.Input{Fleet: []topics.FleetCommand{fleet(1, 2, topics.FleetResume)}})
	if !r.run(30*time.Second, reachedAll(r)) {
		t.Fatalf("fleet resume did not lift the fleet stop: %s", r.p.State())
	}
}

func TestMappingSweep(t *testing.T) {
	w := newWorld()
	me := w.add("r1", 0, 0, 0, 0.1)
	r := newRig(t, w, me, nil)
	r.step(pilot.Input{Directives: []topics.Directive{directive(1, 1, topics.DirMap)}})
	if r.p.State() != topics.StateMapping {
		t.Fatalf("state %s, want mapping", r.p.State())
	}
	if !r.run(30*time.Second, func(pilot.Output) bool { return len(r.events(topics.EventMapDone)) > 0 }) {
		t.Fatalf("no map_done: state %s", r.p.State())
	}
	if r.p.State() != topics.StateIdle || r.moving() {
		t.Fatalf("after the sweep: state %s moving %v, want idle", r.p.State(), r.moving())
	}
	seen := map[int]bool{}
	last := -1.0
	for _, m := range r.published(topics.KindSightings) {
		s := m.(*topics.Sightings)
		if s.HeadingRad == nil || *s.HeadingRad < last {
			t.Fatalf("sighting heading %v after %v: want the angle turned so far, increasing", s.HeadingRad, last)
		}
		last = *s.HeadingRad
		for _, x := range s.Seen {
			seen[x.MarkerID] = true
			// The heading turned plus the bearing points at the marker.
			m := w.markers[x.MarkerID]
			want := math.Atan2(m[1], m[0]) - 0.1
			if d := math.Abs(wrapAngle(last + x.BearingRad - want)); d > 0.1 {
				t.Fatalf("marker %d at heading %.2f bearing %.2f: %.2f rad off", x.MarkerID, last, x.BearingRad, d)
			}
		}
	}
	if len(seen) != nArena {
		t.Fatalf("saw markers %v, want all %d", seen, nArena)
	}
	if turned := math.Abs(wrapAngle(me.th - 0.1)); last < 2*math.Pi-0.5 || turned > 0.15 {
		t.Fatalf("last heading %.2f, body turned to %.2f off the start: want one full turn", last, turned)
	}
}

// A route directive whose Step is behind the robot's progress says the
// orchestrator lost checkpoints (a broker that crashed after acknowledging
// them): the robot sends them again, in order, with the directive's epoch,
// and goes on from where it is.
func TestCheckpointsResentWhenTheOrchestratorIsBehind(t *testing.T) {
	w := newWorld()
	me := w.add("r1", 0, 0, 0, 0)
	r := newRig(t, w, me, nil)
	r.step(pilot.Input{Map: w.fleetMap(1), Directives: []topics.Directive{route(1, 1, 2, 0, 2, 4)}})
	if !r.run(120*time.Second, func(pilot.Output) bool { return r.p.State() == topics.StateReached && len(r.checkpoints()) == 2 }) {
		t.Fatalf("two steps not reached: %s, %d checkpoints", r.p.State(), len(r.checkpoints()))
	}
	resync := route(2, 1, 2, 0, 2, 4) // a new orchestrator run that recorded nothing
	r.step(pilot.Input{Directives: []topics.Directive{resync}})
	cps := r.checkpoints()
	if len(cps) != 4 {
		t.Fatalf("checkpoints %+v, want the two of epoch 1 and the same two again", cps)
	}
	for i, c := range cps[2:] {
		if c.Step != i || c.Marker != []int{0, 2}[i] || c.Epoch != 2 {
			t.Fatalf("resent checkpoint %d = %+v, want step %d of epoch 2", i, c, i)
		}
	}
	if s := r.p.Stats().CheckpointsResent; s != 2 {
		t.Fatalf("CheckpointsResent %d, want 2", s)
	}
	// Progress is kept: releasing the last step drives it, not step 0 again.
	all := route(2, 2, 3, 0, 2, 4)
	all.Step = 2
	r.step(pilot.Input{Directives: []topics.Directive{all}})
	if !r.run(120*time.Second, reachedAll(r)) {
		t.Fatalf("route not done: %s", r.p.State())
	}
	if cps := r.checkpoints(); len(cps) != 5 || cps[4].Step != 2 || !cps[4].Final {
		t.Fatalf("checkpoints %+v, want one more, the final step 2", cps)
	}
}

func TestCheckpointsOncePerStep(t *testing.T) {
	w := newWorld()
	me := w.add("r1", 0, 0, 0, 0)
	r := newRig(t, w, me, nil)
	r.step(pilot.Input{Map: w.fleetMap(1), Directives: []topics.Directive{route(1, 1, 1, 0, 2, 4)}})
	if !r.run(60*time.Second, func(pilot.Output) bool { return r.p.State() == topics.StateReached }) {
		t.Fatalf("first step not reached: %s", r.p.State())
	}
	if r.run(5*time.Second, func(pilot.Output) bool { return r.moving() }) {
		t.Fatal("drove an unreleased step")
	}
	// The same route again with more released continues (its Step says
	// the orchestrator recorded step 0); repeating it changes nothing.
	more := route(1, 2, 3, 0, 2, 4)
	more.Step = 1
	r.step(pilot.Input{Directives: []topics.Directive{more}})
	if !r.run(120*time.Second, reachedAll(r)) {
		t.Fatalf("route not done: %s", r.p.State())
	}
	r.step(pilot.Input{Directives: []topics.Directive{more}})
	r.run(2*time.Second, nil)
	cps := r.checkpoints()
	if len(cps) != 3 {
		t.Fatalf("checkpoints %+v, want 3", cps)
	}
	for i, want := range []int{0, 2, 4} {
		if cps[i].Marker != want || cps[i].Step != i || cps[i].Final != (i == 2) {
			t.Fatalf("checkpoint %d = %+v, want marker %d step %d final %v", i, cps[i], want, i, i == 2)
		}
	}
}

func TestPosesWhileMoving(t *testing.T) {
	tests := []struct {
		desc    string
		withMap bool
	}{
		{"without the map: no x/y", false},
		{"with the map: x/y near the truth", true},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			w := newWorld()
			me := w.add("r1", 0, -0.5, -0.3, 0)
			r := newRig(t, w, me, nil)
			in := pilot.Input{Directives: []topics.Directive{route(1, 1, 1, 0)}}
			if tc.withMap {
				in.Map = w.fleetMap(1)
			}
			r.step(in)
			start := len(r.published(topics.KindPose))
			r.run(4*time.Second, nil) // still on its way
			poses := r.published(topics.KindPose)[start:]
			if len(poses) < 4*5 {
				t.Fatalf("%d poses in 4 s of driving, want >= 5 Hz", len(poses))
			}
			p := poses[len(poses)-1].(*topics.Pose)
			if p.State != topics.StateMoving || p.Target == nil || *p.Target != 0 || p.DistanceM == nil {
				t.Fatalf("pose %+v: want moving to 0 with a distance", p)
			}
			if math.Abs(*p.DistanceM-r.distTo(0)) > 0.1 {
				t.Fatalf("pose distance %.2f, true %.2f", *p.DistanceM, r.distTo(0))
			}
			if !tc.withMap {
				if p.XM != nil || p.ThetaRad != nil {
					t.Fatalf("pose has x/y without a map: %+v", p)
				}
				return
			}
			if p.XM == nil || math.Hypot(*p.XM-me.x, *p.YM-me.y) > 0.1 || math.Abs(wrapAngle(*p.ThetaRad-me.th)) > 0.1 {
				t.Fatalf("pose %v,%v,%v; truth %.2f,%.2f,%.2f", p.XM, p.YM, p.ThetaRad, me.x, me.y, me.th)
			}
		})
	}
}

func TestStatusRetainedAndOnChange(t *testing.T) {
	w := newWorld()
	me := w.add("r1", 0, 0, 0, 0)
	r := newRig(t, w, me, nil)
	r.step(pilot.Input{})
	r.run(12*time.Second, nil)
	st := r.published(topics.KindStatus)
	if len(st) != 3 { // the first tick, then every 5 s
		t.Fatalf("%d statuses in 12 s idle, want 3", len(st))
	}
	s := st[0].(*topics.Status)
	if s.State != topics.StateOnline || s.Faces == nil || *s.Faces != me.faces || s.Version != "test" {
		t.Fatalf("first status %+v", s)
	}
	if !topics.PolicyOf(topics.KindStatus).Retained {
		t.Fatal("status must be retained by the contract")
	}
	r.step(pilot.Input{Directives: []topics.Directive{route(1, 1, 1, 0)}})
	st = r.published(topics.KindStatus)
	if s := st[len(st)-1].(*topics.Status); s.State != topics.StateMoving || s.Target == nil || *s.Target != 0 || s.CmdSeq != 1 {
		t.Fatalf("status after a route %+v", s)
	}
}

func TestConfig(t *testing.T) {
	faces := pilot.FacesAt(100, 0)
	tests := []struct {
		desc    string
		cfg     pilot.Config
		wantErr string
	}{
		{"defaults fill in", pilot.Config{ID: "r1", Faces: faces}, ""},
		{"bad id", pilot.Config{ID: "r 1", Faces: faces}, "robot id"},
		{"faces unset", pilot.Config{ID: "r1"}, "face front id 0"},
		{"face used twice", pilot.Config{ID: "r1", Faces: topics.FaceIDs{Front: 100, Left: 100, Back: 102, Right: 103}}, "used twice"},
		{"negative speed", pilot.Config{ID: "r1", Faces: faces, MaxSpeedMps: -1}, "max_speed_mps"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			p, err := pilot.New(tc.cfg)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c := p.Config(); c.MaxSpeedMps != 0.25 || c.PoseEvery != 200*time.Millisecond || c.StopDistanceM != 0.35 {
					t.Fatalf("defaults not filled: %+v", c)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}
}

func BenchmarkStep(b *testing.B) {
	w := newWorld()
	me := w.add("r1", 0, -0.5, 0, 0)
	other := w.add("r2", 1, 0.5, 0.8, 0)
	_ = other
	p, err := pilot.New(pilot.Config{ID: "r1", Faces: me.faces})
	if err != nil {
		b.Fatal(err)
	}
	link := pilot.LinkState{Connected: true, OrchestratorOnline: true}
	p.Step(pilot.Input{Now: t0, Link: link, Map: w.fleetMap(1), Directives: []topics.Directive{route(1, 1, 1, 0)}})
	frame := w.detect(me)
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(tick)
		p.Step(pilot.Input{Now: now, Link: link, Detections: frame})
	}
}

func TestTurningInPlaceDoesNotYield(t *testing.T) {
	// A robot parked right behind r1, its right face towards r1: r1's search
	// turn sweeps over it, which must not stop the turn.
	w := newWorld()
	me := w.add("r1", 0, 0, 0, math.Pi)
	w.add("r2", 1, -0.35, 0, math.Pi/2)
	r := newRig(t, w, me, nil)
	r.step(pilot.Input{Map: w.fleetMap(1), Directives: []topics.Directive{route(1, 1, 1, 0)}})
	if !r.run(30*time.Second, reachedAll(r)) {
		t.Fatalf("not done: %s", r.p.State())
	}
	if n := len(r.events(topics.EventYield)); n != 0 {
		t.Fatalf("%d yield events while turning in place", n)
	}
	sawFace := false
	for _, m := range r.published(topics.KindSightings) {
		for _, s := range m.(*topics.Sightings).Seen {
			sawFace = sawFace || (s.Kind == topics.MarkerFace && s.Robot == "r2" && s.Face == topics.FaceRight)
		}
	}
	if !sawFace {
		t.Fatal("the sweep never saw r2's right face: the test proves nothing")
	}
}

func TestReconnectRepublishesStatus(t *testing.T) {
	w := newWorld()
	me := w.add("r1", 0, 0, 0, 0)
	r := newRig(t, w, me, nil)
	r.step(pilot.Input{})
	r.run(time.Second, nil)
	r.link = pilot.LinkState{}
	r.run(time.Second, nil)
	before := len(r.published(topics.KindStatus))
	r.link = pilot.LinkState{Connected: true} // broker back, orchestrator status not yet known
	r.step(pilot.Input{})
	st := r.published(topics.KindStatus)
	if len(st) != before+1 || st[len(st)-1].(*topics.Status).State != topics.StateFailsafe {
		t.Fatalf("statuses %d -> %d: want one more right on the reconnect (the broker published the will)", before, len(st))
	}
}

func TestLongYieldBecomesBlocked(t *testing.T) {
	w := newWorld()
	me := w.add("r1", 0, -0.8, 0, 0)
	w.add("r2", 1, 0.2, 0, -math.Pi/2) // parked, its right face towards r1
	r := newRig(t, w, me, nil)
	r.step(pilot.Input{Map: w.fleetMap(1), Directives: []topics.Directive{route(1, 1, 1, 0)}})
	if !r.run(20*time.Second, func(pilot.Output) bool { return r.p.State() == topics.StateYielding }) {
		t.Fatalf("never yielded: %s", r.p.State())
	}
	from := r.clock.Now()
	if !r.run(30*time.Second, func(pilot.Output) bool { return r.p.State() == topics.StateBlocked }) {
		t.Fatalf("a yield to a parked robot never escalated: %s", r.p.State())
	}
	if el := r.clock.Now().Sub(from); el < 14*time.Second || el > 16*time.Second {
		t.Fatalf("escalated after %v, want the 15 s yield timeout", el)
	}
	bl := r.events(topics.EventBlocked)
	if len(bl) != 1 || bl[0].Other != "r2" || bl[0].Face != topics.FaceRight {
		t.Fatalf("blocked events %+v", bl)
	}
	if r.run(5*time.Second, func(pilot.Output) bool { return r.moving() }) {
		t.Fatal("moved while blocked")
	}
}
