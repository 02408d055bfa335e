package pilot

import (
	"fmt"
	"math"
	"slices"
	"time"

	"collaborate/topics"
)

// newer compares (epoch, seq) pairs, epoch first: 1 newer, 0 same, -1 older.
func newer(epoch, seq, lastEpoch, lastSeq uint64) int {
	switch {
	case epoch != lastEpoch:
		if epoch > lastEpoch {
			return 1
		}
		return -1
	case seq > lastSeq:
		return 1
	case seq < lastSeq:
		return -1
	}
	return 0
}

// checkPark refuses a park spot outside the arena: beyond the ring of
// mapped markers (which sit on the wall), the robot would drive into it.
func (p *Pilot) checkPark(x, y float64) error {
	r := 0.0
	for _, m := range p.markers {
		r = math.Max(r, math.Hypot(m[0], m[1]))
	}
	if len(p.markers) > 0 && math.Hypot(x, y) >= r {
		return fmt.Errorf("directive: park spot (%.2f, %.2f) is outside the arena (markers at %.2f m from its centre)", x, y, r)
	}
	return nil
}

// applyDirective applies d once: only when its (epoch, seq) is newer than
// the last applied. Latches (hold, stop, back-off wait, failsafe) are lifted
// only as documented; nothing resumes the robot implicitly.
func (p *Pilot) applyDirective(now time.Time, d *topics.Directive, out *Output) {
	err := d.Validate()
	if err == nil && d.ParkXM != nil && d.ParkYM != nil {
		err = p.checkPark(*d.ParkXM, *d.ParkYM)
	}
	if err != nil {
		p.stats.RejectedMessages++
		out.Problems = append(out.Problems, fmt.Sprintf("directive rejected: %v", err))
		return
	}
	if p.haveDir {
		switch newer(d.Epoch, d.Seq, p.dirEpoch, p.dirSeq) {
		case 0:
			p.stats.DuplicateDirectives++
			return
		case -1:
			p.stats.StaleDirectives++
			out.Problems = append(out.Problems, fmt.Sprintf("stale %s directive epoch %d seq %d ignored: last applied epoch %d seq %d",
				d.Kind, d.Epoch, d.Seq, p.dirEpoch, p.dirSeq))
			p.event(now, out, topics.Event{Kind: topics.EventStale, Epoch: d.Epoch, CmdSeq: d.Seq,
				Detail: fmt.Sprintf("%s older than epoch %d seq %d", d.Kind, p.dirEpoch, p.dirSeq)})
			return
		}
	}
	p.haveDir, p.dirEpoch, p.dirSeq = true, d.Epoch, d.Seq
	p.commanded = true
	// A fresh directive is the explicit word that lifts a failsafe; the link
	// must still be up for the robot to move.
	p.failsafeLatched = false
	switch d.Kind {
	case topics.DirRoute:
		p.applyRoute(now, d, out)
	case topics.DirHold, topics.DirStop:
		p.held = true
		p.stopped = p.stopped || d.Kind == topics.DirStop
		p.heldReason = d.Kind
		if d.Reason != "" {
			p.heldReason += ": " + d.Reason
		}
		p.blocked = false
		if p.mode == modeBackoff {
			p.endBackoff()
		}
	case topics.DirResume:
		p.held, p.heldReason, p.stopped = false, "", false
		p.awaiting = false
		p.blocked = false
		if p.mode == modeFault {
			p.mode = modeIdle
			if len(p.route) > 0 {
				p.mode = modeRoute
			}
			p.resetNav()
		}
	case topics.DirMap:
		p.mode = modeMapping
		p.mapTurned = 0
		p.awaiting, p.blocked, p.yielding = false, false, false
		p.resetNav()
	case topics.DirBackoff:
		if p.stopped {
			// A stop lasts until a resume: a backoff does not move a
			// stopped robot.
			out.Problems = append(out.Problems, fmt.Sprintf("backoff (epoch %d seq %d) ignored: stopped until a resume", d.Epoch, d.Seq))
			break
		}
		p.mode = modeBackoff
		p.backoffLeft = d.BackoffM
		p.blocked, p.yielding = false, false
		p.resetNav()
	}
	p.event(now, out, topics.Event{Kind: topics.EventAck, Epoch: d.Epoch, CmdSeq: d.Seq, Detail: d.Kind})
}

// applyRoute sets or extends the route. The same route again only changes
// how far it is released (and never moves progress backwards); a different
// route starts at its Step. A route whose Step is behind the robot's
// progress means the orchestrator has not recorded checkpoints the robot
// sent (a broker that crashed after acknowledging them): they are sent
// again, in order; the orchestrator counts each (robot, epoch, step) once.
func (p *Pilot) applyRoute(now time.Time, d *topics.Directive, out *Output) {
	if slices.Equal(p.route, d.Route) {
		for s := d.Step; s < p.step && s <= p.lastCheckpoint; s++ {
			cp := &topics.Checkpoint{Header: p.stamp(topics.KindCheckpoint, now), Epoch: d.Epoch,
				Marker: p.route[s], Step: s, Final: s == len(p.route)-1}
			out.Publish = append(out.Publish, Msg{Kind: topics.KindCheckpoint, Body: cp})
			p.stats.CheckpointsResent++
		}
		p.step = max(p.step, d.Step)
	} else {
		p.route = slices.Clone(d.Route)
		p.step = d.Step
		p.lastCheckpoint = -1
		p.resetNav()
	}
	p.released = d.Released
	p.stopM, p.stopRadial, p.park = d.StopM, d.StopRadial, nil
	if d.ParkXM != nil && d.ParkYM != nil {
		p.park = &[2]float64{*d.ParkXM, *d.ParkYM}
	}
	p.routeEpoch, p.routeSeq = d.Epoch, d.Seq
	p.mode = modeRoute
	p.awaiting, p.blocked = false, false
	p.backoffLeft = 0
}

// applyFleet applies a fleet/cmd once, by (epoch, seq) like a directive. A
// fleet resume lifts only the fleet stop.
func (p *Pilot) applyFleet(now time.Time, f *topics.FleetCommand, out *Output) {
	if err := f.Validate(); err != nil {
		p.stats.RejectedMessages++
		out.Problems = append(out.Problems, fmt.Sprintf("fleet command rejected: %v", err))
		return
	}
	if p.haveFleet {
		switch newer(f.Epoch, f.Seq, p.fleetEpoch, p.fleetS) {
		case 0:
			p.stats.DuplicateDirectives++
			return
		case -1:
			p.stats.StaleDirectives++
			out.Problems = append(out.Problems, fmt.Sprintf("stale fleet %s epoch %d seq %d ignored", f.Kind, f.Epoch, f.Seq))
			p.event(now, out, topics.Event{Kind: topics.EventStale, Epoch: f.Epoch, CmdSeq: f.Seq,
				Detail: "fleet " + f.Kind})
			return
		}
	}
	p.haveFleet, p.fleetEpoch, p.fleetS = true, f.Epoch, f.Seq
	p.fleetStop = f.Kind == topics.FleetStop
	p.event(now, out, topics.Event{Kind: topics.EventAck, Epoch: f.Epoch, CmdSeq: f.Seq, Detail: "fleet " + f.Kind})
}

// setMap takes a new fleet map: marker positions, the distance scale and the
// roster of face markers.
func (p *Pilot) setMap(m *topics.FleetMap, out *Output) {
	if err := m.Validate(); err != nil {
		p.stats.RejectedMessages++
		out.Problems = append(out.Problems, fmt.Sprintf("fleet map rejected: %v", err))
		return
	}
	p.haveMap = true
	p.scale = m.Scale
	p.markers = make(map[int][2]float64, len(m.Markers))
	for _, mk := range m.Markers {
		p.markers[mk.ID] = [2]float64{mk.XM, mk.YM}
	}
	p.roster = map[int]owner{}
	for _, r := range m.Roster {
		for i, id := range []int{r.Faces.Front, r.Faces.Left, r.Faces.Back, r.Faces.Right} {
			p.roster[id] = owner{robot: r.Robot, face: topics.FaceNames[i]}
		}
	}
}

// stateAndReason is the state reported on status and pose, highest priority
// first, and why.
func (p *Pilot) stateAndReason() (string, string) {
	switch {
	case p.failsafeLatched || (p.everOK && !(p.linkWasOK)):
		return topics.StateFailsafe, p.failsafeReason
	case p.mode == modeFault:
		return topics.StateFault, p.faultReason
	case p.fleetStop:
		return topics.StateHolding, "fleet stop"
	case p.mode == modeBackoff:
		return topics.StateBackingUp, ""
	case p.held:
		return topics.StateHolding, p.heldReason
	case p.awaiting:
		return topics.StateHolding, "backed off, waiting for a directive"
	case p.mode == modeMapping:
		return topics.StateMapping, ""
	case p.mode == modeRoute:
		switch {
		case p.step >= len(p.route):
			return topics.StateDone, ""
		case p.step >= p.released:
			if p.lastCheckpoint >= 0 {
				return topics.StateReached, "next step not released"
			}
			return topics.StateIdle, "no step released"
		case p.blocked:
			b := p.blockedBy
			return topics.StateBlocked, fmt.Sprintf("%s face %d of %q ahead", b.face, b.id, b.robot)
		case p.yielding:
			return topics.StateYielding, fmt.Sprintf("%s face %d of %q ahead", p.yieldBy.face, p.yieldBy.id, p.yieldBy.robot)
		}
		return topics.StateMoving, ""
	case !p.commanded:
		return topics.StateOnline, ""
	}
	return topics.StateIdle, ""
}

func (p *Pilot) publishStatus(now time.Time, reconnected bool, out *Output) {
	state, reason := p.stateAndReason()
	k := statusKey{state: state, reason: reason, step: p.step, target: -1, epoch: p.dirEpoch, cmdSeq: p.dirSeq}
	if t, ok := p.target(); ok {
		k.target = t
	}
	if p.statusSent && k == p.lastKey && !reconnected && now.Sub(p.lastStatus) < p.cfg.StatusEvery {
		return
	}
	p.statusSent, p.lastKey, p.lastStatus = true, k, now
	faces := p.cfg.Faces
	st := &topics.Status{Header: p.stamp(topics.KindStatus, now), State: state, Version: p.cfg.Version,
		Faces: &faces, Epoch: p.dirEpoch, CmdSeq: p.dirSeq, Step: p.step, Reason: reason}
	if k.target >= 0 {
		t := k.target
		st.Target = &t
	}
	out.Publish = append(out.Publish, Msg{Kind: topics.KindStatus, Body: st})
}

// publishHeartbeat publishes robots/{id}/heartbeat every HeartbeatEvery,
// whatever the state: it keeps the robot online at the orchestrator and
// tells it which directives are applied.
func (p *Pilot) publishHeartbeat(now time.Time, out *Output) {
	if !p.nextBeat.IsZero() && now.Before(p.nextBeat) {
		return
	}
	if p.nextBeat.IsZero() || now.Sub(p.nextBeat) >= p.cfg.HeartbeatEvery {
		p.nextBeat = now
	}
	p.nextBeat = p.nextBeat.Add(p.cfg.HeartbeatEvery)
	state, _ := p.stateAndReason()
	hb := &topics.Heartbeat{Header: p.stamp(topics.KindHeartbeat, now), State: state,
		Epoch: p.dirEpoch, CmdSeq: p.dirSeq, Step: p.step}
	if len(p.route) > 0 {
		hb.RouteEpoch, hb.RouteSeq = p.routeEpoch, p.routeSeq
	}
	if p.fix && p.haveMap {
		x, y, th := p.x, p.y, p.th
		hb.XM, hb.YM, hb.ThetaRad = &x, &y, &th
	}
	out.Publish = append(out.Publish, Msg{Kind: topics.KindHeartbeat, Body: hb})
}

// publishPose publishes at 1/PoseEvery while the robot moves and at
// 1/PoseIdleEvery while it stands. Deadlines advance by whole periods so
// that the mean rate holds even when ticks do not divide the period.
func (p *Pilot) publishPose(now time.Time, out *Output) {
	period := p.cfg.PoseIdleEvery
	if p.cmdLin != 0 || p.cmdAng != 0 {
		period = p.cfg.PoseEvery
		if p.nextPose.Sub(now) > period {
			p.nextPose = now
		}
	}
	if p.poseSent && now.Before(p.nextPose) {
		return
	}
	if !p.poseSent || now.Sub(p.nextPose) >= period {
		p.nextPose = now
	}
	p.nextPose = p.nextPose.Add(period)
	p.poseSent = true
	state, _ := p.stateAndReason()
	ps := &topics.Pose{Header: p.stamp(topics.KindPose, now), State: state, SpeedMps: p.cmdLin, Step: p.step}
	if t, ok := p.target(); ok {
		ps.Target = &t
		if d, ok := p.targetDistance(now, t); ok {
			ps.DistanceM = &d
		}
	}
	if p.fix && p.haveMap {
		x, y, th := p.x, p.y, p.th
		ps.XM, ps.YM, ps.ThetaRad = &x, &y, &th
	}
	out.Publish = append(out.Publish, Msg{Kind: topics.KindPose, Body: ps})
}
