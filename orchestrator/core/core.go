package core

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/rs/zerolog"

	"collaborate/orchestrator/fleet"
	"collaborate/orchestrator/mapping"
	"collaborate/orchestrator/mission"
	"collaborate/orchestrator/store"
	"collaborate/orchestrator/traffic"
	"collaborate/topics"
)

// Sender is the header sender of everything the orchestrator publishes.
const Sender = "orchestrator"

// Planner is the traffic planner (orchestrator/traffic implements it).
type Planner interface {
	// Plan returns the holds to add and release for this instant.
	Plan(now time.Time, robots []traffic.Robot) []traffic.Order
	// HeadOn decides, for robots a and b facing each other, who backs off.
	HeadOn(now time.Time, a, b string) (backOff, wait string)
}

// Gate is implemented by planners that decide how many route steps each
// robot may drive (traffic.Reserver). The core then releases no more than
// the gate allows, and nothing beyond the reached steps for a robot the gate
// does not know yet.
type Gate interface {
	Released(id string) (int, bool)
}

// Stopper is implemented by planners that plan where robots stand
// (traffic.Reserver): how far from a marker robots stop on their way, and
// whether at its stop spot (RadialStops: in front of it towards the arena's
// centre) or on their way there, and how far in from the wall they park
// beside their final goal (mapping.ParkSpot). The core puts them in every
// route directive, so that the robots stop where the planner expects.
type Stopper interface {
	StopDistances() (stop, parkWallGap float64)
	RadialStops() bool
}

// Store is the persistence the core needs (orchestrator/store implements it).
type Store interface {
	NextEpoch() (uint64, error)
	Seq() (uint64, error)
	SaveSeq(seq uint64) error
	SaveMission(m *mission.State) error
	Missions() (map[string]*mission.State, error)
	SaveMap(m *topics.FleetMap) error
	Map() (*topics.FleetMap, error) // store.ErrNoMap when there is none
}

// Config tunes the core. Zero values take the defaults noted.
type Config struct {
	DiameterM       float64       // configured arena diameter; else Missions.Arena.DiameterM
	Missions        *mission.File // optional: initial missions, speeds, mapper
	Mapper          string        // optional: overrides Missions.Mapper
	SilenceTimeout  time.Duration // default 3 s
	Lookahead       int           // steps released past the last checkpoint; default 2
	BackoffM        float64       // head-on backoff distance; default 0.25 m
	DefaultSpeedMps float64       // cruise speed when none configured; default 0.2
	BackoffTimeout  time.Duration // head-on waiter resumes at the latest after; default 5 s
	HeadOnTimeout   time.Duration // head-on backer resumes at the latest after; default 30 s
	MapRetry        time.Duration // wait after a failed sweep; default 10 s
	Planner         Planner       // default NoTraffic
	Log             *zerolog.Logger
}

// Out is one message to publish.
type Out struct {
	Topic   string
	Payload topics.Message
	Retain  bool
	QoS     byte
}

// Bytes encodes the payload (validated) for the wire.
func (o Out) Bytes() ([]byte, error) { return topics.Encode(o.Payload) }

// Errors the operator calls return; the HTTP layer maps them to statuses.
var (
	ErrUnknownRobot = errors.New("unknown robot")
	ErrConflict     = errors.New("conflict")
	ErrRejected     = errors.New("rejected")
)

// hold is one active hold of one source.
type hold struct {
	with   string
	since  time.Time
	reason string
	at     traffic.Point // conflict point, for traffic holds
}

// ctl is the core's control state of one robot.
type ctl struct {
	sent         bool // a route directive was sent in this run since it came online
	sentReleased int
	routeDirty   bool // a route directive is owed, to send when no hold remains
	needResume   bool // the next route directive is followed by a resume
	traffic      *hold
	headOn       *hold
	operatorHold bool
	stopped      bool
	lastState    string
}

func (k *ctl) held() bool { return k.traffic != nil || k.headOn != nil || k.operatorHold || k.stopped }

// headOn is one head-on being resolved.
type headOn struct {
	backer, waiter string
	since          time.Time
	waiterFreed    time.Time // zero until the waiter resumed
	backedOff      bool      // the backer was seen backing off
}

// Core is the decision state. Not safe for concurrent use: see Runner.
type Core struct {
	cfg     Config
	st      Store
	log     zerolog.Logger
	planner Planner

	epoch, seq, savedSeq uint64

	reg      *fleet.Registry
	missions map[string]*mission.State
	invalid  map[string]error // missions whose markers are not on the map
	known    map[string]bool  // robots named by configuration or a mission
	ctl      map[string]*ctl

	fmap       *topics.FleetMap
	mapper     string // robot sweeping now
	sweep      *mapping.Sweep
	sweepAsked bool // operator asked for a new sweep
	mapFailed  time.Time

	fleetStopped bool
	headOns      []*headOn

	stats Stats
}

// New opens the core: it takes a new epoch from the store, loads the map and
// the missions, and adds the missions file's robots that have no state yet.
func New(cfg Config, st Store) (*Core, error) {
	if cfg.DiameterM == 0 && cfg.Missions != nil {
		cfg.DiameterM = cfg.Missions.Arena.DiameterM
	}
	if !(cfg.DiameterM > 0) || math.IsInf(cfg.DiameterM, 0) {
		return nil, fmt.Errorf("core: arena diameter must be > 0 (arena.diameter_m or the flag), got %v", cfg.DiameterM)
	}
	if cfg.Mapper == "" && cfg.Missions != nil {
		cfg.Mapper = cfg.Missions.Mapper
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.SilenceTimeout, 3*time.Second)
	def(&cfg.BackoffTimeout, 5*time.Second)
	def(&cfg.HeadOnTimeout, 30*time.Second)
	def(&cfg.MapRetry, 10*time.Second)
	if cfg.Lookahead <= 0 {
		cfg.Lookahead = 2
	}
	if cfg.BackoffM <= 0 {
		cfg.BackoffM = 0.25
	}
	if cfg.DefaultSpeedMps <= 0 {
		cfg.DefaultSpeedMps = 0.2
	}
	if cfg.Planner == nil {
		cfg.Planner = NoTraffic{}
	}
	c := &Core{
		cfg: cfg, st: st, planner: cfg.Planner, log: zerolog.Nop(),
		reg: fleet.New(), missions: map[string]*mission.State{}, invalid: map[string]error{},
		known: map[string]bool{}, ctl: map[string]*ctl{},
	}
	if cfg.Log != nil {
		c.log = *cfg.Log
	}
	var err error
	if c.epoch, err = st.NextEpoch(); err != nil {
		return nil, fmt.Errorf("core: %w", err)
	}
	if c.seq, err = st.Seq(); err != nil {
		return nil, fmt.Errorf("core: read seq: %w", err)
	}
	c.savedSeq = c.seq
	switch m, err := st.Map(); {
	case err == nil:
		c.fmap = m
	case errors.Is(err, store.ErrNoMap):
	default:
		return nil, fmt.Errorf("core: %w", err)
	}
	if c.missions, err = st.Missions(); err != nil {
		return nil, fmt.Errorf("core: %w", err)
	}
	if f := cfg.Missions; f != nil {
		for _, id := range f.RobotIDs() {
			c.known[id] = true
			route := f.Robots[id].Route
			if old, ok := c.missions[id]; ok && slices.Equal(old.FileRoute, route) {
				continue // same file: the progress on disk stands
			}
			m, err := mission.New(id, route, c.epoch)
			if err != nil {
				return nil, fmt.Errorf("core: missions file: robots.%s: %w", id, err)
			}
			m.FileRoute = slices.Clone(route)
			if s := f.Robots[id].Start; s != nil {
				p := *s
				m.Start = &p
			}
			if err := st.SaveMission(m); err != nil {
				return nil, fmt.Errorf("core: %w", err)
			}
			c.missions[id] = m
		}
	}
	for id := range c.missions {
		c.known[id] = true
	}
	if cfg.Mapper != "" {
		c.known[cfg.Mapper] = true
	}
	c.checkMissionsOnMap()
	c.stats.Epoch = c.epoch
	c.stats.RejectedBy = map[string]int{}
	return c, nil
}

// Epoch is this run's epoch.
func (c *Core) Epoch() uint64 { return c.epoch }

func (c *Core) nextHeader(now time.Time) topics.Header {
	c.seq++
	return topics.Stamp(Sender, c.seq, now)
}

func (c *Core) robotCtl(id string) *ctl {
	k, ok := c.ctl[id]
	if !ok {
		k = &ctl{}
		c.ctl[id] = k
	}
	return k
}

func (c *Core) directive(now time.Time, id string, d topics.Directive) Out {
	d.Header = c.nextHeader(now)
	d.Epoch = c.epoch
	c.stats.Directives++
	p := topics.PolicyOf(topics.KindCmd)
	return Out{Topic: topics.Robot(id, topics.KindCmd), Payload: &d, Retain: p.Retained, QoS: p.QoS}
}

func (c *Core) mapOut(now time.Time) Out {
	m := *c.fmap
	m.Header = c.nextHeader(now)
	c.fmap = &m
	p := topics.PolicyOf(topics.KindFleetMap)
	return Out{Topic: topics.TopicFleetMap, Payload: &m, Retain: p.Retained, QoS: p.QoS}
}

// Start returns what to publish once connected: orchestrator/status online
// (retained, with the epoch) and the stored map (retained).
func (c *Core) Start(now time.Time) []Out {
	p := topics.PolicyOf(topics.KindOrchestratorStatus)
	outs := []Out{{Topic: topics.TopicOrchestratorStatus, Retain: p.Retained, QoS: p.QoS,
		Payload: &topics.OrchestratorState{Header: c.nextHeader(now), State: topics.OrchOnline, Epoch: c.epoch}}}
	if c.fmap != nil {
		outs = append(outs, c.mapOut(now))
	}
	return outs
}

// Shutdown returns orchestrator/status offline (retained), so that robots
// stop, and saves the directive seq.
func (c *Core) Shutdown(now time.Time) []Out {
	p := topics.PolicyOf(topics.KindOrchestratorStatus)
	o := Out{Topic: topics.TopicOrchestratorStatus, Retain: p.Retained, QoS: p.QoS,
		Payload: &topics.OrchestratorState{Header: c.nextHeader(now), State: topics.OrchOffline, Epoch: c.epoch}}
	if err := c.st.SaveSeq(c.seq); err != nil {
		c.log.Error().Err(err).Msg("save seq")
	}
	c.savedSeq = c.seq
	return []Out{o}
}

// reject counts and logs bad input and returns it as an error.
func (c *Core) reject(kind string, err error) error {
	c.stats.Rejected++
	c.stats.RejectedBy[kind]++
	c.log.Warn().Str("kind", kind).Err(err).Msg("rejected")
	return fmt.Errorf("%w: %w", ErrRejected, err)
}

// Reject counts and logs input rejected before it reached Handle (a payload
// that failed to decode).
func (c *Core) Reject(kind string, err error) { _ = c.reject(kind, err) }

// Handle takes one message from a robot. It returns what to publish, or an
// error when the message was rejected or could not be persisted; the caller
// acknowledges the message only after Handle returned.
func (c *Core) Handle(now time.Time, t topics.Topic, msg topics.Message) ([]Out, error) {
	if t.Robot == "" {
		return nil, nil // our own fixed topics: nothing to do
	}
	id := t.Robot
	var outs []Out
	var ch fleet.Change
	switch m := msg.(type) {
	case *topics.Status:
		ch = c.reg.Status(now, id, m)
		outs = append(outs, c.onState(now, id, m.State)...)
		if m.Faces != nil {
			outs = append(outs, c.rosterChanged(now)...)
		}
	case *topics.Pose:
		ch = c.reg.Pose(now, id, m)
		outs = append(outs, c.onState(now, id, m.State)...)
	case *topics.Sightings:
		ch = c.reg.Seen(now, id)
		if c.sweep != nil && c.mapper == id {
			c.sweep.Add(m)
		}
	case *topics.Checkpoint:
		o, err := c.checkpoint(now, id, m)
		if err != nil {
			return nil, err
		}
		outs = append(outs, o...)
	case *topics.Event:
		ch = c.reg.Event(now, id, m.Kind)
		o, err := c.event(now, id, m)
		outs = append(outs, o...)
		if err != nil {
			return c.presence(now, id, ch, outs), err
		}
	case *topics.Directive, *topics.FleetCommand, *topics.FleetMap, *topics.OrchestratorState, *topics.World:
		return nil, nil
	default:
		return nil, c.reject(string(t.Kind), fmt.Errorf("robot %s: unexpected message %T on %s", id, msg, t))
	}
	return c.presence(now, id, ch, outs), nil
}

// presence reacts to a robot coming online or going offline.
func (c *Core) presence(now time.Time, id string, ch fleet.Change, outs []Out) []Out {
	switch ch {
	case fleet.CameOnline:
		c.log.Info().Str("robot", id).Msg("online")
		k := c.robotCtl(id)
		k.sent = false // it may have restarted: its route is re-issued
		// It may still hold a latch of an earlier run or of before it went
		// away (a hold, a failsafe): its next route is followed by a resume.
		k.needResume = true
		outs = append(outs, c.routeOut(now, id)...)
		outs = append(outs, c.pickMapper(now)...)
	case fleet.WentOffline:
		c.stats.OfflineByWill++
		outs = append(outs, c.wentOffline(now, id)...)
	}
	return outs
}

func (c *Core) wentOffline(now time.Time, id string) []Out {
	c.log.Warn().Str("robot", id).Msg("offline")
	c.robotCtl(id).sent = false
	if c.mapper == id {
		c.log.Warn().Str("robot", id).Msg("mapper went offline: sweep aborted")
		c.mapper, c.sweep = "", nil
	}
	return c.endHeadOns(now, id)
}

// onState follows state changes that matter to a head-on in progress.
func (c *Core) onState(now time.Time, id, state string) []Out {
	k := c.robotCtl(id)
	prev := k.lastState
	k.lastState = state
	if prev == state {
		return nil
	}
	c.log.Info().Str("robot", id).Str("from", prev).Str("to", state).Msg("robot state")
	var outs []Out
	for _, h := range c.headOns {
		if h.backer != id || !h.waiterFreed.IsZero() {
			continue
		}
		if state == topics.StateBackingUp {
			h.backedOff = true
		} else if h.backedOff {
			outs = append(outs, c.freeWaiter(now, h)...)
		}
	}
	return outs
}

func (c *Core) checkpoint(now time.Time, id string, cp *topics.Checkpoint) ([]Out, error) {
	m := c.missions[id]
	if m == nil {
		return nil, c.reject("checkpoint", fmt.Errorf("robot %s has no mission", id))
	}
	if cp.Epoch > c.epoch {
		return nil, c.reject("checkpoint", fmt.Errorf("robot %s: epoch %d is newer than this run's %d", id, cp.Epoch, c.epoch))
	}
	next := m.Clone()
	res, err := next.Apply(cp.Epoch, cp.Step, cp.Marker, now)
	if err != nil {
		return nil, c.reject("checkpoint", err)
	}
	ch := c.reg.Checkpoint(now, id, cp.Marker)
	if res == mission.Duplicate {
		c.stats.Duplicates++
		return c.presence(now, id, ch, nil), nil
	}
	if err := c.st.SaveMission(next); err != nil {
		return nil, fmt.Errorf("core: checkpoint of %s not recorded: %w", id, err)
	}
	c.missions[id] = next
	c.stats.Checkpoints++
	c.log.Info().Str("robot", id).Int("step", cp.Step).Int("marker", cp.Marker).Bool("done", next.Done()).Msg("checkpoint")
	outs := c.presence(now, id, ch, nil)
	for _, h := range slices.Clone(c.headOns) {
		if h.waiter == id {
			outs = append(outs, c.freeWaiter(now, h)...)
			outs = append(outs, c.freeBacker(now, h)...)
		}
	}
	return append(outs, c.routeOut(now, id)...), nil
}

// routeOut issues the route directive a robot is owed, if it may have it now.
func (c *Core) routeOut(now time.Time, id string) []Out {
	m := c.missions[id]
	rb, ok := c.reg.Get(id)
	if m == nil || m.Done() || c.fmap == nil || !ok || !rb.Online || c.mapper == id || c.invalid[id] != nil {
		return nil
	}
	k := c.robotCtl(id)
	rel := m.Release(c.cfg.Lookahead)
	if g, ok := c.planner.(Gate); ok {
		n, known := g.Released(id)
		if !known {
			n = m.Reached
		}
		rel = max(m.Reached, min(rel, n))
	}
	if k.sent && !k.routeDirty && k.sentReleased == rel {
		return nil
	}
	if k.held() || c.fleetStopped {
		k.routeDirty = true
		return nil
	}
	k.sent, k.routeDirty, k.sentReleased = true, false, rel
	d := topics.Directive{Kind: topics.DirRoute, Route: slices.Clone(m.Route), Released: rel, Step: m.Reached}
	if s, ok := c.planner.(Stopper); ok {
		d.StopM, _ = s.StopDistances()
		d.StopRadial = s.RadialStops()
		if x, y, ok := c.parkSpot(id); ok {
			d.ParkXM, d.ParkYM = &x, &y
		}
	}
	outs := []Out{c.directive(now, id, d)}
	if k.needResume {
		k.needResume = false
		outs = append(outs, c.directive(now, id, topics.Directive{Kind: topics.DirResume}))
	}
	return outs
}

// release lifts a robot's hold when no source remains: the route directive
// it is owed, if any, then a resume. The resume is sent even after a route
// because robots differ on whether a route lifts a hold (robot/pilot keeps
// the hold); route-then-resume is right either way.
func (c *Core) release(now time.Time, id string) []Out {
	k := c.robotCtl(id)
	if k.held() {
		return nil
	}
	k.needResume = true
	outs := c.routeOut(now, id)
	if k.needResume {
		k.needResume = false
		outs = append(outs, c.directive(now, id, topics.Directive{Kind: topics.DirResume}))
	}
	return outs
}

// Tick runs the time-driven work: silence timeouts, mapping, head-on
// timeouts, traffic planning, owed route directives, saving the seq.
func (c *Core) Tick(now time.Time) []Out {
	var outs []Out
	for _, id := range c.reg.Expire(now, c.cfg.SilenceTimeout) {
		c.stats.OfflineBySilence++
		outs = append(outs, c.wentOffline(now, id)...)
	}
	outs = append(outs, c.pickMapper(now)...)
	outs = append(outs, c.headOnTimeouts(now)...)
	outs = append(outs, c.plan(now)...)
	for _, id := range c.reg.IDs() {
		outs = append(outs, c.routeOut(now, id)...)
	}
	if c.seq != c.savedSeq {
		if err := c.st.SaveSeq(c.seq); err != nil {
			c.log.Error().Err(err).Msg("save seq")
		} else {
			c.savedSeq = c.seq
		}
	}
	return outs
}

func (c *Core) sortedKnown() []string {
	set := map[string]bool{}
	for id := range c.known {
		set[id] = true
	}
	for _, id := range c.reg.IDs() {
		set[id] = true
	}
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (c *Core) isKnown(id string) bool {
	if c.known[id] {
		return true
	}
	_, ok := c.reg.Get(id)
	return ok
}
