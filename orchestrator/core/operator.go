package core

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"collaborate/orchestrator/mission"
	"collaborate/orchestrator/store"
	"collaborate/orchestrator/traffic"
	"collaborate/topics"
)

const recentHolds = 256

// Stats are counters for logs and metrics.
type Stats struct {
	Epoch            uint64         `json:"epoch"`
	Rejected         int            `json:"rejected"`
	RejectedBy       map[string]int `json:"rejected_by"` // by message kind
	Checkpoints      int            `json:"checkpoints"`
	Duplicates       int            `json:"duplicate_checkpoints"`
	Stale            int            `json:"stale_directives"`
	Directives       int            `json:"directives"`
	HoldsIssued      int            `json:"holds_issued"` // traffic and head-on
	HoldsFinished    int            `json:"holds_finished"`
	HoldTotal        time.Duration  `json:"hold_total_ns"`
	HoldMax          time.Duration  `json:"hold_max_ns"`
	HeadOns          int            `json:"head_ons"`
	Jams             int            `json:"jams"`   // jams settled by a back-off the planner asked for
	Stalls           int            `json:"stalls"` // legs reserved with no order that finishes every route (StallCounter)
	Sweeps           int            `json:"sweeps"`
	SweepFailures    int            `json:"sweep_failures"`
	OfflineByWill    int            `json:"offline_by_will"`
	OfflineBySilence int            `json:"offline_by_silence"`
	Resyncs          int            `json:"resyncs"` // fresh directives sent to a robot out of sync
	LatchSaveErrors  int            `json:"latch_save_errors"`
	// RecentHolds are the last finished holds, oldest first.
	RecentHolds []traffic.HoldRecord `json:"recent_holds"`
}

// Stats returns a copy of the counters.
func (c *Core) Stats() Stats {
	s := c.stats
	s.RejectedBy = make(map[string]int, len(c.stats.RejectedBy))
	for k, v := range c.stats.RejectedBy {
		s.RejectedBy[k] = v
	}
	s.RecentHolds = slices.Clone(c.stats.RecentHolds)
	return s
}

// RobotView is one robot in GET /api/fleet.
type RobotView struct {
	ID            string    `json:"id"`
	Online        bool      `json:"online"`
	OfflineReason string    `json:"offline_reason,omitempty"`
	State         string    `json:"state,omitempty"`
	LastSeen      time.Time `json:"last_seen,omitzero"`
	Route         []int     `json:"route,omitempty"`
	Reached       int       `json:"reached"`  // steps done
	Released      int       `json:"released"` // steps released in the last route directive
	Done          bool      `json:"done"`
	Target        *int      `json:"target,omitempty"`
	MissionError  string    `json:"mission_error,omitempty"`
	Holds         []string  `json:"holds,omitempty"` // active hold sources with reasons
	Mapping       bool      `json:"mapping,omitempty"`
	XM            *float64  `json:"x_m,omitempty"`
	YM            *float64  `json:"y_m,omitempty"`
	DistanceM     *float64  `json:"distance_m,omitempty"`
}

// FleetView is GET /api/fleet.
type FleetView struct {
	Epoch        uint64      `json:"epoch"`
	FleetStopped bool        `json:"fleet_stopped"`
	HasMap       bool        `json:"has_map"`
	Mapper       string      `json:"mapper,omitempty"` // robot sweeping now
	Robots       []RobotView `json:"robots"`
	Stats        Stats       `json:"stats"`
}

// Fleet returns the view of every known robot, sorted by id.
func (c *Core) Fleet() FleetView {
	v := FleetView{Epoch: c.epoch, FleetStopped: c.fleetStopped, HasMap: c.fmap != nil, Mapper: c.mapper,
		Robots: []RobotView{}, Stats: c.Stats()}
	for _, id := range c.sortedKnown() {
		r := RobotView{ID: id, Mapping: c.mapper == id}
		if rb, ok := c.reg.Get(id); ok {
			r.Online, r.OfflineReason, r.State, r.LastSeen = rb.Online, rb.OfflineReason, rb.State, rb.LastSeen
			if p := rb.Pose; p != nil {
				r.DistanceM = p.DistanceM
			}
			if x, y, ok := rb.Position(); ok {
				r.XM, r.YM = &x, &y
			}
		}
		if m := c.missions[id]; m != nil {
			r.Route, r.Reached, r.Done = slices.Clone(m.Route), m.Reached, m.Done()
			if t, ok := m.Target(); ok {
				r.Target = &t
			}
		}
		if err := c.invalid[id]; err != nil {
			r.MissionError = err.Error()
		}
		if k, ok := c.ctl[id]; ok {
			r.Released = k.sentReleased
			if k.traffic != nil {
				r.Holds = append(r.Holds, "traffic: "+k.traffic.reason)
			}
			if k.headOn != nil {
				r.Holds = append(r.Holds, k.headOn.reason)
			}
			if k.operatorHold {
				r.Holds = append(r.Holds, "operator hold")
			}
			if k.stopped {
				r.Holds = append(r.Holds, "operator stop")
			}
		}
		v.Robots = append(v.Robots, r)
	}
	return v
}

// Map returns a copy of the map, or nil when there is none.
func (c *Core) Map() *topics.FleetMap {
	if c.fmap == nil {
		return nil
	}
	m := *c.fmap
	m.Markers = slices.Clone(c.fmap.Markers)
	m.Roster = slices.Clone(c.fmap.Roster)
	return &m
}

func (c *Core) checkRobot(id string) error {
	if err := topics.CheckRobotID(id); err != nil {
		return fmt.Errorf("%w: %w", mission.ErrInvalid, err)
	}
	if !c.isKnown(id) {
		return fmt.Errorf("%w %q: not in the missions file and never heard from", ErrUnknownRobot, id)
	}
	return nil
}

// SetMission replaces a robot's mission (persisted) and sends its route when
// it may drive. Errors: ErrUnknownRobot, mission.ErrInvalid (empty route,
// bad id), mission.ErrNotOnMap.
func (c *Core) SetMission(now time.Time, id string, route []int) ([]Out, error) {
	if err := c.checkRobot(id); err != nil {
		return nil, err
	}
	m, err := mission.New(id, route, c.epoch)
	if err != nil {
		return nil, err
	}
	if c.fmap != nil {
		if err := mission.CheckOnMap(route, c.onMap); err != nil {
			return nil, err
		}
	}
	goal := route[len(route)-1]
	for _, other := range slices.Sorted(maps.Keys(c.missions)) {
		if o := c.missions[other]; other != id && len(o.Route) > 0 && o.Route[len(o.Route)-1] == goal {
			return nil, fmt.Errorf("%w: %s already ends at marker %d: a robot parks at its final goal, so two robots cannot share one", ErrConflict, other, goal)
		}
	}
	if rb, ok := c.reg.Get(id); ok {
		if rb.LastMarker != nil {
			lm := *rb.LastMarker
			m.StartMarker = &lm
		} else if x, y, ok := rb.Position(); ok {
			m.Start = &mission.Point{XM: x, YM: y}
		}
	}
	if old := c.missions[id]; old != nil {
		m.FileRoute = old.FileRoute
	}
	if m.Start == nil && m.StartMarker == nil && c.cfg.Missions != nil {
		if r, ok := c.cfg.Missions.Robots[id]; ok && r.Start != nil {
			p := *r.Start
			m.Start = &p
		}
	}
	if err := c.st.SaveMission(m); err != nil {
		return nil, fmt.Errorf("core: mission of %s not saved: %w", id, err)
	}
	c.missions[id] = m
	c.known[id] = true
	delete(c.invalid, id)
	k := c.robotCtl(id)
	k.sent, k.sentReleased = false, 0
	c.log.Info().Str("robot", id).Ints("route", route).Msg("mission set")
	return c.routeOut(now, id), nil
}

// Persist makes the operator's latches (holds, stops, the fleet stop)
// durable when one changed, so that a restarted orchestrator resumes none
// of them. The Runner calls it after publishing an operator command's
// directives and before answering the operator: a directive that stops a
// robot goes out without waiting for the disk (stopping is never unsafe;
// a resume that is lost in a crash leaves the robot held), and a command
// the operator saw answered survives a crash. A failure is logged and
// counted; the latch still holds in this run, and the next Persist tries
// again.
func (c *Core) Persist() error {
	if !c.latchesDirty {
		return nil
	}
	l := store.Latches{FleetStopped: c.fleetStopped, Held: map[string]bool{}, Stopped: map[string]bool{}}
	for id, k := range c.ctl {
		if k.operatorHold {
			l.Held[id] = true
		}
		if k.stopped {
			l.Stopped[id] = true
		}
	}
	if err := c.st.SaveLatches(l); err != nil {
		c.stats.LatchSaveErrors++
		c.log.Error().Err(err).Msg("operator latches not saved: a restart would forget them")
		return fmt.Errorf("in force now, but not saved: a restart of the orchestrator would forget it: %w", err)
	}
	c.latchesDirty = false
	return nil
}

// Hold latches an operator hold on a robot.
func (c *Core) Hold(now time.Time, id string) ([]Out, error) {
	if err := c.checkRobot(id); err != nil {
		return nil, err
	}
	k := c.robotCtl(id)
	k.operatorHold = true
	c.latchesDirty = true
	return []Out{c.directive(now, id, topics.Directive{Kind: topics.DirHold, Reason: "operator hold"})}, nil
}

// Stop latches an operator stop on a robot.
func (c *Core) Stop(now time.Time, id string) ([]Out, error) {
	if err := c.checkRobot(id); err != nil {
		return nil, err
	}
	k := c.robotCtl(id)
	k.stopped = true
	c.latchesDirty = true
	return []Out{c.directive(now, id, topics.Directive{Kind: topics.DirStop, Reason: "operator stop"})}, nil
}

// Resume lifts the operator's hold and stop; traffic and head-on holds stay.
func (c *Core) Resume(now time.Time, id string) ([]Out, error) {
	if err := c.checkRobot(id); err != nil {
		return nil, err
	}
	k := c.robotCtl(id)
	k.operatorHold, k.stopped = false, false
	c.latchesDirty = true
	return c.release(now, id), nil
}

func (c *Core) fleetCmd(now time.Time, kind string) Out {
	p := topics.PolicyOf(topics.KindFleetCmd)
	return Out{Topic: topics.TopicFleetCmd, Retain: p.Retained, QoS: p.QoS,
		Payload: &topics.FleetCommand{Header: c.nextHeader(now), Epoch: c.epoch, Kind: kind}}
}

// FleetStop broadcasts a stop to every robot, retained: robots that
// connect later hear it too.
func (c *Core) FleetStop(now time.Time) []Out {
	c.fleetStopped = true
	c.latchesDirty = true
	return []Out{c.fleetCmd(now, topics.FleetStop)}
}

// FleetResume lifts the fleet stop and sends the routes that waited for it.
func (c *Core) FleetResume(now time.Time) []Out {
	c.fleetStopped = false
	c.latchesDirty = true
	outs := []Out{c.fleetCmd(now, topics.FleetResume)}
	outs = append(outs, c.routesAll(now)...)
	return append(outs, c.pickMapper(now)...)
}

// Sweep asks for a new mapping sweep, by robot (it must stand at the centre)
// or, with robot "", by the mapper chosen as for the first map. The current
// map stays in use until the new one is built. ErrConflict when a sweep is
// running or the fleet is stopped.
func (c *Core) Sweep(now time.Time, robot string) ([]Out, error) {
	if c.mapper != "" {
		return nil, fmt.Errorf("%w: robot %s is sweeping now", ErrConflict, c.mapper)
	}
	if c.fleetStopped {
		return nil, fmt.Errorf("%w: the fleet is stopped", ErrConflict)
	}
	c.mapFailed = time.Time{}
	if robot == "" {
		c.sweepAsked = true
		outs := c.pickMapper(now)
		if len(outs) == 0 {
			c.sweepAsked = false
			return nil, fmt.Errorf("%w: no robot online to sweep", ErrConflict)
		}
		return outs, nil
	}
	if err := c.checkRobot(robot); err != nil {
		return nil, err
	}
	if rb, _ := c.reg.Get(robot); rb == nil || !rb.Online {
		return nil, fmt.Errorf("%w: robot %s is not online", ErrConflict, robot)
	}
	delete(c.cannotMap, robot) // the operator says it can
	return []Out{c.startSweep(now, robot)}, nil
}

// ActiveHold is one hold in force, for the dashboard.
type ActiveHold struct {
	Robot  string    `json:"robot"`
	Source string    `json:"source"`         // traffic, head-on, operator, stop
	With   string    `json:"with,omitempty"` // robot it yields to
	Reason string    `json:"reason,omitempty"`
	Since  time.Time `json:"since,omitzero"`
	XM     float64   `json:"x_m"` // conflict point, traffic holds only
	YM     float64   `json:"y_m"`
}

// ActiveHolds lists the holds in force, by robot id then source.
func (c *Core) ActiveHolds() []ActiveHold {
	var out []ActiveHold
	for _, id := range c.sortedKnown() {
		k, ok := c.ctl[id]
		if !ok {
			continue
		}
		if h := k.traffic; h != nil {
			out = append(out, ActiveHold{Robot: id, Source: "traffic", With: h.with, Reason: h.reason, Since: h.since, XM: h.at.X, YM: h.at.Y})
		}
		if h := k.headOn; h != nil {
			out = append(out, ActiveHold{Robot: id, Source: "head-on", With: h.with, Reason: h.reason, Since: h.since})
		}
		if k.operatorHold {
			out = append(out, ActiveHold{Robot: id, Source: "operator"})
		}
		if k.stopped {
			out = append(out, ActiveHold{Robot: id, Source: "stop"})
		}
	}
	return out
}
