package pilot

import (
	"fmt"
	"math"
	"time"

	"collaborate/robot/hw"
	"collaborate/topics"
)

// LinkState is what the MQTT link knows about its connection.
type LinkState struct {
	Connected bool // the broker connection is up
	// OrchestratorOnline: orchestrator/status last said online and its
	// heartbeat is fresh (robot/link decides).
	OrchestratorOnline bool
	Reason             string // why not, for the failsafe event and status
}

// Input is everything that reaches the pilot in one control tick.
type Input struct {
	Now time.Time
	// Detections are the markers of a new camera frame; nil or empty when
	// there is no new frame or it showed nothing (the pilot reasons on the
	// time since it last saw a marker, not on empty frames).
	Detections []hw.Detection
	Directives []topics.Directive    // robots/{id}/cmd received since the last tick, in arrival order
	Fleet      []topics.FleetCommand // fleet/cmd received since the last tick, in arrival order
	Map        *topics.FleetMap      // the latest fleet/map, when one arrived since the last tick
	Link       LinkState
}

// Msg is one message to publish on robots/{ID}/{Kind}, with the QoS and
// retain flag of topics.PolicyOf(Kind).
type Msg struct {
	Kind topics.Kind
	Body topics.Message
}

// Output is what the pilot wants done after one tick.
type Output struct {
	LinearMps  float64 // forward positive
	AngularRps float64 // counter-clockwise positive
	// Halt means the drive must be made inert (Drive.Halt) this tick; it is
	// set on every tick where both speeds are zero, so a caller may simply
	// call Halt when it is set and Set otherwise.
	Halt     bool
	Publish  []Msg
	Problems []string // input rejected this tick, for the caller to log
}

// Stats counts what a pilot did and rejected, for metrics.
type Stats struct {
	Steps               int
	RejectedDetections  int // bad values or unknown marker ids
	RejectedMessages    int // invalid directives, fleet commands or maps
	StaleDirectives     int // older (epoch, seq) than the last applied, fleet/cmd included
	DuplicateDirectives int // the same (epoch, seq) again: a no-op
	Checkpoints         int
	CheckpointsResent   int // sent again for a route directive that had not recorded them
	Faults              int
}

type mode int

const (
	modeIdle mode = iota
	modeMapping
	modeRoute
	modeBackoff
	modeFault
)

// faceHit is another robot's face seen in a frame.
type faceHit struct {
	id      int
	robot   string // "" when the roster does not know it
	face    string
	distM   float64 // scaled
	bearing float64
}

// seen is one accepted detection of a frame.
type seen struct {
	id      int
	kind    string // topics.MarkerArena or topics.MarkerFace
	robot   string
	face    string
	rawM    float64 // camera distance
	distM   float64 // scaled by the map
	bearing float64
}

// track is the last sighting of the target, with the odometry at that time
// so that bearing and distance can be carried forward between frames.
type track struct {
	valid     bool
	id        int
	at        time.Time
	distM     float64
	bearing   float64
	headingAt float64
	odoAt     float64
}

type owner struct {
	robot string
	face  string
}

type statusKey struct {
	state, reason string
	step, target  int
	epoch, cmdSeq uint64
}

// Pilot is one robot's state machine. It is not safe for concurrent use:
// one control loop owns it.
type Pilot struct {
	cfg   Config
	seq   map[topics.Kind]uint64
	stats Stats

	started bool
	last    time.Time

	// link and failsafe
	linkWasOK, everOK, wasConnected bool
	failsafeLatched                 bool
	failsafeReason                  string
	failsafeEventDue                bool

	// directives
	haveDir            bool
	dirEpoch, dirSeq   uint64
	haveFleet          bool
	fleetEpoch, fleetS uint64
	fleetStop          bool
	held               bool
	stopped            bool // a stop directive since the last resume: nothing moves it, not even a backoff
	heldReason         string
	awaiting           bool // after a back-off, until resume, route or map
	commanded          bool // any directive applied yet

	mode        mode
	faultReason string

	route          []int
	stopM          float64     // from the route directive; 0: the config's
	stopRadial     bool        // from the route directive: stop at stop spots
	park           *[2]float64 // park spot of the last step, from the route directive
	released, step int
	routeEpoch     uint64
	routeSeq       uint64 // seq of the route directive applied last
	lastCheckpoint int

	mapTurned   float64
	backoffLeft float64

	tgt       track
	searching bool
	// aim is the bearing (from the heading) of where the robot drives to,
	// and ahead how far it still drives.
	aim, ahead float64
	// hiddenSince: facing a mapped target that does not show, since then.
	hiddenSince time.Time
	searchDir   float64
	searched    float64
	searchOver  time.Duration

	blocked   bool
	blockedBy faceHit
	yielding  bool
	yieldBy   faceHit
	yieldSeen time.Time
	yieldFrom time.Time

	// odometry of the commanded speeds, unbounded
	heading, odo   float64
	cmdLin, cmdAng float64

	// map and localisation
	haveMap  bool
	scale    float64
	markers  map[int][2]float64
	roster   map[int]owner
	fix      bool
	x, y, th float64

	statusSent bool
	lastStatus time.Time
	lastKey    statusKey
	nextPose   time.Time
	poseSent   bool
	nextBeat   time.Time
}

// New returns a pilot for cfg, with zero fields set to their defaults.
func New(cfg Config) (*Pilot, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Pilot{cfg: c, seq: map[topics.Kind]uint64{}, scale: 1, lastCheckpoint: -1, ahead: math.Inf(1)}, nil
}

// Config returns the configuration in use, defaults filled in.
func (p *Pilot) Config() Config { return p.cfg }

// Stats returns the counters.
func (p *Pilot) Stats() Stats { return p.stats }

// State returns the state reported in status and pose (a topics.State*).
func (p *Pilot) State() string {
	s, _ := p.stateAndReason()
	return s
}

// StateReason returns the state and why (a fault's reason, a hold's).
func (p *Pilot) StateReason() (string, string) { return p.stateAndReason() }

// Step runs one control tick: it takes the time, what arrived and the latest
// camera frame, and returns the drive command and the messages to publish.
func (p *Pilot) Step(in Input) Output {
	var out Output
	p.stats.Steps++
	now := in.Now
	dt := 0.0
	if p.started && now.After(p.last) {
		dt = min(now.Sub(p.last), p.cfg.MaxStepGap).Seconds()
	}
	if !p.started || now.After(p.last) {
		p.last = now
	}
	p.started = true
	p.advance(dt)

	// Link first: a lost link halts in this very tick, whatever else arrived.
	linkOK := in.Link.Connected && in.Link.OrchestratorOnline
	if p.linkWasOK && !linkOK {
		p.failsafeLatched = true
		p.failsafeEventDue = true
		p.failsafeReason = in.Link.Reason
		switch {
		case p.failsafeReason != "":
		case !in.Link.Connected:
			p.failsafeReason = "broker connection lost"
		default:
			p.failsafeReason = "orchestrator offline"
		}
	}
	reconnected := in.Link.Connected && !p.wasConnected
	p.everOK = p.everOK || linkOK
	p.linkWasOK = linkOK
	p.wasConnected = in.Link.Connected

	if in.Map != nil {
		p.setMap(in.Map, &out)
	}
	for i := range in.Fleet {
		p.applyFleet(now, &in.Fleet[i], &out)
	}
	for i := range in.Directives {
		p.applyDirective(now, &in.Directives[i], &out)
	}

	frame := p.readFrame(in.Detections, &out)
	if len(frame) > 0 {
		p.locate(frame)
		p.publishSightings(now, frame, &out)
		p.trackTarget(now, frame, &out)
	}

	gateOpen := linkOK && !p.failsafeLatched && !p.fleetStop
	lin, ang := p.control(now, frame, gateOpen, &out)
	if !gateOpen {
		lin, ang = 0, 0
	}
	// Speed up no faster than the drive can: odometry integrates the
	// commands, so a command the wheels cannot follow is distance the pose
	// estimate counts and the robot never drove. Slowing down is not
	// limited (a halt is immediate; the drive brakes hard).
	if up := p.cfg.MaxAccelMps2 * dt; math.Abs(lin) > math.Abs(p.cmdLin)+up && lin*p.cmdLin >= 0 {
		lin = math.Copysign(math.Abs(p.cmdLin)+up, lin)
	} else if lin*p.cmdLin < 0 {
		lin = math.Copysign(math.Min(math.Abs(lin), up), lin)
	}
	out.LinearMps, out.AngularRps = lin, ang
	out.Halt = lin == 0 && ang == 0
	p.cmdLin, p.cmdAng = lin, ang

	if p.failsafeEventDue && in.Link.Connected {
		p.failsafeEventDue = false
		p.event(now, &out, topics.Event{Kind: topics.EventFailsafe, Detail: p.failsafeReason})
	}
	p.publishStatus(now, reconnected, &out)
	p.publishPose(now, &out)
	p.publishHeartbeat(now, &out)
	return out
}

// advance integrates the previous tick's command over dt seconds: odometry,
// the pose estimate, and the progress of turns and back-offs.
func (p *Pilot) advance(dt float64) {
	if dt <= 0 {
		return
	}
	dth := p.cmdAng * dt
	ds := p.cmdLin * dt
	if p.fix {
		mid := p.th + dth/2
		p.x += ds * math.Cos(mid)
		p.y += ds * math.Sin(mid)
		p.th = wrap(p.th + dth)
	}
	p.heading += dth
	p.odo += ds
	switch p.mode {
	case modeMapping:
		p.mapTurned += math.Abs(dth)
	case modeBackoff:
		p.backoffLeft -= math.Abs(ds)
	case modeRoute:
		if p.searching && dth != 0 {
			if p.searched >= 2*math.Pi {
				p.searchOver += time.Duration(dt * float64(time.Second))
			}
			p.searched += math.Abs(dth)
		}
	}
}

// control runs the current mode and returns the wanted speeds.
func (p *Pilot) control(now time.Time, frame []seen, gateOpen bool, out *Output) (lin, ang float64) {
	switch p.mode {
	case modeMapping:
		if p.mapTurned >= 2*math.Pi {
			p.mode = modeIdle
			p.event(now, out, topics.Event{Kind: topics.EventMapDone,
				Detail: fmt.Sprintf("turned %.2f rad", p.mapTurned)})
			return 0, 0
		}
		if p.held || p.awaiting {
			return 0, 0
		}
		return 0, p.cfg.MapTurnRps
	case modeBackoff:
		if p.backoffLeft <= 0 {
			p.endBackoff()
			p.awaiting = true
			return 0, 0
		}
		return -p.cfg.BackoffSpeedMps, 0
	case modeRoute:
		return p.navigate(now, frame, gateOpen, out)
	}
	return 0, 0
}

func (p *Pilot) endBackoff() {
	p.backoffLeft = 0
	p.mode = modeIdle
	if len(p.route) > 0 {
		p.mode = modeRoute
	}
	p.resetNav()
}

// navigating reports whether the route has a released step left to drive.
func (p *Pilot) navigating() bool {
	return p.mode == modeRoute && p.step < len(p.route) && p.step < p.released
}

func (p *Pilot) target() (int, bool) {
	if p.mode == modeRoute && p.step < len(p.route) {
		return p.route[p.step], true
	}
	return 0, false
}

func (p *Pilot) navigate(now time.Time, frame []seen, gateOpen bool, out *Output) (lin, ang float64) {
	if !p.navigating() || p.held || p.awaiting || p.blocked || !gateOpen {
		return 0, 0
	}
	if p.yielding {
		if p.reflex(now, frame, out); p.blocked || p.yielding {
			return 0, 0
		}
	}
	if p.parking() {
		return p.parkNav(now, frame, out)
	}
	id := p.route[p.step]
	if p.tgt.valid && p.tgt.id == id && now.Sub(p.tgt.at) <= p.cfg.TargetLostAfter {
		p.searching = false
		b := wrap(p.tgt.bearing - (p.heading - p.tgt.headingAt))
		p.aim = b
		d := p.tgt.distM - (p.odo - p.tgt.odoAt)
		p.ahead = d - p.stopDistance()
		ang = clamp(p.cfg.HeadingGain*b, p.cfg.MaxTurnRps)
		if math.Abs(b) < p.cfg.DriveConeRad && (math.Abs(b) < alignedRad || !p.faceAhead(frame)) {
			v := math.Max(p.cfg.MinSpeedMps, math.Min(p.cfg.MaxSpeedMps, 0.8*(d-p.stopDistance())))
			lin = v * math.Cos(b)
			// The reflex guards forward motion only: a disc turning in place
			// hits nothing, and yielding while turning could wait forever on
			// a robot parked beside its checkpoint.
			if p.reflex(now, frame, out); p.blocked || p.yielding {
				return 0, 0
			}
		}
		return lin, ang
	}
	if m, ok := p.markers[id]; ok && p.fix {
		// The map says where it is: face it and wait for it to show. Another
		// robot passing in front of a marker hides it for a while; spinning
		// would only miss it again.
		p.searching = false
		b := wrap(math.Atan2(m[1]-p.y, m[0]-p.x) - p.th)
		if math.Abs(b) > p.cfg.DriveConeRad/2 {
			p.hiddenSince = time.Time{}
			return 0, clamp(p.cfg.HeadingGain*b, p.cfg.SearchTurnRps)
		}
		if p.hiddenSince.IsZero() {
			p.hiddenSince = now
		}
		if now.Sub(p.hiddenSince) >= p.cfg.HiddenTimeout {
			p.fault(now, out, fmt.Sprintf("marker %d not seen for %v while facing where the map has it", id, p.cfg.HiddenTimeout))
		}
		return 0, 0
	}
	if !p.searching {
		p.searching = true
		p.searched = 0
		p.searchOver = 0
		p.searchDir = p.searchDirection(id)
	}
	if p.searched >= 2*math.Pi && p.searchOver >= p.cfg.FindTimeout {
		p.fault(now, out, fmt.Sprintf("marker %d not seen after a full turn and %v more", id, p.cfg.FindTimeout))
		return 0, 0
	}
	return 0, p.searchDir * p.cfg.SearchTurnRps
}

// parking reports whether the robot drives its step to a spot by its pose
// (spot) rather than to its marker by the camera.
func (p *Pilot) parking() bool {
	_, ok := p.spot()
	return ok && p.navigating()
}

// spot is where the current step ends when the route directive says where:
// the park spot for the last step, and with stop_radial the marker's stop
// spot for the others, stopDistance in front of it towards the arena's
// centre (the map's origin).
func (p *Pilot) spot() ([2]float64, bool) {
	if p.step >= len(p.route) {
		return [2]float64{}, false
	}
	if p.step == len(p.route)-1 {
		if p.park == nil {
			return [2]float64{}, false
		}
		return *p.park, true
	}
	m, ok := p.markers[p.route[p.step]]
	r := math.Hypot(m[0], m[1])
	if !p.stopRadial || !ok || r <= p.stopDistance() {
		return [2]float64{}, false
	}
	k := 1 - p.stopDistance()/r
	return [2]float64{m[0] * k, m[1] * k}, true
}

// parkNav drives a step to its spot (the park spot, a stop spot) by the
// pose estimate: the markers seen on the way keep correcting it, the last
// decimetres are dead reckoning. Without a pose it turns until markers give
// one, and faults after a full turn and FindTimeout more, like a marker
// search. The step is reached within ParkToleranceM, or within twice that
// once the spot is behind the robot (it passed it).
func (p *Pilot) parkNav(now time.Time, frame []seen, out *Output) (lin, ang float64) {
	if !p.fix {
		if !p.searching {
			p.searching, p.searched, p.searchOver, p.searchDir = true, 0, 0, 1
		}
		if p.searched >= 2*math.Pi && p.searchOver >= p.cfg.FindTimeout {
			p.fault(now, out, "no pose to park by: no mapped marker seen after a full turn")
			return 0, 0
		}
		return 0, p.searchDir * p.cfg.SearchTurnRps
	}
	p.searching = false
	sp, _ := p.spot()
	dx, dy := sp[0]-p.x, sp[1]-p.y
	d := math.Hypot(dx, dy)
	b := wrap(math.Atan2(dy, dx) - p.th)
	p.aim, p.ahead = b, d
	tol := p.cfg.ParkToleranceM
	if d <= tol || (d <= 2*tol && math.Abs(b) > math.Pi/2) {
		p.reach(now, out)
		return 0, 0
	}
	ang = clamp(p.cfg.HeadingGain*b, p.cfg.MaxTurnRps)
	if math.Abs(b) < p.cfg.DriveConeRad && (math.Abs(b) < alignedRad || !p.faceAhead(frame)) {
		v := math.Max(p.cfg.MinSpeedMps, math.Min(p.cfg.MaxSpeedMps, 0.8*d))
		lin = v * math.Cos(b)
		if p.reflex(now, frame, out); p.blocked || p.yielding {
			return 0, 0
		}
	}
	return lin, ang
}

// searchDirection picks the shorter way round to marker id: from the map and
// the pose estimate when known, else from where it was last seen, else left.
func (p *Pilot) searchDirection(id int) float64 {
	if m, ok := p.markers[id]; ok && p.fix {
		if wrap(math.Atan2(m[1]-p.y, m[0]-p.x)-p.th) < 0 {
			return -1
		}
		return 1
	}
	if p.tgt.valid && p.tgt.id == id && wrap(p.tgt.bearing-(p.heading-p.tgt.headingAt)) < 0 {
		return -1
	}
	return 1
}

func (p *Pilot) resetNav() {
	p.tgt = track{}
	p.aim, p.ahead = 0, math.Inf(1)
	p.hiddenSince = time.Time{}
	p.searching = false
	p.searched = 0
	p.searchOver = 0
}

func (p *Pilot) fault(now time.Time, out *Output, reason string) {
	p.mode = modeFault
	p.faultReason = reason
	p.stats.Faults++
	p.resetNav()
	p.event(now, out, topics.Event{Kind: topics.EventFault, Detail: reason})
}

// trackTarget records a sighting of the target and checks whether it is reached.
func (p *Pilot) trackTarget(now time.Time, frame []seen, out *Output) {
	if !p.navigating() || p.parking() {
		return
	}
	id := p.route[p.step]
	for _, s := range frame {
		if s.kind != topics.MarkerArena || s.id != id {
			continue
		}
		p.tgt = track{valid: true, id: id, at: now, distM: s.distM, bearing: s.bearing, headingAt: p.heading, odoAt: p.odo}
		if s.distM <= p.stopDistance() {
			p.reach(now, out)
		}
		return
	}
}

// stopDistance is how far short of the current target the robot stops: the
// park distance for the route's last marker (its final goal, when the route
// gives no park spot), the stop distance for the others (the route
// directive's, else the config's).
func (p *Pilot) stopDistance() float64 {
	if p.step == len(p.route)-1 {
		return p.cfg.ParkDistanceM
	}
	if p.stopM > 0 {
		return p.stopM
	}
	return p.cfg.StopDistanceM
}

func (p *Pilot) reach(now time.Time, out *Output) {
	cp := &topics.Checkpoint{Header: p.stamp(topics.KindCheckpoint, now), Epoch: p.routeEpoch,
		Marker: p.route[p.step], Step: p.step, Final: p.step == len(p.route)-1}
	out.Publish = append(out.Publish, Msg{Kind: topics.KindCheckpoint, Body: cp})
	p.stats.Checkpoints++
	p.lastCheckpoint = p.step
	p.step++
	p.resetNav()
}

// reflex is the local reaction to another robot's face in the way: in the
// corridor ahead of where the robot is going (p.aim: it drives while it
// still turns towards its target, and a robot standing beside the path it
// turns onto is not in its way), closer than FaceStopDistanceM along it,
// within ReflexHalfWidthM of it sideways and within ±ForwardConeRad.
func (p *Pilot) reflex(now time.Time, frame []seen, out *Output) {
	var front, side *faceHit
	for _, s := range frame {
		if s.kind != topics.MarkerFace || !p.inCorridor(s, p.aim, p.lookAhead()) {
			continue
		}
		h := faceHit{id: s.id, robot: s.robot, face: s.face, distM: s.distM, bearing: s.bearing}
		if s.face == topics.FaceFront {
			if front == nil || h.distM < front.distM {
				front = &h
			}
		} else if side == nil || h.distM < side.distM {
			side = &h
		}
	}
	switch {
	case front != nil:
		p.blocked = true
		p.blockedBy = *front
		p.yielding = false
		p.event(now, out, faceEvent(topics.EventBlocked, *front))
	case side != nil:
		p.yieldSeen = now
		if !p.yielding {
			p.yielding = true
			p.yieldBy = *side
			p.yieldFrom = now
			p.event(now, out, faceEvent(topics.EventYield, *side))
		} else if now.Sub(p.yieldFrom) >= p.cfg.YieldTimeout {
			// The other robot is not moving on (it may itself be waiting):
			// waiting longer would deadlock, so ask the orchestrator.
			p.yielding = false
			p.blocked = true
			p.blockedBy = *side
			e := faceEvent(topics.EventBlocked, *side)
			e.Detail = fmt.Sprintf("yielded for %v", p.cfg.YieldTimeout)
			p.event(now, out, e)
		}
	case p.yielding && now.Sub(p.yieldSeen) >= p.cfg.ClearAfter:
		p.yielding = false
		p.event(now, out, faceEvent(topics.EventClear, p.yieldBy))
	}
}

// lookAhead is how far ahead the reflex looks: FaceStopDistanceM, but no
// farther than the robot still drives (to its stop point) plus reflexBeyondM
// for its own front. A robot parked just past the stop point is not in the
// way.
func (p *Pilot) lookAhead() float64 {
	return math.Min(p.cfg.FaceStopDistanceM, math.Max(0, p.ahead)+reflexBeyondM)
}

// reflexBeyondM: faces this far past the stop point still count (the
// robot's front is 0.09 m ahead of its centre).
const reflexBeyondM = 0.15

// inCorridor reports whether a face sighting lies in the corridor towards
// bearing dir (from the heading): ahead by at most reach, within
// ±ForwardConeRad and ReflexHalfWidthM sideways.
func (p *Pilot) inCorridor(s seen, dir, reach float64) bool {
	a := wrap(s.bearing - dir)
	return math.Abs(a) <= p.cfg.ForwardConeRad && s.distM*math.Cos(a) <= reach &&
		math.Abs(s.distM*math.Sin(a)) <= p.cfg.ReflexHalfWidthM
}

// faceAhead reports whether another robot's face is close in the corridor
// of the heading: the robot then finishes turning towards its aim before it
// drives (it drives while it turns, and would sweep into a robot standing
// beside the path it turns onto).
func (p *Pilot) faceAhead(frame []seen) bool {
	for _, s := range frame {
		if s.kind == topics.MarkerFace && p.inCorridor(s, 0, p.lookAhead()) {
			return true
		}
	}
	return false
}

func faceEvent(kind string, h faceHit) topics.Event {
	id, d := h.id, h.distM
	return topics.Event{Kind: kind, Other: h.robot, Face: h.face, Marker: &id, DistanceM: &d}
}

func (p *Pilot) event(now time.Time, out *Output, e topics.Event) {
	e.Header = p.stamp(topics.KindEvents, now)
	out.Publish = append(out.Publish, Msg{Kind: topics.KindEvents, Body: &e})
}

// stamp heads the next message of kind k. Each kind's seq starts from the
// time of its first message in milliseconds (the header rule): a robot that
// restarts goes on above the seqs of its previous run, its last will's
// included.
func (p *Pilot) stamp(k topics.Kind, now time.Time) topics.Header {
	if p.seq[k] == 0 {
		p.seq[k] = uint64(max(now.UnixMilli(), 0))
	}
	p.seq[k]++
	return topics.Stamp(p.cfg.ID, p.seq[k], now)
}

// alignedRad: heading this close to the aim counts as aligned.
const alignedRad = 0.05

func clamp(v, lim float64) float64 { return math.Max(-lim, math.Min(lim, v)) }

// wrap brings an angle into [-π, π].
func wrap(a float64) float64 {
	a = math.Mod(a+math.Pi, 2*math.Pi)
	if a < 0 {
		a += 2 * math.Pi
	}
	return a - math.Pi
}
