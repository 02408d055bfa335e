package conform

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"collaborate/topics"
)

// analyse judges the whole run's log: headers and seqs, QoS and retain
// flags, heartbeat and pose rates and contents, checkpoints once and in
// order, and what the robot wrote and read.
func (k *kit) analyse() {
	msgs := k.rec.messages(0, "")
	if len(msgs) == 0 {
		return
	}
	k.analyseHeaders(msgs)
	k.analysePolicies(msgs)
	k.analyseHeartbeats(msgs)
	k.analysePoses(msgs)
	k.analyseCheckpoints(msgs)
	k.analyseAccess()
	k.res.skip("reflex", "needs a second robot in the robot's path; the kit's world holds the robot alone (the fault suite and the campaign test the Go robot's reflex)")
	k.res.skip("pose", "the scale of fleet/map: the kit's map says 1 and its world's camera is true to scale")
}

// firstFailures keeps a failure list short: a robot that breaks a rule on
// every message would print thousands of lines.
const firstFailures = 3

func (k *kit) analyseHeaders(msgs []message) {
	id := k.o.RobotID
	bad := 0
	report := func(format string, args ...any) {
		bad++
		if bad <= firstFailures {
			k.res.fail("header", format, args...)
		}
	}
	last := map[string]uint64{}     // topic -> last seq, this process
	lastGen := map[string]uint64{}  // topic -> last seq of the previous process
	firstGen := map[string]uint64{} // topic -> first seq of this process
	gen := 0
	restarts := 0
	for _, m := range msgs {
		if m.Gen != gen {
			for t, s := range last {
				lastGen[t] = s
			}
			clear(last)
			clear(firstGen)
			gen = m.Gen
			if gen > 1 {
				restarts++
			}
		}
		if len(m.Payload) > topics.MaxPayload {
			report("%s: payload of %d bytes, over %d", m.Topic, len(m.Payload), topics.MaxPayload)
		}
		if m.Err != nil {
			report("%s: %v", m.Topic, oneLine(m.Err.Error()))
			continue
		}
		var raw struct {
			V  json.RawMessage `json:"v"`
			TS string          `json:"ts"`
		}
		_ = json.Unmarshal(m.Payload, &raw)
		if string(raw.V) != "1" {
			report("%s: v is %s, want 1", m.Topic, raw.V)
		}
		if !strings.HasSuffix(raw.TS, "Z") && !strings.HasSuffix(raw.TS, "+00:00") {
			report("%s: ts %q is not UTC", m.Topic, raw.TS)
		}
		h := topics.HeaderOf(m.Msg)
		if h.Sender != id {
			report("%s: sender %q, want %q", m.Topic, h.Sender, id)
		}
		if m.Dup {
			continue // a QoS 1 retransmission carries the first one's seq
		}
		if prev, ok := last[m.Topic]; ok && h.Seq <= prev {
			report("%s: seq %d after %d: it must increase per topic", m.Topic, h.Seq, prev)
		}
		if _, ok := firstGen[m.Topic]; !ok {
			firstGen[m.Topic] = h.Seq
			if prev, ok := lastGen[m.Topic]; ok && gen > 1 && h.Seq <= prev {
				report("%s: restarted, seq starts again at %d after %d: start it from the boot time in milliseconds", m.Topic, h.Seq, prev)
			}
		}
		last[m.Topic] = h.Seq
	}
	if bad > firstFailures {
		k.res.fail("header", "and %d more", bad-firstFailures)
	}
	if bad == 0 {
		what := fmt.Sprintf("%d payloads: v 1, sender %s, seq increasing per topic, ts UTC, at most %d bytes", len(msgs), id, topics.MaxPayload)
		if restarts > 0 {
			what += ", seq increasing across a restart"
		}
		k.res.pass("header", "%s", what)
	}
}

// ruleOfKind is the rule that states a kind's QoS and retain flag.
var ruleOfKind = map[topics.Kind]string{
	topics.KindStatus:     "status",
	topics.KindHeartbeat:  "heartbeat",
	topics.KindCheckpoint: "checkpoint",
	topics.KindPose:       "pose",
	topics.KindSightings:  "pose",
	topics.KindEvents:     "header",
}

func (k *kit) analysePolicies(msgs []message) {
	seen := map[topics.Kind]int{}
	bad := map[topics.Kind]bool{}
	for _, m := range msgs {
		if m.Kind == "" || m.Msg == nil {
			continue
		}
		seen[m.Kind]++
		p := topics.PolicyOf(m.Kind)
		if (m.QoS != p.QoS || m.Retain != p.Retained) && !bad[m.Kind] {
			bad[m.Kind] = true
			k.res.fail(ruleOfKind[m.Kind], "%s published at QoS %d retained %v, the contract says QoS %d retained %v",
				m.Kind, m.QoS, m.Retain, p.QoS, p.Retained)
		}
	}
	for kind, n := range seen {
		if rule, ok := ruleOfKind[kind]; ok && !bad[kind] {
			p := topics.PolicyOf(kind)
			k.res.pass(rule, "%d %s messages at QoS %d, retained %v", n, kind, p.QoS, p.Retained)
		}
	}
	if seen[topics.KindSightings] == 0 {
		k.res.fail("pose", "no sightings in the whole run, though markers were in view")
	}
}

// analyseHeartbeats checks the period, in every state, on each connection,
// and that each heartbeat reports the directives applied by then.
func (k *kit) analyseHeartbeats(msgs []message) {
	var gaps []time.Duration
	states := map[string]int{}
	var prev *message
	for i := range msgs {
		m := &msgs[i]
		hb, ok := m.Msg.(*topics.Heartbeat)
		if !ok {
			continue
		}
		states[hb.State]++
		if prev != nil && prev.Conn == m.Conn {
			gaps = append(gaps, m.At.Sub(prev.At))
		}
		prev = m
	}
	if len(gaps) < 10 {
		k.res.fail("heartbeat", "only %d heartbeats in the whole run", len(gaps)+1)
		return
	}
	var sum, worst time.Duration
	for _, g := range gaps {
		sum += g
		worst = max(worst, g)
	}
	mean := sum / time.Duration(len(gaps))
	// Every 0.5 s, within 10% on average; no gap as long as the
	// orchestrator's 2 s silence timeout.
	k.res.check("heartbeat", mean <= topics.HeartbeatPeriod*11/10 && worst < topics.RobotSilence,
		fmt.Sprintf("%d heartbeats, every %v on average, %v at most", len(gaps)+1, mean.Round(time.Millisecond), worst.Round(time.Millisecond)),
		"heartbeats every %v on average, %v at most; want every %v (and never silent for the %v silence timeout)",
		mean.Round(time.Millisecond), worst.Round(time.Millisecond), topics.HeartbeatPeriod, topics.RobotSilence)
	var names []string
	for s := range states {
		names = append(names, s)
	}
	slices.Sort(names)
	// Whatever the state: in every state its status reported for a second
	// or more (two heartbeat periods).
	lasted := map[string]time.Duration{}
	var last *message
	for i := range msgs {
		m := &msgs[i]
		if _, ok := m.Msg.(*topics.Status); !ok || m.Dup {
			continue
		}
		if last != nil && last.Gen == m.Gen {
			st := last.Msg.(*topics.Status).State
			lasted[st] = max(lasted[st], m.At.Sub(last.At))
		}
		last = m
	}
	for _, must := range []string{topics.StateHolding, topics.StateFailsafe, topics.StateMoving} {
		if lasted[must] >= 2*topics.HeartbeatPeriod {
			k.res.check("heartbeat", states[must] > 0, "heartbeats while "+must,
				"no heartbeat with state %s, though its status said %s for %v (heartbeat states: %v)", must, must, lasted[must].Round(time.Millisecond), names)
		}
	}

	// Contents: after a directive was acknowledged, and until the next one
	// was sent, heartbeats of that process report it.
	bad := 0
	checked := 0
	for i, a := range k.applied {
		end := time.Now()
		if i+1 < len(k.applied) {
			end = k.applied[i+1].sentAt
		}
		var route *applied
		for j := i; j >= 0; j-- {
			if k.applied[j].d.Kind == topics.DirRoute && k.applied[j].gen == a.gen {
				route = &k.applied[j]
				break
			}
		}
		for _, m := range msgs {
			hb, ok := m.Msg.(*topics.Heartbeat)
			// A tick after the ack: the heartbeat of the very tick may
			// overtake the QoS 1 ack on the way.
			if !ok || m.Gen != a.gen || m.At.Before(a.ackAt.Add(2*tick)) || !m.At.Before(end) {
				continue
			}
			checked++
			okCmd := hb.Epoch == a.d.Epoch && hb.CmdSeq == a.d.Seq
			okRoute := route == nil || (hb.RouteEpoch == route.d.Epoch && hb.RouteSeq == route.d.Seq)
			if !okCmd || !okRoute {
				bad++
				if bad <= firstFailures {
					want := fmt.Sprintf("epoch %d cmd_seq %d", a.d.Epoch, a.d.Seq)
					if route != nil {
						want += fmt.Sprintf(" route_epoch %d route_seq %d", route.d.Epoch, route.d.Seq)
					}
					k.res.fail("heartbeat", "%.2f s after the ack of the %s directive: heartbeat says epoch %d cmd_seq %d route_epoch %d route_seq %d, want %s",
						m.At.Sub(a.ackAt).Seconds(), a.d.Kind, hb.Epoch, hb.CmdSeq, hb.RouteEpoch, hb.RouteSeq, want)
				}
			}
		}
	}
	if bad == 0 && checked > 0 {
		k.res.pass("heartbeat", "%d heartbeats report the (epoch, cmd_seq) and (route_epoch, route_seq) applied", checked)
	}
	k.checkPositions(msgs, "heartbeat")
}

// checkPositions compares the positions a robot reports (pose or
// heartbeat) with its body's, once it says it is localised.
func (k *kit) checkPositions(msgs []message, kind topics.Kind) {
	if k.tr == nil {
		return
	}
	n, worst := 0, 0.0
	for _, m := range msgs {
		var x, y *float64
		switch v := m.Msg.(type) {
		case *topics.Heartbeat:
			x, y = v.XM, v.YM
		case *topics.Pose:
			x, y = v.XM, v.YM
		}
		if x == nil || y == nil || m.Kind != kind {
			continue
		}
		s, ok := k.tr.at(m.At)
		if !ok {
			continue
		}
		n++
		worst = math.Max(worst, math.Hypot(*x-s.X, *y-s.Y))
	}
	if n == 0 {
		k.res.fail("start", "no %s with x_m/y_m: it never localised from the map's markers", kind)
		return
	}
	// A localisation from noisy bearings and dead reckoning between fixes:
	// within 0.3 m of where the body is.
	k.res.check("start", worst <= 0.3, fmt.Sprintf("%d %s positions within %.2f m of its body", n, kind, worst),
		"a %s position %.2f m from where its body was (of %d)", kind, worst, n)
}

// analysePoses checks the pose rate while the robot drives (the world's
// truth), and that distance_m is to the target marker.
func (k *kit) analysePoses(msgs []message) {
	k.checkPositions(msgs, topics.KindPose)
	if k.tr == nil {
		k.res.skip("pose", "the rate while moving: no world, no ground truth")
		return
	}
	// Windows where the robot drove forward for at least a second.
	ss := k.tr.between(time.Time{}, time.Now())
	type window struct{ from, to time.Time }
	var ws []window
	var start time.Time
	for _, s := range ss {
		on := s.CmdLin > 0.02
		switch {
		case on && start.IsZero():
			start = s.At
		case !on && !start.IsZero():
			if s.At.Sub(start) >= 1500*time.Millisecond {
				ws = append(ws, window{start, s.At})
			}
			start = time.Time{}
		}
	}
	var span time.Duration
	poses := 0
	for _, w := range ws {
		// The first pose period belongs to the robot's decision to move.
		from := w.from.Add(300 * time.Millisecond)
		span += w.to.Sub(from)
		for _, m := range msgs {
			if m.Kind == topics.KindPose && !m.At.Before(from) && m.At.Before(w.to) {
				poses++
			}
		}
	}
	if span < 3*time.Second {
		k.res.skip("pose", "the rate while moving: it drove for only %v", span)
		return
	}
	hz := float64(poses) / span.Seconds()
	k.res.check("pose", hz >= 4.5, fmt.Sprintf("%.1f poses a second while driving (%d in %.1f s)", hz, poses, span.Seconds()),
		"%.1f poses a second while driving (%d in %.1f s), want 5 or more", hz, poses, span.Seconds())

	// distance_m is to the target marker, on the way (not when parking).
	n, worst := 0, 0.0
	for _, m := range msgs {
		p, ok := m.Msg.(*topics.Pose)
		if !ok || p.DistanceM == nil || p.Target == nil || p.Step >= len(kitRoute)-1 {
			continue
		}
		s, ok := k.tr.at(m.At)
		if !ok {
			continue
		}
		mx, my := k.markerAt(*p.Target)
		d := math.Hypot(mx-s.X, my-s.Y)
		n++
		worst = math.Max(worst, math.Abs(*p.DistanceM-d)/d)
	}
	if n > 0 {
		k.res.check("route", worst <= 0.2, fmt.Sprintf("pose distance_m is to the target marker (%d poses, within %.0f%%)", n, 100*worst),
			"a pose's distance_m is %.0f%% off the distance to its target marker", 100*worst)
	}
}

// analyseCheckpoints checks every step once, in order, outside the resend.
func (k *kit) analyseCheckpoints(msgs []message) {
	var steps []int
	for _, m := range msgs {
		cp, ok := m.Msg.(*topics.Checkpoint)
		if !ok || m.Dup || (!k.resendFrom.IsZero() && !m.At.Before(k.resendFrom) && m.At.Before(k.resendTo)) {
			continue
		}
		steps = append(steps, cp.Step)
	}
	if len(steps) == 0 {
		return
	}
	ok := true
	for i, s := range steps {
		ok = ok && s == i
	}
	k.res.check("checkpoint", ok, fmt.Sprintf("steps %v, each once and in order", steps),
		"checkpoints for steps %v, want each step once, in order (resends for a route that was behind left out)", steps)
}

// analyseAccess checks that the robot wrote only its own topics and
// subscribed to nothing a robot may not read.
func (k *kit) analyseAccess() {
	id := k.o.RobotID
	foreign := map[string]bool{}
	for _, m := range k.rec.messages(0, "") {
		t, err := topics.Parse(m.Topic)
		if err != nil || t.Robot != id || !slices.Contains(topics.RobotPublishes, t.Kind) {
			foreign[m.Topic] = true
		}
	}
	var fs []string
	for t := range foreign {
		fs = append(fs, t)
	}
	slices.Sort(fs)
	k.res.check("start", len(fs) == 0, "publishes only on its own robots/"+id+"/* topics",
		"published on %v: a robot writes only its own topics", fs)
	denied := map[string]bool{}
	for _, c := range k.rec.connections() {
		for _, s := range c.Subs {
			for _, f := range s.Filters {
				if !robotMayRead(id, f.Filter) {
					denied[f.Filter] = true
				}
			}
		}
	}
	var ds []string
	for f := range denied {
		ds = append(ds, f)
	}
	slices.Sort(ds)
	k.res.check("start", len(ds) == 0, "subscribes to nothing a robot may not read",
		"subscribed to %v: a robot reads its own cmd, fleet/*, orchestrator/*, and robots/+/status and robots/+/heartbeat, never another robot's directives", ds)
}

// robotMayRead is the contract's read access of a robot, for a filter.
func robotMayRead(id, f string) bool {
	switch {
	case f == topics.Robot(id, topics.KindCmd), f == topics.TopicOrchestratorStatus, f == topics.TopicOrchestratorHeartbeat,
		f == topics.TopicFleetCmd, f == topics.TopicFleetMap, f == "fleet/#", f == "fleet/+":
		return true
	}
	parts := strings.Split(f, "/")
	if len(parts) != 3 || parts[0] != "robots" || (parts[1] != "+" && !topics.ValidRobotID(parts[1])) {
		return false
	}
	return parts[2] == string(topics.KindStatus) || parts[2] == string(topics.KindHeartbeat)
}
