package core

import (
	"fmt"
	"slices"
	"time"

	"collaborate/orchestrator/mapping"
	"collaborate/orchestrator/mission"
	"collaborate/topics"
)

// pickMapper sends the map directive when a map is needed and nobody sweeps.
func (c *Core) pickMapper(now time.Time) []Out {
	if (c.fmap != nil && !c.sweepAsked) || c.mapper != "" || c.fleetStopped {
		return nil
	}
	if !c.mapFailed.IsZero() && now.Sub(c.mapFailed) < c.cfg.MapRetry {
		return nil
	}
	id := c.cfg.Mapper
	if id != "" {
		if rb, ok := c.reg.Get(id); !ok || !rb.Online || c.robotCtl(id).held() || c.cannotMap[id] {
			return nil // wait for the configured mapper
		}
	} else {
		var since time.Time
		for _, cand := range c.reg.IDs() {
			rb, _ := c.reg.Get(cand)
			if !rb.Online || c.robotCtl(cand).held() || c.cannotMap[cand] {
				continue
			}
			if id == "" || rb.OnlineSince.Before(since) {
				id, since = cand, rb.OnlineSince
			}
		}
		if id == "" {
			return nil
		}
	}
	return []Out{c.startSweep(now, id)}
}

func (c *Core) startSweep(now time.Time, id string) Out {
	c.mapper, c.sweep, c.sweepAsked = id, mapping.NewSweep(), false
	c.stats.Sweeps++
	k := c.robotCtl(id)
	k.routeDirty = k.routeDirty || k.sent // its route is re-issued after the sweep
	c.log.Info().Str("robot", id).Msg("mapping sweep started")
	return c.directive(now, id, topics.Directive{Kind: topics.DirMap, Reason: "mapping sweep: turn 360° at the centre"})
}

// mapperDeclined ends the sweep of a mapper that reported a fault (a robot
// without a camera cannot map): another robot maps, unless the mapper was
// configured (the robot at the centre), which an operator must then change.
func (c *Core) mapperDeclined(now time.Time, id, why string) []Out {
	c.mapper, c.sweep = "", nil
	c.stats.SweepFailures++
	c.cannotMap[id] = true
	if c.cfg.Mapper == id {
		c.log.Error().Str("robot", id).Str("detail", why).
			Msg("the configured mapper cannot map: place a robot with a camera at the centre and start a sweep with it (POST /api/map/sweep)")
		return c.routesAll(now)
	}
	c.log.Warn().Str("robot", id).Str("detail", why).Msg("mapper declined: another robot maps")
	return append(c.pickMapper(now), c.routesAll(now)...)
}

// mapDone turns the sweep into the map, persists and publishes it, then
// releases the routes that waited for it.
func (c *Core) mapDone(now time.Time, id string) ([]Out, error) {
	if c.mapper != id || c.sweep == nil {
		return nil, c.reject("event", fmt.Errorf("robot %s: map_done but it is not sweeping", id))
	}
	sw := c.sweep
	c.mapper, c.sweep = "", nil
	res, err := sw.Result(c.cfg.DiameterM)
	if err != nil {
		c.stats.SweepFailures++
		c.mapFailed = now
		c.log.Error().Str("robot", id).Err(err).Msg("mapping sweep failed; will retry")
		return c.routesAll(now), nil
	}
	m := &topics.FleetMap{DiameterM: c.cfg.DiameterM, MeasuredDiameterM: res.MeasuredDiameterM,
		Scale: res.Scale, Markers: res.Markers, MappedBy: id, Roster: c.reg.Roster()}
	m.Header = topics.Stamp(Sender, c.seq, now)
	if err := c.st.SaveMap(m); err != nil {
		c.stats.SweepFailures++
		c.mapFailed = now
		return nil, fmt.Errorf("core: map of %s's sweep not saved: %w", id, err)
	}
	c.mapFailed = time.Time{}
	c.fmap = m
	c.log.Info().Str("robot", id).Int("markers", len(m.Markers)).Float64("scale", m.Scale).
		Float64("measured_diameter_m", m.MeasuredDiameterM).Int("dropped", res.Dropped).Msg("map built")
	c.checkMissionsOnMap()
	outs := []Out{c.mapOut(now)}
	return append(outs, c.routesAll(now)...), nil
}

func (c *Core) routesAll(now time.Time) []Out {
	var outs []Out
	for _, id := range c.reg.IDs() {
		outs = append(outs, c.routeOut(now, id)...)
	}
	return outs
}

// rosterChanged republishes the map when the robots' faces changed.
func (c *Core) rosterChanged(now time.Time) []Out {
	if c.fmap == nil {
		return nil
	}
	r := c.reg.Roster()
	if slices.Equal(r, c.fmap.Roster) {
		return nil
	}
	m := *c.fmap
	m.Roster = r
	c.fmap = &m
	if err := c.st.SaveMap(c.fmap); err != nil {
		c.log.Error().Err(err).Msg("save map roster")
	}
	return []Out{c.mapOut(now)}
}

func (c *Core) onMap(id int) bool {
	if c.fmap == nil {
		return false
	}
	for _, m := range c.fmap.Markers {
		if m.ID == id {
			return true
		}
	}
	return false
}

func (c *Core) marker(id int) (x, y float64, ok bool) {
	if c.fmap == nil {
		return 0, 0, false
	}
	for _, m := range c.fmap.Markers {
		if m.ID == id {
			return m.XM, m.YM, true
		}
	}
	return 0, 0, false
}

// parkSpot is where robot id parks for its final goal, when the planner
// plans park spots (Stopper) and the goal is on the map.
func (c *Core) parkSpot(id string) (x, y float64, ok bool) {
	s, isStopper := c.planner.(Stopper)
	m := c.missions[id]
	if !isStopper || m == nil || len(m.Route) == 0 || c.fmap == nil {
		return 0, 0, false
	}
	_, gap := s.StopDistances()
	if !(gap > 0) {
		return 0, 0, false
	}
	return mapping.ParkSpot(c.fmap.Markers, m.Route[len(m.Route)-1], gap)
}

// checkMissionsOnMap marks the missions naming markers the map lacks; they
// are not driven, and the reason shows in the fleet view.
func (c *Core) checkMissionsOnMap() {
	clear(c.invalid)
	if c.fmap == nil {
		return
	}
	for id, m := range c.missions {
		if err := mission.CheckOnMap(m.Route, c.onMap); err != nil {
			c.invalid[id] = fmt.Errorf("robot %s: %w", id, err)
			c.log.Error().Err(c.invalid[id]).Msg("mission not driven")
		}
	}
}
