package core

import (
	"fmt"
	"math"
	"slices"
	"time"

	"collaborate/orchestrator/traffic"
	"collaborate/topics"
)

// NoTraffic is a planner that never holds anyone; in a head-on the robot with
// the greater id backs off. It is the default and the "traffic off" baseline.
type NoTraffic struct{}

// Plan returns no orders.
func (NoTraffic) Plan(time.Time, []traffic.Robot) []traffic.Order { return nil }

// HeadOn makes the greater id back off.
func (NoTraffic) HeadOn(_ time.Time, a, b string) (string, string) {
	if a > b {
		return a, b
	}
	return b, a
}

// unplaced lists the robots with a mission that are not online with a
// known position.
func (c *Core) unplaced() []string {
	var out []string
	for id := range c.missions {
		if c.invalid[id] != nil {
			continue
		}
		rb, ok := c.reg.Get(id)
		if !ok || !rb.Online {
			out = append(out, id)
			continue
		}
		if _, _, has := rb.Position(); !has {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// TrafficInputs builds the planner's view of every robot that has been heard
// from. Exposed for tests and the dashboard.
func (c *Core) TrafficInputs() []traffic.Robot {
	ids := c.reg.IDs()
	out := make([]traffic.Robot, 0, len(ids))
	for _, id := range ids {
		out = append(out, c.trafficRobot(id))
	}
	return out
}

func (c *Core) trafficRobot(id string) traffic.Robot {
	rb, _ := c.reg.Get(id)
	k := c.robotCtl(id)
	r := traffic.Robot{ID: id, Online: rb.Online, Holding: k.traffic != nil,
		Stands:   k.headOn != nil || k.operatorHold || k.stopped || c.fleetStopped,
		SpeedMps: c.cfg.Missions.SpeedOf(id, c.cfg.DefaultSpeedMps)}
	if rb.Pose != nil && rb.Pose.ThetaRad != nil {
		r.Heading, r.HasHeading = *rb.Pose.ThetaRad, true
	}
	m := c.missions[id]
	if m != nil && c.invalid[id] == nil && c.mapper != id {
		r.Step, r.Done = m.Reached, m.Done()
		for _, mk := range m.Route {
			x, y, ok := c.marker(mk)
			if !ok {
				r.Route = nil
				break
			}
			r.Route = append(r.Route, traffic.Point{X: x, Y: y})
		}
		if !k.sent || k.operatorHold || k.stopped || c.fleetStopped {
			// No route directive in force (not yet, or it went offline),
			// or an operator stopped it: nothing to plan, but it stands
			// where it is, an obstacle. A leg granted to a robot that
			// cannot drive it would let others plan around a robot that is
			// not where the plan says. The planner keeps its state (a
			// traffic hold it waits on) until it is back.
			r.Route, r.Step, r.Done = nil, 0, false
		}
		if x, y, ok := c.parkSpot(id); ok && len(r.Route) > 0 {
			r.Park, r.HasPark = traffic.Point{X: x, Y: y}, true
		}
		if m.Start != nil {
			r.Start, r.HasStart = traffic.Point{X: m.Start.XM, Y: m.Start.YM}, true
		}
	}
	var to traffic.Point
	if m != nil && c.invalid[id] == nil && k.sent && c.mapper != id {
		if tgt, ok := m.Target(); ok {
			if x, y, ok := c.marker(tgt); ok {
				to, r.HasTarget = traffic.Point{X: x, Y: y}, true
				r.Final = m.Reached == len(m.Route)-1
				r.From = c.startOf(id)
				r.To = to
			}
		}
	}
	px, py, hasPos := rb.Position()
	if !r.HasTarget {
		switch {
		case hasPos:
			r.Pos = traffic.Point{X: px, Y: py}
		default:
			r.Pos = c.startOf(id)
		}
		r.From, r.To = r.Pos, r.Pos
		return r
	}
	seg := math.Hypot(r.To.X-r.From.X, r.To.Y-r.From.Y)
	r.RemainingM = seg
	if p := rb.Pose; p != nil && p.DistanceM != nil && p.Target != nil && *p.Target == m.Route[m.Reached] && p.Step == m.Reached {
		r.RemainingM = *p.DistanceM // robots apply the map's scale
	}
	if hasPos {
		r.Pos = traffic.Point{X: px, Y: py}
	} else {
		f := 1.0
		if seg > 0 {
			f = 1 - math.Min(r.RemainingM, seg)/seg
		}
		r.Pos = traffic.Point{X: r.From.X + f*(r.To.X-r.From.X), Y: r.From.Y + f*(r.To.Y-r.From.Y)}
	}
	return r
}

// startOf is where a robot's current step starts, or where it stands when it
// has none: the previous checkpoint's marker, the mission's start, the
// missions file's start, its last reported position, else the centre (where
// the mapper stands after its sweep).
func (c *Core) startOf(id string) traffic.Point {
	if m := c.missions[id]; m != nil {
		if prev, ok := m.Previous(); ok {
			if x, y, ok := c.marker(prev); ok {
				return traffic.Point{X: x, Y: y}
			}
		}
		if m.Start != nil {
			return traffic.Point{X: m.Start.XM, Y: m.Start.YM}
		}
	}
	if rb, ok := c.reg.Get(id); ok {
		if rb.LastMarker != nil {
			if x, y, ok := c.marker(*rb.LastMarker); ok {
				return traffic.Point{X: x, Y: y}
			}
		}
		if x, y, ok := rb.Position(); ok {
			return traffic.Point{X: x, Y: y}
		}
	}
	return traffic.Point{}
}

// plan runs the planner and turns its orders into hold and resume directives.
func (c *Core) plan(now time.Time) []Out {
	if c.fmap == nil || c.reg.Len() == 0 {
		return nil
	}
	if c.planFrom.IsZero() {
		c.planFrom = now.Add(c.cfg.PositionGrace)
	}
	if c.cfg.PositionGrace > 0 && now.Before(c.planFrom) {
		if missing := c.unplaced(); len(missing) > 0 {
			if w := fmt.Sprint(missing); w != c.graceLoggedFor {
				c.graceLoggedFor = w
				c.log.Info().Strs("robots", missing).Dur("at_most", c.planFrom.Sub(now)).
					Msg("traffic waits for every robot's position before planning a leg")
			}
			return nil
		}
	}
	var outs []Out
	orders := c.planner.Plan(now, c.TrafficInputs())
	if sc, ok := c.planner.(StallCounter); ok {
		if n := sc.Stats().Stalls; n > c.stalls {
			c.stats.Stalls += n - c.stalls
			c.stalls = n
			c.log.Warn().Int("stalls", c.stats.Stalls).Msg("traffic: no order lets every robot finish its route one at a time from where the robots stand; " +
				"a leg goes ahead without that guarantee, and the fleet may stop for good: check the routes (legs across a third of the ring) " +
				"and where the robots stand (none on another's stop spot or final park spot)")
		}
	}
	for _, o := range orders {
		if _, ok := c.reg.Get(o.Robot); !ok {
			c.log.Error().Str("robot", o.Robot).Msg("planner ordered an unknown robot")
			continue
		}
		k := c.robotCtl(o.Robot)
		if o.BackoffM > 0 {
			outs = append(outs, c.unjam(now, o)...)
			continue
		}
		if o.Hold {
			if k.traffic != nil {
				continue
			}
			wasHeld := k.held()
			reason := o.Reason
			if reason == "" {
				reason = "traffic"
			}
			k.traffic = &hold{with: o.With, since: now, reason: reason, at: o.At}
			c.stats.HoldsIssued++
			c.log.Info().Str("robot", o.Robot).Str("with", o.With).Str("reason", reason).Msg("hold")
			if !wasHeld {
				outs = append(outs, c.directive(now, o.Robot, topics.Directive{Kind: topics.DirHold, Reason: reason}))
			}
			continue
		}
		if k.traffic == nil {
			continue
		}
		c.finishHold(o.Robot, k.traffic, now)
		k.traffic = nil
		outs = append(outs, c.release(now, o.Robot)...)
	}
	return outs
}

func (c *Core) finishHold(id string, h *hold, now time.Time) {
	c.stats.HoldsFinished++
	d := now.Sub(h.since)
	c.log.Info().Str("robot", id).Str("with", h.with).Dur("held", d).Msg("hold released")
	c.stats.HoldTotal += d
	c.stats.HoldMax = max(c.stats.HoldMax, d)
	c.stats.RecentHolds = append(c.stats.RecentHolds, traffic.HoldRecord{Robot: id, With: h.with, Start: h.since, End: now})
	if n := len(c.stats.RecentHolds); n > recentHolds {
		c.stats.RecentHolds = slices.Delete(c.stats.RecentHolds, 0, n-recentHolds)
	}
}

// event handles robots/{id}/events.
func (c *Core) event(now time.Time, id string, e *topics.Event) ([]Out, error) {
	switch e.Kind {
	case topics.EventBlocked:
		return c.blocked(now, id, e)
	case topics.EventClear:
		var outs []Out
		for _, h := range c.headOns {
			if h.waiter == id && h.waiterFreed.IsZero() {
				outs = append(outs, c.freeWaiter(now, h)...)
			}
		}
		return outs, nil
	case topics.EventMapDone:
		return c.mapDone(now, id)
	case topics.EventFault, topics.EventFailsafe:
		c.log.Warn().Str("robot", id).Str("kind", e.Kind).Str("detail", e.Detail).Msg("robot reports")
		if e.Kind == topics.EventFault && c.mapper == id {
			return c.mapperDeclined(now, id, e.Detail), nil
		}
	case topics.EventStale:
		c.stats.Stale++
		c.log.Warn().Str("robot", id).Uint64("epoch", e.Epoch).Uint64("cmd_seq", e.CmdSeq).Msg("robot ignored a stale directive")
	}
	return nil, nil
}

func (c *Core) inHeadOn(id string) bool {
	for _, h := range c.headOns {
		if h.backer == id || h.waiter == id {
			return true
		}
	}
	return false
}

// blocked resolves a head-on: one backs off, the other waits.
func (c *Core) blocked(now time.Time, id string, e *topics.Event) ([]Out, error) {
	other := e.Other
	if other == "" || other == id || !c.isKnown(other) {
		return nil, c.reject("event", fmt.Errorf("robot %s: blocked by %q, which is not a known robot", id, other))
	}
	for _, h := range c.headOns {
		if h.waiter == id && h.backer == other && !h.waiterFreed.IsZero() {
			// Freed, the waiter is blocked again by the same robot: the
			// back-off did not clear its way. Back off again, or, after
			// MaxBackoffs, swap the roles.
			return c.blockedAgain(now, h), nil
		}
	}
	if c.inHeadOn(id) || c.inHeadOn(other) {
		return nil, nil // the other robot's report of the same head-on
	}
	backer, waiter := c.planner.HeadOn(now, id, other)
	if !(backer == id && waiter == other) && !(backer == other && waiter == id) {
		c.log.Error().Str("backer", backer).Str("waiter", waiter).Msg("planner named other robots for a head-on; using ids")
		backer, waiter = NoTraffic{}.HeadOn(now, id, other)
	}
	if c.latched(backer) || !c.clearBehind(backer) {
		if c.latched(waiter) || !c.clearBehind(waiter) {
			// Both stopped by the operator: neither moves, and nothing
			// will move them until the operator resumes one.
			// Both stopped by the operator, or neither has room behind
			// it: neither moves. Both hold; the head-on's timeouts free
			// them to try again.
			c.log.Info().Str("robot", id).Str("other", other).Msg("head-on: neither robot may back off (stopped by the operator, or another robot behind it): both wait")
			return nil, nil
		}
		backer, waiter = waiter, backer // the operator's stop wins: the other backs off
	}
	return c.startHeadOn(now, backer, waiter), nil
}

// unjam settles a jam the planner found as a head-on: o.Robot backs off,
// o.With waits, and the planner is told (Yield) once the back-off is done.
// Only when neither is in a head-on already, and o.Robot may back off.
func (c *Core) unjam(now time.Time, o traffic.Order) []Out {
	rb, ok := c.reg.Get(o.Robot)
	rw, okw := c.reg.Get(o.With)
	if !ok || !okw || o.With == o.Robot {
		c.log.Error().Str("robot", o.Robot).Str("with", o.With).Msg("planner asked for a back-off for an unknown robot")
		return nil
	}
	if o.BackoffM != c.cfg.BackoffM {
		// The planner checked the back-off's way for its own distance.
		c.log.Error().Str("robot", o.Robot).Float64("planned_m", o.BackoffM).Float64("backoff_m", c.cfg.BackoffM).
			Msg("jam: the planner planned a back-off of another length than the core's head-on back-off; refused")
		return nil
	}
	if !rb.Online || !rw.Online || c.inHeadOn(o.Robot) || c.inHeadOn(o.With) || c.latched(o.Robot) || !c.clearBehind(o.Robot) {
		c.log.Info().Str("robot", o.Robot).Str("with", o.With).Msg("jam: the robot may not back off now (offline, in a head-on, stopped, or a robot behind it)")
		return nil
	}
	c.stats.Jams++
	c.log.Warn().Str("robot", o.Robot).Str("with", o.With).Str("reason", o.Reason).Msg("jam: robots wait on each other; one backs off")
	return c.startHeadOn(now, o.Robot, o.With)
}

// clearBehind reports whether id can back off BackoffM without reaching
// another robot: no robot's last reported position lies in the strip behind
// it, BackoffM plus a robot's length deep and two robots wide, widened by
// what poses err by. A robot whose position or heading is unknown is not
// clear: a backoff drives blind.
func (c *Core) clearBehind(id string) bool {
	rb, ok := c.reg.Get(id)
	if !ok || rb.Pose == nil || rb.Pose.ThetaRad == nil {
		return false
	}
	x, y, has := rb.Position()
	if !has {
		return false
	}
	const body, slack = 0.18, 0.12                                       // a robot's diameter; pose error
	bx, by := -math.Cos(*rb.Pose.ThetaRad), -math.Sin(*rb.Pose.ThetaRad) // backwards
	for _, other := range c.reg.IDs() {
		if other == id {
			continue
		}
		o, _ := c.reg.Get(other)
		ox, oy, has := o.Position()
		if !has {
			continue
		}
		dx, dy := ox-x, oy-y
		along := dx*bx + dy*by
		across := math.Abs(-dx*by + dy*bx)
		if along > -body && along < c.cfg.BackoffM+body+slack && across < body+slack {
			return false
		}
	}
	return true
}

// latched reports whether an operator's hold or stop, or the fleet stop,
// keeps id where it is: it never backs off, whatever a head-on asks.
func (c *Core) latched(id string) bool {
	k := c.robotCtl(id)
	return k.operatorHold || k.stopped || c.fleetStopped
}

// startHeadOn orders backer to back off and waiter to wait.
func (c *Core) startHeadOn(now time.Time, backer, waiter string) []Out {
	c.stats.HeadOns++
	h := &headOn{backer: backer, waiter: waiter, since: now, backoffs: 1}
	c.headOns = append(c.headOns, h)
	bk, wk := c.robotCtl(backer), c.robotCtl(waiter)
	wk.headOn = &hold{with: backer, since: now, reason: "head-on: waits for " + backer}
	bk.headOn = &hold{with: waiter, since: now, reason: "head-on: backs off for " + waiter}
	c.stats.HoldsIssued += 2
	c.log.Info().Str("backer", backer).Str("waiter", waiter).Msg("head-on")
	return []Out{
		c.directive(now, backer, topics.Directive{Kind: topics.DirBackoff, BackoffM: c.cfg.BackoffM, Reason: bk.headOn.reason}),
		c.directive(now, waiter, topics.Directive{Kind: topics.DirHold, Reason: wk.headOn.reason}),
	}
}

// blockedAgain handles a freed waiter blocked again by its backer.
func (c *Core) blockedAgain(now time.Time, h *headOn) []Out {
	if h.yielded {
		// The planner let the waiter go first past the backer where it
		// stands: the backer must not move (a backoff drives blind, and
		// the waiter's way was judged clear of where it stood). Both
		// wait; HeadOnTimeout frees the backer, held then by its gate.
		c.log.Info().Str("backer", h.backer).Str("waiter", h.waiter).
			Msg("head-on: waiter blocked again by the backer it goes first past; the backer stays where it stands")
		return nil
	}
	if c.latched(h.backer) || !c.clearBehind(h.backer) {
		if c.latched(h.waiter) || !c.clearBehind(h.waiter) {
			return nil // neither may move: both wait
		}
		c.log.Info().Str("backer", h.backer).Str("waiter", h.waiter).Msg("head-on: the backer may not back off (stopped by the operator, or a robot behind it), roles swapped")
		outs := c.freeBacker(now, h)
		return append(outs, c.startHeadOn(now, h.waiter, h.backer)...)
	}
	if h.backoffs >= c.cfg.MaxBackoffs && !c.latched(h.waiter) {
		c.log.Warn().Str("backer", h.backer).Str("waiter", h.waiter).Int("backoffs", h.backoffs).
			Msg("head-on not cleared by backing off: roles swapped")
		outs := c.freeBacker(now, h)
		return append(outs, c.startHeadOn(now, h.waiter, h.backer)...)
	}
	h.backoffs++
	h.since, h.waiterFreed, h.backedOff = now, time.Time{}, false
	wk, bk := c.robotCtl(h.waiter), c.robotCtl(h.backer)
	if wk.headOn == nil {
		wk.headOn = &hold{with: h.backer, since: now, reason: "head-on: waits for " + h.backer}
		c.stats.HoldsIssued++
	}
	if bk.headOn == nil {
		bk.headOn = &hold{with: h.waiter, since: now, reason: "head-on: backs off for " + h.waiter}
		c.stats.HoldsIssued++
	}
	c.log.Info().Str("backer", h.backer).Str("waiter", h.waiter).Int("backoffs", h.backoffs).Msg("head-on: waiter blocked again, backer backs off again")
	return []Out{
		c.directive(now, h.backer, topics.Directive{Kind: topics.DirBackoff, BackoffM: c.cfg.BackoffM, Reason: bk.headOn.reason}),
		c.directive(now, h.waiter, topics.Directive{Kind: topics.DirHold, Reason: wk.headOn.reason}),
	}
}

func (c *Core) freeWaiter(now time.Time, h *headOn) []Out {
	if !h.waiterFreed.IsZero() {
		return nil
	}
	h.waiterFreed = now
	c.yield(now, h)
	k := c.robotCtl(h.waiter)
	if k.headOn == nil {
		return nil
	}
	c.finishHold(h.waiter, k.headOn, now)
	k.headOn = nil
	return c.release(now, h.waiter)
}

func (c *Core) freeBacker(now time.Time, h *headOn) []Out {
	c.headOns = slices.DeleteFunc(c.headOns, func(x *headOn) bool { return x == h })
	k := c.robotCtl(h.backer)
	if k.headOn == nil {
		return nil
	}
	c.finishHold(h.backer, k.headOn, now)
	k.headOn = nil
	return c.release(now, h.backer)
}

// endHeadOns ends the head-ons of a robot gone offline: the other goes on
// (the planner now sees the offline robot as an obstacle).
func (c *Core) endHeadOns(now time.Time, id string) []Out {
	var outs []Out
	for _, h := range slices.Clone(c.headOns) {
		if h.backer != id && h.waiter != id {
			continue
		}
		outs = append(outs, c.freeWaiter(now, h)...)
		outs = append(outs, c.freeBacker(now, h)...)
	}
	return outs
}

// yield asks a planner that can (Yielder) to let h's waiter go first past
// its backer, which stands, held, once the waiter is freed: until the
// waiter's next checkpoint, a waiter standing at its gate for the backer's
// leg (one it had then, or was given since) would wait for the backer, and
// the backer for it.
func (c *Core) yield(now time.Time, h *headOn) {
	y, ok := c.planner.(Yielder)
	if !ok || h.waiterFreed.IsZero() {
		return
	}
	if y.Yield(now, h.backer, h.waiter) && !h.yielded {
		h.yielded = true
		c.log.Info().Str("robot", h.waiter).Str("stopped", h.backer).
			Msg("head-on: the waiter's leg goes first, past the backer held where it stands")
	}
}

func (c *Core) headOnTimeouts(now time.Time) []Out {
	var outs []Out
	for _, h := range c.headOns {
		c.yield(now, h)
	}
	for _, h := range slices.Clone(c.headOns) {
		if h.waiterFreed.IsZero() && now.Sub(h.since) >= c.cfg.BackoffTimeout {
			outs = append(outs, c.freeWaiter(now, h)...)
		}
		if !h.waiterFreed.IsZero() && now.Sub(h.waiterFreed) >= c.cfg.HeadOnTimeout {
			outs = append(outs, c.freeBacker(now, h)...)
		}
	}
	return outs
}
