package conform

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"syscall"
	"time"

	"collaborate/orchestrator/mapping"
	"collaborate/topics"
)

// The route the kit drives, from the arena's centre: across to marker 0,
// across the arena to 6, to 3, and to a park spot beside 9, each leg long
// enough to be cut short by a fail-safe.
var kitRoute = []int{0, 6, 3, 9}

const (
	kitStopM   = 0.60 // stop_m of the route directives, as the orchestrator's planner says it
	kitWallGap = 0.14 // park spot: this far in from the wall (the orchestrator's)
	// standS is how long a robot that must stand is watched.
	standS = 2 * time.Second
	// ackWithin bounds the wait for an ack or a stale event: a directive is
	// applied in the control tick it arrives in.
	ackWithin = 5 * time.Second
)

// applied is a directive the robot acknowledged.
type applied struct {
	d      topics.Directive
	gen    int
	sentAt time.Time
	ackAt  time.Time
}

// abort records what broke rule and stops the run: what follows depends on
// it.
func (k *kit) abort(rule, format string, args ...any) error {
	k.res.fail(rule, format, args...)
	return fmt.Errorf("%s: %s", rule, fmt.Sprintf(format, args...))
}

func (k *kit) script(ctx context.Context) {
	phases := []struct {
		name string
		run  func() error
	}{
		{"connect, a refused SUBACK, status and heartbeat while idle", k.phaseConnect},
		{"mapping sweep", k.phaseMapping},
		{"a hold latched across a route, duplicate and stale directives, fleet commands", k.phaseLatches},
		{"step 0, cut short by orchestrator/status offline", func() error { return k.phaseLeg(0, k.causeStatusOffline, false) }},
		{"step 1, cut short by the orchestrator heartbeat stopping", func() error { return k.phaseLeg(1, k.causeHeartbeatStops, false) }},
		{"a route whose step is behind: checkpoints again", k.phaseResend},
		{"step 2, cut short by the link cut", func() error { return k.phaseLeg(2, k.causeLinkCut, true) }},
		{"step 3: a fleet stop across kill -9 and a restart, then parking", k.phaseFinal},
		{"clean shutdown", k.phaseShutdown},
	}
	stopped := ""
	for _, ph := range phases {
		if ctx.Err() != nil {
			stopped = "interrupted"
			break
		}
		k.say("== %s", ph.name)
		if err := ph.run(); err != nil {
			stopped = fmt.Sprintf("stopped at %q: %v", ph.name, err)
			k.say("run stopped: %v", err)
			break
		}
		if k.o.FailFast && k.res.failed() {
			stopped = fmt.Sprintf("stopped after %q: a rule failed (fail fast)", ph.name)
			break
		}
	}
	k.analyse()
	if stopped != "" {
		for _, r := range topics.RobotRules() {
			k.res.skip(r.ID, "%s", stopped)
		}
	}
}

// send publishes directive d (epoch and seq stamped) and, with ack, waits
// for the robot to acknowledge it.
func (k *kit) send(d topics.Directive, ack bool) (topics.Directive, bool) {
	mark := k.rec.mark()
	sentAt := time.Now()
	d, err := k.orch.directive(d)
	if err != nil {
		k.res.fail("directives", "the kit could not publish a directive: %v", err)
		return d, false
	}
	k.say("sent %s directive epoch %d seq %d", d.Kind, d.Epoch, d.Seq)
	if !ack {
		return d, true
	}
	m, ok := k.rec.waitMessage(ackWithin, mark, topics.KindEvents, func(m message) bool {
		e := event(m)
		return e != nil && e.Kind == topics.EventAck && e.Epoch == d.Epoch && e.CmdSeq == d.Seq
	})
	if !ok {
		k.res.fail("directives", "no ack of the %s directive (epoch %d, seq %d) within %v", d.Kind, d.Epoch, d.Seq, ackWithin)
		return d, false
	}
	e := event(m)
	k.res.check("directives", e.Detail == d.Kind, fmt.Sprintf("%s directive acknowledged with detail %q", d.Kind, d.Kind),
		"the ack of the %s directive (epoch %d, seq %d) says detail %q, want %q", d.Kind, d.Epoch, d.Seq, e.Detail, d.Kind)
	k.applied = append(k.applied, applied{d: d, gen: m.Gen, sentAt: sentAt, ackAt: m.At})
	return d, true
}

// sendFleet publishes a fleet command and waits for its ack.
func (k *kit) sendFleet(kind string) (topics.FleetCommand, bool) {
	mark := k.rec.mark()
	f, err := k.orch.fleet(kind)
	if err != nil {
		k.res.fail("directives", "the kit could not publish a fleet command: %v", err)
		return f, false
	}
	k.lastFleet = f
	k.say("sent fleet %s epoch %d seq %d", kind, f.Epoch, f.Seq)
	m, ok := k.rec.waitMessage(ackWithin, mark, topics.KindEvents, func(m message) bool {
		e := event(m)
		return e != nil && e.Kind == topics.EventAck && e.Epoch == f.Epoch && e.CmdSeq == f.Seq
	})
	if !ok {
		k.res.fail("directives", "no ack of the fleet %s (epoch %d, seq %d) within %v", kind, f.Epoch, f.Seq, ackWithin)
		return f, false
	}
	want := "fleet " + kind
	k.res.check("directives", event(m).Detail == want, fmt.Sprintf("fleet %s acknowledged with detail %q", kind, want),
		"the ack of the fleet %s says detail %q, want %q", kind, event(m).Detail, want)
	return f, true
}

// waitStale waits for the stale event of (epoch, seq) after mark, and
// checks that no ack of it came.
func (k *kit) waitStale(mark int, what string, epoch, seq uint64) {
	_, ok := k.rec.waitMessage(ackWithin, mark, topics.KindEvents, func(m message) bool {
		e := event(m)
		return e != nil && e.Kind == topics.EventStale && e.Epoch == epoch && e.CmdSeq == seq
	})
	k.res.check("directives", ok, what+" reported stale", "%s (epoch %d, seq %d): no stale event within %v", what, epoch, seq, ackWithin)
	for _, m := range k.rec.messages(mark, topics.KindEvents) {
		if e := event(m); e != nil && e.Kind == topics.EventAck && e.Epoch == epoch && e.CmdSeq == seq {
			k.res.fail("directives", "%s (epoch %d, seq %d) was acknowledged: an older directive must be ignored", what, epoch, seq)
		}
	}
}

// stand checks that the robot stands for standS from now.
func (k *kit) stand(rule, why string) bool {
	from := time.Now()
	time.Sleep(standS)
	ok, did := k.still(from, time.Now())
	k.res.check(rule, ok, why, "%s: it %s", why, did)
	return ok
}

// waitState waits for a status (or, with beat, a heartbeat) after mark
// whose state is one of states.
func (k *kit) waitState(timeout time.Duration, mark int, beat bool, states ...string) (message, bool) {
	var got message
	ok := waitFor(timeout, func() bool {
		for _, m := range k.rec.messages(mark, "") {
			switch v := m.Msg.(type) {
			case *topics.Status:
				if slices.Contains(states, v.State) {
					got = m
					return true
				}
			case *topics.Heartbeat:
				if beat && slices.Contains(states, v.State) {
					got = m
					return true
				}
			}
		}
		return false
	})
	return got, ok
}

// waitConnect waits for a CONNECT of process gen on a connection after n.
func (k *kit) waitConnect(timeout time.Duration, gen, after int) (connRec, bool) {
	var got connRec
	ok := waitFor(timeout, func() bool {
		for _, c := range k.rec.connections() {
			if c.Gen == gen && c.N > after && c.Connect != nil {
				got = c
				return true
			}
		}
		return false
	})
	return got, ok
}

// required are the subscriptions the connect rule asks for, with their QoS.
func (k *kit) required() map[string]byte {
	return map[string]byte{
		topics.Robot(k.o.RobotID, topics.KindCmd): 1,
		topics.TopicFleetCmd:                      1,
		topics.TopicFleetMap:                      1,
		topics.TopicOrchestratorStatus:            1,
		topics.TopicOrchestratorHeartbeat:         0,
	}
}

// waitSubscribed waits until connection n subscribed to every required
// filter, and checks what it asked for.
func (k *kit) waitSubscribed(timeout time.Duration, n int, what string) bool {
	var c connRec
	ok := waitFor(timeout, func() bool {
		for _, cc := range k.rec.connections() {
			if cc.N == n {
				c = cc
				have := map[string]bool{}
				for _, s := range cc.Subs {
					for _, f := range s.Filters {
						have[f.Filter] = true
					}
				}
				for f := range k.required() {
					if !have[f] {
						return false
					}
				}
				return true
			}
		}
		return false
	})
	if !ok {
		var got []string
		for _, s := range c.Subs {
			for _, f := range s.Filters {
				got = append(got, fmt.Sprintf("%s@%d", f.Filter, f.QoS))
			}
		}
		k.res.fail("connect", "%s: not subscribed to every required filter within %v: subscribed %v", what, timeout, got)
		return false
	}
	bad := false
	for _, s := range c.Subs {
		for _, f := range s.Filters {
			if q, ok := k.required()[f.Filter]; ok && q != f.QoS {
				bad = true
				k.res.fail("connect", "%s: subscribed to %s at QoS %d, the contract says %d", what, f.Filter, f.QoS, q)
			}
		}
	}
	if !bad {
		k.res.pass("connect", "%s: subscribed to its cmd, fleet/cmd, fleet/map, orchestrator/status at QoS 1 and orchestrator/heartbeat at QoS 0", what)
	}
	// The heartbeat last, in a SUBSCRIBE after those of the retained
	// topics (their retained messages then come first).
	retained, beat := -1, -1
	for i, s := range c.Subs {
		for _, f := range s.Filters {
			if f.Filter == topics.TopicOrchestratorHeartbeat {
				if beat < 0 {
					beat = i
				}
			} else if _, ok := k.required()[f.Filter]; ok {
				retained = max(retained, i)
			}
		}
	}
	k.res.check("connect", beat > retained, what+": orchestrator/heartbeat subscribed after the retained topics were granted",
		"%s: orchestrator/heartbeat subscribed in the same SUBSCRIBE as the retained topics or before them: a heartbeat may then come before a retained fleet stop", what)
	return true
}

func (k *kit) checkConnect(c connRec) {
	ci, id := c.Connect, k.o.RobotID
	if c.ConnectErr != nil {
		k.res.fail("connect", "unreadable CONNECT: %v", c.ConnectErr)
		return
	}
	k.res.check("connect", ci.Protocol == "MQTT" && ci.Level == 4, "MQTT 3.1.1",
		"CONNECT names protocol %q level %d, want MQTT level 4 (3.1.1)", ci.Protocol, ci.Level)
	k.res.check("connect", ci.ClientID == id && ci.HasUsername && ci.Username == id && ci.HasPassword,
		"username = client id = robot id, with a password",
		"CONNECT client id %q, username %q (set %v), password set %v: want both %q and a password", ci.ClientID, ci.Username, ci.HasUsername, ci.HasPassword, id)
	k.res.check("connect", !ci.Clean, "clean session false", "CONNECT asks for a clean session: a robot's session is persistent")
	k.res.check("connect", ci.KeepAliveS > 0 && ci.KeepAliveS <= 10, fmt.Sprintf("keepalive %d s", ci.KeepAliveS),
		"keepalive %d s, want 3 s (at most 10 s)", ci.KeepAliveS)
	willOK := ci.Will && ci.WillTopic == topics.Robot(id, topics.KindStatus) && ci.WillQoS == 1 && ci.WillRetain
	k.res.check("connect", willOK, "last will on its status, QoS 1, retained",
		"last will: set %v, topic %q, QoS %d, retained %v; want robots/%s/status, QoS 1, retained", ci.Will, ci.WillTopic, ci.WillQoS, ci.WillRetain, id)
	if ci.Will {
		st, err := topics.DecodeStatus(ci.WillPayload)
		switch {
		case err != nil:
			k.res.fail("connect", "last will payload: %v", err)
		case st.State != topics.StateOffline || st.Sender != id:
			k.res.fail("connect", "last will says state %q, sender %q; want offline, %q", st.State, st.Sender, id)
		default:
			k.res.pass("connect", "last will says state offline")
		}
	}
}

func (k *kit) phaseConnect() error {
	// What the orchestrator has retained before any robot comes.
	if err := k.orch.status(topics.OrchOnline); err != nil {
		return k.abort("connect", "the kit could not publish: %v", err)
	}
	if err := k.orch.fleetMap(k.markers, nil); err != nil {
		return k.abort("connect", "the kit could not publish: %v", err)
	}
	if f, err := k.orch.fleet(topics.FleetResume); err == nil {
		k.lastFleet = f
	}
	k.px.refuseSubacks(1)
	if err := k.startRobot(); err != nil {
		return k.abort("connect", "%v", err)
	}
	c, ok := k.waitConnect(30*time.Second, k.gen, 0)
	if !ok {
		return k.abort("connect", "no CONNECT within 30 s of starting the robot%s", k.robotGone())
	}
	k.checkConnect(c)

	// The first SUBACK was refused: the robot must subscribe again.
	var again bool
	waitFor(15*time.Second, func() bool {
		var refusedAt time.Time
		var refusedFilters []string
		for _, cc := range k.rec.connections() {
			if cc.Gen != k.gen {
				continue
			}
			for _, s := range cc.Subs {
				if len(refusedFilters) == 0 && slices.Contains(cc.Refused, s.ID) {
					refusedAt = s.At
					for _, f := range s.Filters {
						refusedFilters = append(refusedFilters, f.Filter)
					}
					continue
				}
				if len(refusedFilters) > 0 && s.At.After(refusedAt) {
					for _, f := range s.Filters {
						refusedFilters = slices.DeleteFunc(refusedFilters, func(r string) bool { return r == f.Filter })
					}
					if len(refusedFilters) == 0 {
						again = true
						return true
					}
				}
			}
		}
		return false
	})
	k.res.check("connect", again, "subscribed again after a refused SUBACK (0x80)",
		"the kit refused its first SUBACK (0x80 for every filter) and it did not subscribe to those filters again within 15 s")
	last := k.rec.connections()
	k.waitSubscribed(10*time.Second, last[len(last)-1].N, "first connection")

	m, ok := k.rec.waitMessage(20*time.Second, 0, topics.KindStatus, func(m message) bool { return m.Gen == k.gen })
	if !ok {
		return k.abort("status", "no status within 20 s of connecting")
	}
	st := m.Msg.(*topics.Status)
	k.res.check("status", st.State == topics.StateOnline, "online before the first directive",
		"its first status says %q, want online before any directive", st.State)
	k.checkFaces(st)
	if st.Faces != nil {
		k.faces = *st.Faces
		// As the orchestrator does: the roster names whose faces are whose.
		_ = k.orch.fleetMap(k.markers, []topics.RosterEntry{{Robot: k.o.RobotID, Faces: k.faces}})
	}
	if _, ok := k.rec.waitMessage(5*time.Second, 0, topics.KindHeartbeat, func(m message) bool { return true }); !ok {
		return k.abort("heartbeat", "no heartbeat within 5 s of its status")
	}
	k.say("idle for 3 s: heartbeats while nothing happens")
	time.Sleep(3 * time.Second)
	return nil
}

// checkFaces checks a status's faces: four distinct ids, and in a world
// the ones its body carries.
func (k *kit) checkFaces(st *topics.Status) {
	if st.Faces == nil {
		k.res.fail("status", "its status carries no faces")
		return
	}
	f := *st.Faces
	ids := []int{f.Front, f.Left, f.Back, f.Right}
	slices.Sort(ids)
	distinct := len(slices.Compact(ids)) == 4
	k.res.check("status", distinct, "four distinct face ids", "faces %+v are not four distinct ids", f)
	if k.w != nil {
		if r := k.w.Robot(k.o.RobotID); r != nil {
			k.res.check("status", r.FaceIDs() == f, "faces are the ones its body carries",
				"faces %+v, its body in the world carries %+v", f, r.FaceIDs())
		}
	}
}

func (k *kit) phaseMapping() error {
	mark := k.rec.mark()
	d, ok := k.send(topics.Directive{Kind: topics.DirMap, Reason: "conformance: sweep"}, true)
	if !ok {
		k.res.fail("mapping", "the map directive was not acknowledged")
		return nil
	}
	m, ok := k.rec.waitMessage(60*time.Second, mark, topics.KindEvents, func(m message) bool {
		e := event(m)
		return e != nil && (e.Kind == topics.EventMapDone || e.Kind == topics.EventFault)
	})
	if !ok {
		k.res.fail("mapping", "neither map_done nor fault within 60 s of the map directive (epoch %d, seq %d)", d.Epoch, d.Seq)
		return nil
	}
	if event(m).Kind == topics.EventFault {
		k.res.pass("mapping", "declined the sweep with a fault event (%q)", event(m).Detail)
		return nil
	}
	n, without, turned := 0, 0, 0.0
	for _, s := range k.rec.messages(mark, topics.KindSightings) {
		if s.At.After(m.At) {
			break
		}
		v := s.Msg.(*topics.Sightings)
		if len(v.Seen) == 0 {
			continue
		}
		n++
		if v.HeadingRad == nil {
			without++
			continue
		}
		turned = math.Max(turned, math.Abs(*v.HeadingRad))
	}
	k.res.check("mapping", n > 0 && without == 0, fmt.Sprintf("%d sightings in the sweep, each with heading_rad", n),
		"%d sightings in the sweep, %d of them without heading_rad", n, without)
	// The last frame comes a tick or so before the full circle.
	k.res.check("mapping", turned >= 2*math.Pi-0.5, fmt.Sprintf("turned %.2f rad before map_done", turned),
		"the sweep's sightings reach heading_rad %.2f, a full circle is %.2f", turned, 2*math.Pi)
	if k.tr != nil {
		if s, ok := k.tr.latest(); ok && math.Hypot(s.X, s.Y) > 0.05 {
			k.res.fail("mapping", "it left the centre during the sweep: %.2f m away", math.Hypot(s.X, s.Y))
		}
	}
	return nil
}

// routeDirective is the kit's route releasing released steps from step.
func (k *kit) routeDirective(released, step int) topics.Directive {
	d := topics.Directive{Kind: topics.DirRoute, Route: slices.Clone(kitRoute), Released: released, Step: step,
		StopM: kitStopM, Reason: "conformance"}
	if x, y, ok := mapping.ParkSpot(k.markers, kitRoute[len(kitRoute)-1], kitWallGap); ok {
		d.ParkXM, d.ParkYM = &x, &y
	}
	return d
}

func (k *kit) phaseLatches() error {
	mark := k.rec.mark()
	hold, ok := k.send(topics.Directive{Kind: topics.DirHold, Reason: "conformance: hold"}, true)
	if !ok {
		return k.abort("latches", "the hold was not acknowledged")
	}
	m, ok := k.waitState(ackWithin, mark, false, topics.StateHolding)
	k.res.check("status", ok, "holding after a hold", "no status holding within %v of the hold", ackWithin)
	if ok {
		st := m.Msg.(*topics.Status)
		k.res.check("status", st.Reason != "", "holding says why", "status holding with no reason")
	}

	k.orch.skip(10) // room for an older seq between the hold and the route
	route, ok := k.send(k.routeDirective(1, 0), true)
	if !ok {
		return k.abort("route", "the route directive was not acknowledged")
	}
	k.stand("latches", "a route does not lift a hold")

	// The same directive again (a redelivery) is a no-op.
	mark = k.rec.mark()
	if err := k.orch.sendDirective(route); err == nil {
		time.Sleep(1500 * time.Millisecond)
		acks := 0
		for _, m := range k.rec.messages(mark, topics.KindEvents) {
			if e := event(m); e != nil && e.Epoch == route.Epoch && e.CmdSeq == route.Seq {
				acks++
			}
		}
		k.res.check("directives", acks == 0, "the same (epoch, seq) again is a no-op",
			"the same route directive (epoch %d, seq %d) again drew %d events: it must be a no-op", route.Epoch, route.Seq, acks)
	}

	// Older ones: a resume of the same epoch with a seq between the hold's
	// and the route's, and one of an earlier epoch with a larger seq.
	// Neither may lift the hold.
	for _, old := range []struct {
		what       string
		epoch, seq uint64
	}{
		{"a resume with an older seq", hold.Epoch, hold.Seq + 1}, // between the hold's and the route's
		{"a resume of an earlier epoch", hold.Epoch - 1, route.Seq + 1000},
	} {
		mark = k.rec.mark()
		d := topics.Directive{Header: topics.Stamp(senderOrch, old.seq, time.Now()), Epoch: old.epoch, Kind: topics.DirResume}
		if err := k.orch.sendDirective(d); err != nil {
			return k.abort("directives", "the kit could not publish: %v", err)
		}
		k.say("sent %s: epoch %d seq %d", old.what, d.Epoch, d.Seq)
		k.waitStale(mark, old.what, d.Epoch, d.Seq)
		k.stand("directives", old.what+" is ignored: the hold stays")
	}

	// Fleet commands: acknowledged; a fleet resume lifts only a fleet stop.
	stop, _ := k.sendFleet(topics.FleetStop)
	k.sendFleet(topics.FleetResume)
	k.stand("latches", "a fleet resume does not lift the robot's own hold")
	mark = k.rec.mark()
	older := topics.FleetCommand{Header: topics.Stamp(senderOrch, stop.Seq, time.Now()), Epoch: stop.Epoch, Kind: topics.FleetStop}
	if err := k.orch.sendFleetRaw(older); err == nil {
		k.waitStale(mark, "a fleet stop with an older seq", older.Epoch, older.Seq)
	}
	// Retained, that older stop would stop the robot's next process.
	k.sendFleet(topics.FleetResume)

	if _, ok := k.send(topics.Directive{Kind: topics.DirResume}, true); !ok {
		return k.abort("latches", "the resume was not acknowledged")
	}
	if !k.waitMoves(15 * time.Second) {
		if cps := k.rec.messages(0, topics.KindCheckpoint); len(cps) > 0 {
			return k.abort("latches", "nothing left to drive after the resume: it had reached step 0 while held")
		}
		return k.abort("latches", "it did not move within 15 s of the resume, with step 0 released")
	}
	k.res.pass("latches", "resume lifts the hold")
	return nil
}

// A cause makes the robot stop: it returns when it took effect (the time
// the robot's bound counts from) and a function that ends it.

func (k *kit) causeStatusOffline() (time.Time, func() error) {
	_ = k.orch.status(topics.OrchOffline)
	return time.Now(), func() error { return k.orch.status(topics.OrchOnline) }
}

func (k *kit) causeHeartbeatStops() (time.Time, func() error) {
	k.orch.beating.Store(false)
	// The bound counts from the last heartbeat the robot heard.
	at := time.Unix(0, k.orch.lastBeat.Load())
	return at, func() error { k.orch.beating.Store(true); return nil }
}

func (k *kit) causeLinkCut() (time.Time, func() error) {
	at := time.Now()
	k.px.cut()
	return at, func() error { return nil }
}

// phaseLeg releases step and drives it; halfway the cause makes the robot
// stop. It must halt within the bound, report failsafe, stand after the
// cause ends until a fresh directive, and then reach the step.
func (k *kit) phaseLeg(step int, cause func() (time.Time, func() error), cut bool) error {
	id := kitRoute[step]
	mx, my := k.markerAt(id)
	if step > 0 {
		if _, ok := k.send(k.routeDirective(step+1, step), true); !ok {
			return k.abort("route", "the route releasing step %d was not acknowledged", step)
		}
	}
	if !k.waitDriving(30*time.Second, mx, my, kitStopM, 0.35) {
		return k.abort("route", "it did not drive towards marker %d (step %d) within 30 s of its release", id, step)
	}
	mark := k.rec.mark()
	conns := len(k.rec.connections())
	at, undo := cause()
	k.say("cause at %s", at.Format("15:04:05.000"))
	time.Sleep(haltBound + time.Second)
	ok, what := k.halted(at, haltBound, time.Now())
	k.res.check("failsafe", ok, fmt.Sprintf("step %d: halted within %v (%s)", step, haltBound, what),
		"step %d: %s", step, what)
	if err := undo(); err != nil {
		return k.abort("failsafe", "the kit could not undo the cause: %v", err)
	}
	if cut {
		// The link was cut: it reconnects, subscribes again, says its status.
		c, ok := k.waitConnect(20*time.Second, k.gen, k.rec.connections()[conns-1].N)
		if !ok {
			return k.abort("connect", "no new CONNECT within 20 s of the link cut")
		}
		k.waitSubscribed(10*time.Second, c.N, "after the link cut")
		_, ok = k.rec.waitMessage(10*time.Second, mark, topics.KindStatus, func(m message) bool { return m.Conn == c.N })
		k.res.check("status", ok, "status again after reconnecting", "no status on the new connection within 10 s of reconnecting")
	}
	_, ok = k.waitState(5*time.Second, mark, true, topics.StateFailsafe)
	k.res.check("failsafe", ok, fmt.Sprintf("step %d: reports failsafe", step), "step %d: no status or heartbeat with state failsafe", step)
	_, ok = k.rec.waitMessage(5*time.Second, mark, topics.KindEvents, func(m message) bool {
		return event(m) != nil && event(m).Kind == topics.EventFailsafe
	})
	k.res.check("failsafe", ok, fmt.Sprintf("step %d: event failsafe", step), "step %d: no event failsafe", step)
	k.stand("failsafe", fmt.Sprintf("step %d: stays stopped after the cause ends, until a fresh directive", step))

	// Fresh directives, as the orchestrator's resync sends them.
	k.send(k.routeDirective(step+1, step), true)
	k.send(topics.Directive{Kind: topics.DirResume}, true)
	return k.reach(step, mark)
}

// reach waits for the checkpoint of step and checks where the robot
// stands; a step that is not the last one must then be the end of the
// drive: the next step is not released.
func (k *kit) reach(step int, mark int) error {
	id := kitRoute[step]
	final := step == len(kitRoute)-1
	m, ok := k.rec.waitMessage(60*time.Second, mark, topics.KindCheckpoint, func(m message) bool {
		return m.Msg.(*topics.Checkpoint).Step == step
	})
	if !ok {
		return k.abort("checkpoint", "no checkpoint of step %d (marker %d) within 60 s; %s", step, id, k.lastWords(mark))
	}
	cp := m.Msg.(*topics.Checkpoint)
	k.res.check("checkpoint", cp.Marker == id && cp.Final == final && cp.Epoch == k.orch.epoch,
		fmt.Sprintf("step %d: checkpoint with its marker, final flag and the route's epoch", step),
		"step %d: checkpoint says marker %d final %v epoch %d, want %d %v %d", step, cp.Marker, cp.Final, cp.Epoch, id, final, k.orch.epoch)
	k.say("checkpoint step %d", step)
	if k.tr != nil {
		time.Sleep(300 * time.Millisecond) // it brakes
		s, _ := k.tr.latest()
		if final {
			d := k.routeDirective(0, 0)
			e := math.Hypot(s.X-*d.ParkXM, s.Y-*d.ParkYM)
			k.res.check("route", e <= 0.15, fmt.Sprintf("parked %.3f m from the park spot", e),
				"parked %.3f m from the park spot (%.2f, %.2f), want within 0.15 m", e, *d.ParkXM, *d.ParkYM)
		} else {
			mx, my := k.markerAt(id)
			d := math.Hypot(s.X-mx, s.Y-my)
			k.res.check("route", math.Abs(d-kitStopM) <= 0.12, fmt.Sprintf("step %d: stopped %.3f m from marker %d (stop_m %.2f)", step, d, id, kitStopM),
				"step %d: stopped %.3f m from marker %d, stop_m is %.2f", step, d, id, kitStopM)
		}
	} else {
		k.res.skip("route", "where it stops: no world, no ground truth")
	}
	if final {
		_, ok := k.waitState(ackWithin, mark, false, topics.StateDone)
		k.res.check("status", ok, "done after the last step", "no status done after the last step")
		return nil
	}
	_, ok = k.waitState(ackWithin, mark, false, topics.StateReached)
	k.res.check("status", ok, fmt.Sprintf("step %d: reached between released steps", step), "step %d: no status reached after the checkpoint", step)
	k.stand("route", fmt.Sprintf("step %d reached: it does not drive the step not released", step))
	return nil
}

func (k *kit) phaseResend() error {
	mark := k.rec.mark()
	k.resendFrom = time.Now()
	defer func() { k.resendTo = time.Now() }()
	d, ok := k.send(k.routeDirective(2, 0), true)
	if !ok {
		return k.abort("route", "the route with step 0 behind was not acknowledged")
	}
	var steps []int
	waitFor(3*time.Second, func() bool {
		steps = steps[:0]
		for _, m := range k.rec.messages(mark, topics.KindCheckpoint) {
			steps = append(steps, m.Msg.(*topics.Checkpoint).Step)
		}
		return len(steps) >= 2
	})
	time.Sleep(time.Second) // and nothing more
	steps = steps[:0]
	epochs := true
	for _, m := range k.rec.messages(mark, topics.KindCheckpoint) {
		steps = append(steps, m.Msg.(*topics.Checkpoint).Step)
		epochs = epochs && m.Msg.(*topics.Checkpoint).Epoch == d.Epoch
	}
	ok = slices.Equal(steps, []int{0, 1}) && epochs
	k.res.check("route", ok, "a route with step 0 behind progress 2: checkpoints 0 and 1 again, in order",
		"a route directive with step 0 while it had reached steps 0 and 1: checkpoints %v again, want [0 1] in order with epoch %d", steps, d.Epoch)
	k.res.check("checkpoint", ok, "again only when a route's step is behind", "checkpoints %v sent again for a route with step 0, want [0 1]", steps)
	k.stand("route", "nothing beyond released after the resend")
	return nil
}

func (k *kit) phaseFinal() error {
	step := len(kitRoute) - 1
	mx, my := k.markerAt(kitRoute[step])
	if _, ok := k.send(k.routeDirective(step+1, step), true); !ok {
		return k.abort("route", "the route releasing the last step was not acknowledged")
	}
	if !k.waitDriving(30*time.Second, mx, my, kitStopM, 0.35) {
		return k.abort("route", "it did not drive towards its last step within 30 s of its release")
	}
	at := time.Now()
	k.sendFleet(topics.FleetStop)
	time.Sleep(haltBound + 500*time.Millisecond)
	ok, what := k.halted(at, haltBound, time.Now())
	k.res.check("latches", ok, "halted on a fleet stop ("+what+")", "on a fleet stop: %s", what)

	// kill -9: the will says offline at once, and stays retained.
	willFrom := time.Now()
	k.robot.signal(syscall.SIGKILL)
	k.robot.wait(5 * time.Second)
	k.say("robot process %d killed", k.gen)
	got := waitFor(3*time.Second, func() bool {
		for _, s := range k.rec.brokerStatuses() {
			if s.At.After(willFrom) && s.Status != nil && s.Status.State == topics.StateOffline {
				return true
			}
		}
		return false
	})
	k.res.check("status", got, "kill -9: its will says offline", "kill -9: no status offline (its last will) within 3 s")
	if got {
		retained := make(chan *topics.Status, 4)
		if err := k.b.Subscribe(topics.Robot(k.o.RobotID, topics.KindStatus), 2, func(_ string, p []byte) {
			st, _ := topics.DecodeStatus(p)
			retained <- st
		}); err == nil {
			select {
			case st := <-retained:
				k.res.check("status", st != nil && st.State == topics.StateOffline, "the will is retained",
					"after its will, the retained status is %+v", st)
			case <-time.After(2 * time.Second):
				k.res.fail("status", "after its will, no retained status")
			}
			_ = k.b.Unsubscribe(topics.Robot(k.o.RobotID, topics.KindStatus), 2)
		}
	}

	// A late joiner: restarted during the fleet stop, it hears the retained
	// stop and stands until the fleet resume.
	conns := k.rec.connections()
	if err := k.startRobot(); err != nil {
		return k.abort("connect", "%v", err)
	}
	mark := k.rec.mark()
	c, ok := k.waitConnect(30*time.Second, k.gen, conns[len(conns)-1].N)
	if !ok {
		return k.abort("connect", "restarted, no CONNECT within 30 s%s", k.robotGone())
	}
	k.waitSubscribed(10*time.Second, c.N, "restarted")
	_, ok = k.rec.waitMessage(10*time.Second, mark, topics.KindStatus, func(m message) bool { return true })
	k.res.check("status", ok, "restarted: status after connecting", "restarted: no status within 10 s of connecting")
	k.stand("latches", "restarted during a fleet stop: stands until the fleet resume")
	k.sendFleet(topics.FleetResume)
	return k.reach(step, mark)
}

func (k *kit) phaseShutdown() error {
	mark := k.rec.mark()
	conns := k.rec.connections()
	k.robot.signal(syscall.SIGTERM)
	exited := k.robot.wait(10 * time.Second)
	k.res.check("status", exited, "exits on SIGTERM", "still running 10 s after SIGTERM")
	_, ok := k.rec.waitMessage(2*time.Second, mark, topics.KindStatus, func(m message) bool {
		return m.Msg.(*topics.Status).State == topics.StateOffline
	})
	k.res.check("status", ok, "publishes offline before disconnecting on purpose", "no status offline after SIGTERM")
	bye := false
	for _, c := range k.rec.connections() {
		if c.N >= conns[len(conns)-1].N && c.Disconnect {
			bye = true
		}
	}
	k.res.check("status", bye, "disconnects cleanly (DISCONNECT)", "no DISCONNECT after SIGTERM: the broker publishes its will instead")
	return nil
}

// lastWords says what the robot last reported since mark, and where the
// world has it: the facts a failed wait needs to be understood.
func (k *kit) lastWords(mark int) string {
	var out []string
	if ms := k.rec.messages(mark, topics.KindStatus); len(ms) > 0 {
		if st, ok := ms[len(ms)-1].Msg.(*topics.Status); ok {
			out = append(out, fmt.Sprintf("last status %s %q (directive epoch %d seq %d, step %d)", st.State, st.Reason, st.Epoch, st.CmdSeq, st.Step))
		}
	} else {
		out = append(out, "no status")
	}
	if ms := k.rec.messages(mark, topics.KindHeartbeat); len(ms) > 0 {
		if hb, ok := ms[len(ms)-1].Msg.(*topics.Heartbeat); ok {
			out = append(out, fmt.Sprintf("last heartbeat %s (route epoch %d seq %d, step %d)", hb.State, hb.RouteEpoch, hb.RouteSeq, hb.Step))
		}
	} else {
		out = append(out, "no heartbeat")
	}
	var evs []string
	for _, m := range k.rec.messages(mark, topics.KindEvents) {
		if e := event(m); e != nil {
			evs = append(evs, fmt.Sprintf("%s %d/%d %q", e.Kind, e.Epoch, e.CmdSeq, e.Detail))
		}
	}
	out = append(out, fmt.Sprintf("events [%s]", strings.Join(evs[max(0, len(evs)-6):], "; ")))
	if k.tr != nil {
		if s, ok := k.tr.latest(); ok {
			out = append(out, fmt.Sprintf("in the world at (%.2f, %.2f) commanding %.2f m/s %.2f rad/s", s.X, s.Y, s.CmdLin, s.CmdAng))
		}
	}
	return strings.Join(out, ", ")
}
