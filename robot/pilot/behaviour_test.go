package pilot_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"collaborate/robot/hw"
	"collaborate/robot/pilot"
	"collaborate/topics"
)

// hidingCamera is a camera that does not see the markers in hidden, as when
// another robot stands in front of them. Deleting from the map shows them
// again.
type hidingCamera struct {
	camera
	hidden map[int]bool
}

func (c hidingCamera) Detect() ([]hw.Detection, error) {
	f, _ := c.camera.Detect()
	out := f[:0]
	for _, d := range f {
		if !c.hidden[d.MarkerID] {
			out = append(out, d)
		}
	}
	return out, nil
}

func TestParkSpotAndStopDistances(t *testing.T) {
	// Route 0 then 2 from the centre. The park spot lies beside marker 2,
	// halfway in angle to marker 3, 0.14 m in from the wall.
	a := 2.5 * math.Pi / 4
	park := [2]float64{(arenaR - 0.14) * math.Cos(a), (arenaR - 0.14) * math.Sin(a)}
	tests := []struct {
		desc      string
		stopM     float64 // the directive's StopM
		park      *[2]float64
		mut       func(*pilot.Config)
		wantStop0 float64 // true distance to marker 0 at its checkpoint
		wantStop1 float64 // true distance to marker 2 at the last one; unused with a park spot
	}{
		{desc: "park spot beside the last marker, stop_m on the way", stopM: 0.5, park: &park, wantStop0: 0.5},
		{desc: "no park spot: stop_m on the way, the park distance at the end", stopM: 0.5, wantStop0: 0.5, wantStop1: 0.35},
		{desc: "no park spot, park distance set", mut: func(c *pilot.Config) { c.ParkDistanceM = 0.25 }, wantStop0: 0.35, wantStop1: 0.25},
		{desc: "the park distance defaults to the stop distance", mut: func(c *pilot.Config) { c.StopDistanceM = 0.45 }, wantStop0: 0.45, wantStop1: 0.45},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			w := newWorld()
			me := w.add("r1", 0, 0, 0, 0)
			r := newRig(t, w, me, tc.mut)
			d := route(1, 1, 2, 0, 2)
			d.StopM = tc.stopM
			if tc.park != nil {
				d.ParkXM, d.ParkYM = &tc.park[0], &tc.park[1]
			}
			stopped := map[int]float64{} // step: true distance to its marker when checkpointed
			in := pilot.Input{Map: w.fleetMap(1), Directives: []topics.Directive{d}}
			for end := r.clock.Now().Add(90 * time.Second); r.clock.Now().Before(end) && r.p.State() != topics.StateDone; in = (pilot.Input{}) {
				x, y := me.x, me.y // where the frame of this tick is taken
				for _, m := range r.step(in).Publish {
					if cp, ok := m.Body.(*topics.Checkpoint); ok {
						mk := w.markers[cp.Marker]
						stopped[cp.Step] = math.Hypot(mk[0]-x, mk[1]-y)
					}
				}
			}
			if r.p.State() != topics.StateDone {
				st, why := r.p.StateReason()
				t.Fatalf("not done after 90 s: state %s (%s) at (%.2f, %.2f)", st, why, me.x, me.y)
			}
			r.run(2*time.Second, nil)
			cps := r.checkpoints()
			if len(cps) != 2 || cps[0].Marker != 0 || cps[0].Final || cps[1].Marker != 2 || cps[1].Step != 1 || !cps[1].Final {
				t.Fatalf("checkpoints %+v, want marker 0 then one final for marker 2", cps)
			}
			if got := stopped[0]; math.Abs(got-tc.wantStop0) > 0.02 {
				t.Fatalf("step 0 checkpointed %.3f m from marker 0, want %.2f", got, tc.wantStop0)
			}
			if tc.park != nil {
				if off := math.Hypot(me.x-park[0], me.y-park[1]); off > 0.04 {
					t.Fatalf("parked at (%.3f, %.3f), %.3f m from the park spot (%.3f, %.3f)", me.x, me.y, off, park[0], park[1])
				}
				return
			}
			if got := stopped[1]; math.Abs(got-tc.wantStop1) > 0.02 || math.Abs(r.distTo(2)-tc.wantStop1) > 0.02 {
				t.Fatalf("last step checkpointed %.3f m, ended %.3f m from marker 2; want %.2f", got, r.distTo(2), tc.wantStop1)
			}
		})
	}
}

func TestStopSpots(t *testing.T) {
	// From (0, 0.6) to marker 0 at (1.5, 0), then marker 4 across. On its
	// way there the robot would stop 0.5 m short of marker 0 on the line
	// from where it started, 0.2 m off the x axis; told stop_radial, it
	// stops at the marker's stop spot, 0.5 m in front of it on the axis.
	for _, radial := range []bool{false, true} {
		t.Run(fmt.Sprintf("stop_radial %v", radial), func(t *testing.T) {
			w := newWorld()
			me := w.add("r1", 0, 0, 0.6, 0)
			r := newRig(t, w, me, nil)
			d := route(1, 1, 2, 0, 4)
			d.StopM, d.StopRadial = 0.5, radial
			in := pilot.Input{Map: w.fleetMap(1), Directives: []topics.Directive{d}}
			var at [2]float64
			for end := r.clock.Now().Add(60 * time.Second); r.clock.Now().Before(end) && len(r.checkpoints()) == 0; in = (pilot.Input{}) {
				r.step(in)
				at = [2]float64{me.x, me.y}
			}
			if len(r.checkpoints()) == 0 {
				st, why := r.p.StateReason()
				t.Fatalf("no checkpoint after 60 s: state %s (%s) at (%.2f, %.2f)", st, why, me.x, me.y)
			}
			want := [2]float64{1.0, 0}
			if !radial {
				want = [2]float64{1.5 - 0.5*1.5/math.Hypot(1.5, 0.6), 0.5 * 0.6 / math.Hypot(1.5, 0.6)}
			}
			if off := math.Hypot(at[0]-want[0], at[1]-want[1]); off > 0.05 {
				t.Fatalf("checked in at (%.3f, %.3f), %.3f m from (%.3f, %.3f)", at[0], at[1], off, want[0], want[1])
			}
		})
	}
}

func TestHiddenTarget(t *testing.T) {
	// At the centre heading 22.5°, markers 0 and 1 give a fix. Marker 2, at
	// 90°, is hidden: with the map the robot faces it and waits; without, it
	// searches and faults after a full turn and FindTimeout.
	tests := []struct {
		desc          string
		withMap       bool
		faultFrom     time.Duration // the fault comes between these, from the start
		faultTo       time.Duration
		facesAndWaits bool
	}{
		{"with the map it faces the marker and waits HiddenTimeout", true, 60 * time.Second, 64 * time.Second, true},
		{"without the map it searches and faults", false, 12 * time.Second, 15 * time.Second, false},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			w := newWorld()
			me := w.add("r1", 0, 0, 0, math.Pi/8)
			r := newRig(t, w, me, nil)
			r.cam = hidingCamera{camera{w, me}, map[int]bool{2: true}}
			in := pilot.Input{Directives: []topics.Directive{route(1, 1, 1, 2)}}
			if tc.withMap {
				in.Map = w.fleetMap(1)
			}
			r.step(in)
			var turned, maxLin float64
			lateTurn := false
			faulted := r.run(90*time.Second, func(out pilot.Output) bool {
				turned += math.Abs(out.AngularRps) * tick.Seconds()
				maxLin = math.Max(maxLin, math.Abs(out.LinearMps))
				if r.clock.Now().Sub(t0) > 5*time.Second && r.p.State() != topics.StateFault {
					lateTurn = lateTurn || out.AngularRps != 0 || out.LinearMps != 0
				}
				return r.p.State() == topics.StateFault
			})
			el := r.clock.Now().Sub(t0)
			if !faulted || el < tc.faultFrom || el > tc.faultTo {
				t.Fatalf("faulted %v after %v, want a fault between %v and %v", faulted, el, tc.faultFrom, tc.faultTo)
			}
			if n := len(r.events(topics.EventFault)); n != 1 || r.moving() {
				t.Fatalf("%d fault events, moving %v: want one and a halt", n, r.moving())
			}
			if maxLin != 0 {
				t.Fatalf("drove forward at %.2f m/s towards a marker it never saw", maxLin)
			}
			if !tc.facesAndWaits {
				if turned < 2*math.Pi {
					t.Fatalf("turned %.2f rad before the fault, want a full search turn", turned)
				}
				return
			}
			if lateTurn || turned > math.Pi {
				t.Fatalf("turned %.2f rad, still commanding motion after 5 s: %v; want one turn towards the marker, then stillness", turned, lateTurn)
			}
			m := w.markers[2]
			if off := wrapAngle(math.Atan2(m[1]-me.y, m[0]-me.x) - me.th); math.Abs(off) > 0.2 {
				t.Fatalf("waits %.2f rad off the bearing of marker 2, want facing it", off)
			}
		})
	}
}

func TestHiddenTargetDrivesOnWhenItShows(t *testing.T) {
	w := newWorld()
	me := w.add("r1", 0, 0, 0, math.Pi/8)
	r := newRig(t, w, me, nil)
	cam := hidingCamera{camera{w, me}, map[int]bool{2: true}}
	r.cam = cam
	r.step(pilot.Input{Map: w.fleetMap(1), Directives: []topics.Directive{route(1, 1, 1, 2)}})
	if r.run(30*time.Second, func(pilot.Output) bool { return r.p.State() != topics.StateMoving }) {
		st, why := r.p.StateReason()
		t.Fatalf("state %s (%s) within 30 s of a hidden target, want moving (waiting)", st, why)
	}
	if r.moving() || r.distTo(2) < arenaR-0.01 {
		t.Fatalf("after 30 s hidden: moving %v, %.2f m from marker 2; want still at the centre", r.moving(), r.distTo(2))
	}
	delete(cam.hidden, 2)
	if !r.run(30*time.Second, reachedAll(r)) {
		t.Fatalf("did not reach the marker once it showed: %s", r.p.State())
	}
	if cps := r.checkpoints(); len(cps) != 1 || cps[0].Marker != 2 || !cps[0].Final {
		t.Fatalf("checkpoints %+v, want one final for marker 2", cps)
	}
	if d := r.distTo(2); math.Abs(d-0.35) > 0.02 {
		t.Fatalf("stopped %.3f m from marker 2, want the stop distance", d)
	}
	if n := len(r.events(topics.EventFault)); n != 0 {
		t.Fatalf("%d fault events", n)
	}
}

// minGap runs r until done (or d passes) and returns the least distance
// between the centres of r's body and o over the run.
func minGap(r *rig, o *body, d time.Duration, done func(pilot.Output) bool) (float64, bool) {
	gap := math.Hypot(r.me.x-o.x, r.me.y-o.y)
	ok := r.run(d, func(out pilot.Output) bool {
		gap = math.Min(gap, math.Hypot(r.me.x-o.x, r.me.y-o.y))
		return done != nil && done(out)
	})
	return gap, ok
}

func TestReflexIgnoresRobotBesideThePath(t *testing.T) {
	// r1 drives from (-0.8, 0) to marker 0 at (1.5, 0), starting turned
	// 0.34 rad (inside the drive cone) towards r2, which stands beside the
	// path with its front face towards it: the face is in the corridor of
	// r1's heading, not of its path.
	tests := []struct {
		desc       string
		side       float64 // +1: r2 to the left of the path, -1: to the right
		besideM    float64 // r2's centre from the path
		startThRad float64
	}{
		{"0.30 m to the left, heading towards it", 1, 0.30, 0.34},
		{"0.30 m to the right, heading towards it", -1, 0.30, -0.34},
		{"0.25 m to the left, face within the old cone", 1, 0.25, 0.34},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			w := newWorld()
			me := w.add("r1", 0, -0.8, 0, tc.startThRad)
			other := w.add("r2", 1, -0.45, tc.side*tc.besideM, -tc.side*math.Pi/2) // front face to the path
			r := newRig(t, w, me, nil)
			out := r.step(pilot.Input{Map: w.fleetMap(1), Directives: []topics.Directive{route(1, 1, 1, 0)}})
			// Turn first: a face is in the corridor of the heading.
			if out.LinearMps != 0 || out.AngularRps == 0 || math.Signbit(out.AngularRps) != math.Signbit(-tc.startThRad) {
				t.Fatalf("first command (%.3f, %.3f): want a turn in place towards the target", out.LinearMps, out.AngularRps)
			}
			gap, done := minGap(r, other, 30*time.Second, reachedAll(r))
			if !done {
				st, why := r.p.StateReason()
				t.Fatalf("not done: state %s (%s) at (%.2f, %.2f)", st, why, me.x, me.y)
			}
			if n, m := len(r.events(topics.EventYield)), len(r.events(topics.EventBlocked)); n+m != 0 {
				t.Fatalf("%d yield and %d blocked events for a robot beside the path", n, m)
			}
			if gap <= 2*bodyR {
				t.Fatalf("came within %.3f m of r2 (centres): the bodies touched", gap)
			}
			sawFace := false
			for _, m := range r.published(topics.KindSightings) {
				for _, s := range m.(*topics.Sightings).Seen {
					sawFace = sawFace || (s.Robot == "r2" && s.DistanceM <= 0.45)
				}
			}
			if !sawFace {
				t.Fatal("never saw r2's faces within the reflex distance: the test proves nothing")
			}
		})
	}
}

func TestReflexStopsForRobotOnThePath(t *testing.T) {
	tests := []struct {
		desc     string
		x, y, th float64 // r2
		wantFace string
	}{
		{"side face on the path", 0.2, 0, math.Pi / 2, topics.FaceLeft},
		{"front face on the path", 0.2, 0, math.Pi, topics.FaceFront},
		{"side face 0.05 m off the path", 0.2, 0.05, math.Pi / 2, topics.FaceLeft},
		{"on the path, r1 starting turned away from it", 0.2, 0, -math.Pi / 2, topics.FaceRight},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			w := newWorld()
			th := 0.0
			if tc.wantFace == topics.FaceRight {
				th = 0.3
			}
			me := w.add("r1", 0, -0.8, 0, th)
			other := w.add("r2", 1, tc.x, tc.y, tc.th)
			r := newRig(t, w, me, nil)
			r.step(pilot.Input{Map: w.fleetMap(1), Directives: []topics.Directive{route(1, 1, 1, 0)}})
			stopped := func(pilot.Output) bool {
				s := r.p.State()
				return s == topics.StateYielding || s == topics.StateBlocked
			}
			gap, ok := minGap(r, other, 20*time.Second, stopped)
			if !ok {
				t.Fatalf("never yielded nor blocked: state %s at (%.2f, %.2f)", r.p.State(), me.x, me.y)
			}
			evs := append(r.events(topics.EventYield), r.events(topics.EventBlocked)...)
			if len(evs) != 1 || evs[0].Other != "r2" || evs[0].Face != tc.wantFace {
				t.Fatalf("events %+v, want one yield or blocked for r2's %s face", evs, tc.wantFace)
			}
			// It stays put (a yield turns into blocked after 15 s).
			g, _ := minGap(r, other, 20*time.Second, nil)
			if gap = math.Min(gap, g); gap <= 2*bodyR {
				t.Fatalf("came within %.3f m of r2 (centres): the bodies touched", gap)
			}
			if r.moving() || r.p.State() == topics.StateDone {
				t.Fatalf("moving %v, state %s: want waiting", r.moving(), r.p.State())
			}
		})
	}
}

func TestParkSpotOutsideTheArenaRejected(t *testing.T) {
	w := newWorld()
	me := w.add("r1", 0, 0, 0, 0)
	r := newRig(t, w, me, nil)
	d := route(1, 1, 2, 0, 2)
	far := [2]float64{arenaR + 0.5, 0}
	d.ParkXM, d.ParkYM = &far[0], &far[1]
	out := r.step(pilot.Input{Map: w.fleetMap(1), Directives: []topics.Directive{d}})
	if got := r.p.Stats().RejectedMessages; got != 1 {
		t.Fatalf("rejected %d directives, want the one parking outside the arena", got)
	}
	if len(out.Problems) == 0 || !strings.Contains(out.Problems[0], "outside the arena") {
		t.Fatalf("problems %q", out.Problems)
	}
	r.run(3*time.Second, nil)
	if math.Hypot(me.x, me.y) > 1e-9 {
		t.Fatalf("robot moved to (%.2f, %.2f) on a rejected route", me.x, me.y)
	}
}
