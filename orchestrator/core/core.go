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

// StallCounter is implemented by planners that, when no order lets every
// robot finish one at a time from where the robots stand, reserve legs
// without that guarantee (traffic.Reserver): the core warns of it.
type StallCounter interface {
	Stats() traffic.Stats
}

// Yielder is implemented by planners that may let robots go first past
// one that stands, held (traffic.Reserver): the core calls Yield once a
// head-on's waiter is freed (its backer has backed off, or it reported
// clear, or BackoffTimeout), and on every tick after while the backer is
// held, until the waiter's next checkpoint; Yield reports whether the
// waiter now goes first. Without it, a waiter that stands waiting for the
// backer's leg would wait for the backer, and the backer for it, until
// HeadOnTimeout, and then meet it again.
type Yielder interface {
	Yield(now time.Time, stopped, goer string) bool
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
	SaveMission(m *mission.State) error
	Missions() (map[string]*mission.State, error)
	SaveMap(m *topics.FleetMap) error
	Map() (*topics.FleetMap, error) // store.ErrNoMap when there is none
	SaveLatches(l store.Latches) error
	Latches() (store.Latches, error)
}

// Config tunes the core. Zero values take the defaults noted.
type Config struct {
	DiameterM      float64       // configured arena diameter; else Missions.Arena.DiameterM
	Missions       *mission.File // optional: initial missions, speeds, mapper
	Mapper         string        // optional: overrides Missions.Mapper
	SilenceTimeout time.Duration // default topics.RobotSilence (2 s)
	// ResyncAfter: a robot whose reports, this long after the last
	// directive sent to it, show it did not apply it (or show it in
	// failsafe) is sent fresh directives. Default 1 s.
	ResyncAfter time.Duration
	// BlockedRetry: a robot that reports blocked for this long with no
	// head-on in progress gets fresh directives (it retries). Default 5 s.
	BlockedRetry time.Duration
	// MaxBackoffs: a waiter blocked again by the same backer after it was
	// freed makes the backer back off again, up to this many times in one
	// head-on; then the two swap roles. Default 3.
	MaxBackoffs int
	// HeartbeatEvery is the period of orchestrator/heartbeat, default
	// topics.OrchestratorHeartbeatPeriod.
	HeartbeatEvery  time.Duration
	Lookahead       int           // steps released past the last checkpoint; default 2
	BackoffM        float64       // head-on backoff distance; default 0.25 m
	DefaultSpeedMps float64       // cruise speed when none configured; default 0.2
	BackoffTimeout  time.Duration // head-on waiter resumes at the latest after; default 5 s
	HeadOnTimeout   time.Duration // head-on backer resumes at the latest after; default 30 s
	MapRetry        time.Duration // wait after a failed sweep; default 10 s
	// PositionGrace: after the core starts (a restart, say), no leg is
	// planned until every robot with a mission is online with a known
	// position, or for this long at most. Robots stopped by a crash stand
	// wherever they were, and one not heard from yet is invisible to the
	// planner. Default topics.RobotSilence plus one second (a standing
	// robot's pose period); negative: no wait.
	PositionGrace time.Duration
	Planner       Planner // default NoTraffic
	Log           *zerolog.Logger
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

	// What was sent to it in this run, and what it says it applied.
	lastSeq    uint64    // seq of the last directive sent
	routeSeq   uint64    // seq of the last route directive sent
	lastSentAt time.Time // when the last directive was sent
	rep        report
}

// report is what a robot last said of the directives it applied.
type report struct {
	at         time.Time // arrival of the last status or heartbeat
	state      string
	epoch, seq uint64 // last directive applied
	hasRoute   bool   // from a heartbeat: routeEpoch and routeSeq are known
	routeEpoch uint64
	routeSeq   uint64
	fromBeat   bool
}

func (k *ctl) held() bool { return k.traffic != nil || k.headOn != nil || k.operatorHold || k.stopped }

// headOn is one head-on being resolved.
type headOn struct {
	backer, waiter string
	since          time.Time
	waiterFreed    time.Time // zero until the waiter resumed
	backedOff      bool      // the backer was seen backing off
	backoffs       int       // back-offs ordered in this head-on
	yielded        bool      // the planner let the waiter go first (Yielder)
}

// Core is the decision state. Not safe for concurrent use: see Runner.
type Core struct {
	cfg     Config
	st      Store
	log     zerolog.Logger
	planner Planner

	// epoch grows at every start (stored); seq counts this run's messages
	// from 0. Receivers order by (epoch, seq), epoch first, so the seq needs
	// no disk.
	epoch, seq uint64

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
	cannotMap  map[string]bool // robots that declined a sweep (no camera)

	fleetStopped bool
	// planFrom: until then, legs are planned only once every robot with a
	// mission is placed (PositionGrace); set at the first plan.
	planFrom       time.Time
	graceLoggedFor string
	// stalls is the planner's count of legs reserved without its deadlock
	// check, as last seen (StallCounter).
	stalls int
	// latchesDirty: an operator latch changed since the last Persist.
	latchesDirty bool
	headOns      []*headOn
	beatSeq      uint64
	lastBeat     time.Time

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
	def(&cfg.SilenceTimeout, topics.RobotSilence)
	def(&cfg.ResyncAfter, time.Second)
	def(&cfg.BlockedRetry, 5*time.Second)
	if cfg.MaxBackoffs <= 0 {
		cfg.MaxBackoffs = 3
	}
	def(&cfg.HeartbeatEvery, topics.OrchestratorHeartbeatPeriod)
	def(&cfg.BackoffTimeout, 5*time.Second)
	def(&cfg.HeadOnTimeout, 30*time.Second)
	def(&cfg.MapRetry, 10*time.Second)
	if cfg.PositionGrace == 0 {
		cfg.PositionGrace = topics.RobotSilence + time.Second
	}
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
		known: map[string]bool{}, ctl: map[string]*ctl{}, cannotMap: map[string]bool{},
	}
	if cfg.Log != nil {
		c.log = *cfg.Log
	}
	var err error
	if c.epoch, err = st.NextEpoch(); err != nil {
		return nil, fmt.Errorf("core: %w", err)
	}
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
	latches, err := st.Latches()
	if err != nil {
		return nil, fmt.Errorf("core: %w", err)
	}
	c.fleetStopped = latches.FleetStopped
	for id := range latches.Held {
		c.robotCtl(id).operatorHold = true
		c.known[id] = true
	}
	for id := range latches.Stopped {
		c.robotCtl(id).stopped = true
		c.known[id] = true
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
	k := c.robotCtl(id)
	k.lastSeq, k.lastSentAt = d.Seq, now
	if d.Kind == topics.DirRoute {
		k.routeSeq = d.Seq
	}
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

// Announce returns what to publish on every (re)connection to the broker:
// orchestrator/status online (retained, with the epoch), the stored map and
// the fleet command in force (both retained). A broker that restarted may
// have lost them, or published the orchestrator's will meanwhile.
func (c *Core) Announce(now time.Time) []Out {
	p := topics.PolicyOf(topics.KindOrchestratorStatus)
	outs := []Out{{Topic: topics.TopicOrchestratorStatus, Retain: p.Retained, QoS: p.QoS,
		Payload: &topics.OrchestratorState{Header: c.nextHeader(now), State: topics.OrchOnline, Epoch: c.epoch}}}
	if c.fmap != nil {
		outs = append(outs, c.mapOut(now))
	}
	kind := topics.FleetResume
	if c.fleetStopped {
		kind = topics.FleetStop
	}
	return append(outs, c.fleetCmd(now, kind))
}

// Heartbeat returns orchestrator/heartbeat when one is due (every
// HeartbeatEvery). It has its own seq: it is a topic of its own, and it
// must not make the directive seq churn through the store.
func (c *Core) Heartbeat(now time.Time) []Out {
	// Three quarters: a ticker at HeartbeatEvery that fires a little early
	// must not skip a beat.
	if !c.lastBeat.IsZero() && now.Sub(c.lastBeat) < c.cfg.HeartbeatEvery*3/4 {
		return nil
	}
	c.lastBeat = now
	c.beatSeq++
	p := topics.PolicyOf(topics.KindOrchestratorHeartbeat)
	return []Out{{Topic: topics.TopicOrchestratorHeartbeat, Retain: p.Retained, QoS: p.QoS,
		Payload: &topics.OrchestratorHeartbeat{Header: topics.Stamp(Sender, c.beatSeq, now), Epoch: c.epoch}}}
}

// Shutdown returns orchestrator/status offline (retained), so that robots
// stop.
func (c *Core) Shutdown(now time.Time) []Out {
	p := topics.PolicyOf(topics.KindOrchestratorStatus)
	return []Out{{Topic: topics.TopicOrchestratorStatus, Retain: p.Retained, QoS: p.QoS,
		Payload: &topics.OrchestratorState{Header: c.nextHeader(now), State: topics.OrchOffline, Epoch: c.epoch}}}
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
		if m.State != topics.StateOffline {
			k := c.robotCtl(id)
			r := k.rep
			r.at, r.state, r.epoch, r.seq = now, m.State, m.Epoch, m.CmdSeq
			k.rep = r
		}
		outs = append(outs, c.onState(now, id, m.State)...)
		if m.Faces != nil {
			outs = append(outs, c.rosterChanged(now)...)
		}
	case *topics.Pose:
		ch = c.reg.Pose(now, id, m)
		outs = append(outs, c.onState(now, id, m.State)...)
	case *topics.Heartbeat:
		ch = c.reg.Heartbeat(now, id, m)
		c.robotCtl(id).rep = report{at: now, state: m.State, epoch: m.Epoch, seq: m.CmdSeq,
			hasRoute: true, routeEpoch: m.RouteEpoch, routeSeq: m.RouteSeq, fromBeat: true}
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
		// It may have restarted, or missed directives while away, and it
		// may still hold a latch of an earlier run (a hold, a failsafe).
		outs = append(outs, c.resync(now, id, "came online")...)
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

// outOfSync says why robot id needs fresh directives, or "". Its reports
// must be recent enough to reflect the last directive sent to it: they
// arrived ResyncAfter after it. A robot that applied an older directive
// than the last one sent lost one (a broker restart, a cut link); one that
// has an older route, or none, restarted; one in failsafe waits for a fresh
// directive after losing its link.
func (c *Core) outOfSync(now time.Time, id string) string {
	rb, ok := c.reg.Get(id)
	k := c.robotCtl(id)
	r := k.rep
	if !ok || !rb.Online || r.at.IsZero() || r.at.Sub(k.lastSentAt) < c.cfg.ResyncAfter {
		return ""
	}
	switch {
	case r.state == topics.StateFailsafe:
		return "it is in failsafe"
	case r.state == topics.StateBlocked && !c.inHeadOn(id) && now.Sub(k.lastSentAt) >= c.cfg.BlockedRetry:
		// Blocked robots wait for a decision: one that no head-on in
		// progress will decide (its report came while another head-on
		// held the other robot, or was lost) tries again.
		return "it is blocked and no head-on decides for it"
	case k.lastSeq > 0 && (r.epoch != c.epoch || r.seq < k.lastSeq):
		return fmt.Sprintf("it applied epoch %d seq %d, the last sent is epoch %d seq %d", r.epoch, r.seq, c.epoch, k.lastSeq)
	case r.hasRoute && k.routeSeq > 0 && (r.routeEpoch != c.epoch || r.routeSeq < k.routeSeq):
		return fmt.Sprintf("its route is epoch %d seq %d, the last sent is epoch %d seq %d", r.routeEpoch, r.routeSeq, c.epoch, k.routeSeq)
	}
	return ""
}

// resync sends robot id everything it needs to carry on, as fresh
// directives (a fresh directive is what lifts a robot's failsafe): the
// mapper's sweep again; else its route, even while it is held (a route
// lifts no hold), then the latch in force: stop or hold when an operator,
// the traffic control or a head-on holds it, else resume.
func (c *Core) resync(now time.Time, id, why string) []Out {
	c.stats.Resyncs++
	c.log.Info().Str("robot", id).Str("why", why).Msg("resync")
	if c.mapper == id {
		return []Out{c.startSweep(now, id)}
	}
	k := c.robotCtl(id)
	k.sent, k.routeDirty, k.needResume = false, false, false
	var outs []Out
	rel, hasRoute := c.routeRelease(id)
	if hasRoute {
		outs = append(outs, c.routeDirective(now, id, rel))
	} else if !k.held() && k.rep.state != topics.StateFailsafe {
		// Nothing to drive and nothing to latch: its first route will
		// carry the resume. Whatever it missed no longer matters.
		k.needResume = true
		k.lastSeq, k.routeSeq, k.lastSentAt = 0, 0, now
		return nil
	}
	switch {
	case k.stopped:
		outs = append(outs, c.directive(now, id, topics.Directive{Kind: topics.DirStop, Reason: "operator stop"}))
	case k.held():
		outs = append(outs, c.directive(now, id, topics.Directive{Kind: topics.DirHold, Reason: c.holdReason(k)}))
	default:
		outs = append(outs, c.directive(now, id, topics.Directive{Kind: topics.DirResume}))
	}
	return outs
}

// holdReason names the strongest hold in force.
func (c *Core) holdReason(k *ctl) string {
	switch {
	case k.operatorHold:
		return "operator hold"
	case k.headOn != nil:
		return k.headOn.reason
	case k.traffic != nil:
		return k.traffic.reason
	}
	return "hold"
}

// routeOut issues the route directive a robot is owed, if it may have it
// now: not while a hold or a fleet stop is in force (it is sent when they
// lift, before the resume).
func (c *Core) routeOut(now time.Time, id string) []Out {
	k := c.robotCtl(id)
	rel, ok := c.routeRelease(id)
	if !ok || (k.sent && !k.routeDirty && k.sentReleased == rel) {
		return nil
	}
	if k.held() || c.fleetStopped {
		k.routeDirty = true
		return nil
	}
	outs := []Out{c.routeDirective(now, id, rel)}
	if k.needResume {
		k.needResume = false
		outs = append(outs, c.directive(now, id, topics.Directive{Kind: topics.DirResume}))
	}
	return outs
}

// routeRelease is how many steps of its route robot id may drive, and
// false when it is not to be sent a route: no mission, done, no map, not
// online, sweeping, or a mission off the map.
func (c *Core) routeRelease(id string) (int, bool) {
	m := c.missions[id]
	rb, ok := c.reg.Get(id)
	if m == nil || m.Done() || c.fmap == nil || !ok || !rb.Online || c.mapper == id || c.invalid[id] != nil {
		return 0, false
	}
	rel := m.Release(c.cfg.Lookahead)
	if g, ok := c.planner.(Gate); ok {
		n, known := g.Released(id)
		if !known {
			n = m.Reached
		}
		rel = max(m.Reached, min(rel, n))
	}
	return rel, true
}

// routeDirective builds robot id's route directive releasing rel steps.
func (c *Core) routeDirective(now time.Time, id string, rel int) Out {
	m := c.missions[id]
	k := c.robotCtl(id)
	k.sent, k.routeDirty, k.sentReleased = true, false, rel
	d := topics.Directive{Kind: topics.DirRoute, Route: slices.Clone(m.Route), Released: rel, Step: m.Reached}
	if s, ok := c.planner.(Stopper); ok {
		d.StopM, _ = s.StopDistances()
		d.StopRadial = s.RadialStops()
		if x, y, ok := c.parkSpot(id); ok {
			d.ParkXM, d.ParkYM = &x, &y
		}
	}
	return c.directive(now, id, d)
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

// Tick runs the time-driven work: silence timeouts, resyncs, mapping,
// head-on timeouts, traffic planning, owed route directives, saving the seq.
func (c *Core) Tick(now time.Time) []Out {
	var outs []Out
	for _, id := range c.reg.Expire(now, c.cfg.SilenceTimeout) {
		c.stats.OfflineBySilence++
		outs = append(outs, c.wentOffline(now, id)...)
	}
	for _, id := range c.reg.IDs() {
		if why := c.outOfSync(now, id); why != "" {
			outs = append(outs, c.resync(now, id, why)...)
		}
	}
	outs = append(outs, c.pickMapper(now)...)
	outs = append(outs, c.headOnTimeouts(now)...)
	outs = append(outs, c.plan(now)...)
	for _, id := range c.reg.IDs() {
		outs = append(outs, c.routeOut(now, id)...)
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
