package topics

import "time"

// Liveness timing, part of the contract. Each side proves it is alive with
// a heartbeat at QoS 0; the other side acts on silence.
const (
	// OrchestratorHeartbeatPeriod is how often the orchestrator publishes
	// orchestrator/heartbeat.
	OrchestratorHeartbeatPeriod = 200 * time.Millisecond
	// OrchestratorSilence is how long a robot may go without an
	// orchestrator/heartbeat before it stops (failsafe): 4 periods, so that
	// one or two lost heartbeats do not stop the fleet. A robot at
	// 0.25 m/s drives at most 0.25 m blind: 0.8 s plus one control tick.
	OrchestratorSilence = 800 * time.Millisecond
	// HeartbeatPeriod is how often a robot publishes robots/{id}/heartbeat,
	// whatever its state (idle, held, in failsafe).
	HeartbeatPeriod = 500 * time.Millisecond
	// RobotSilence is how long the orchestrator waits for any message of a
	// robot before it takes the robot offline: 4 heartbeat periods.
	RobotSilence = 2 * time.Second
)

// Header starts every payload.
type Header struct {
	V      int       `json:"v"`      // contract version, Version
	Sender string    `json:"sender"` // robot id, or "orchestrator"
	Seq    uint64    `json:"seq"`    // per topic and sender, increasing
	TS     time.Time `json:"ts"`     // UTC
}

// header gives the decoder and HeaderOf every message's header, through
// the embedded Header.
func (h *Header) header() *Header { return h }

// Robot states, as reported in Status and Pose.
const (
	StateOnline    = "online" // connected, not yet told what to do
	StateIdle      = "idle"
	StateMapping   = "mapping"
	StateMoving    = "moving"
	StateReached   = "reached"
	StateHolding   = "holding"
	StateBlocked   = "blocked"
	StateYielding  = "yielding" // stopped by a side or back face, carries on by itself
	StateBackingUp = "backing_off"
	StateFailsafe  = "failsafe"
	StateFault     = "fault"
	StateDone      = "done"
	StateOffline   = "offline" // last will
)

// RobotStates lists every valid robot state.
var RobotStates = []string{StateOnline, StateIdle, StateMapping, StateMoving, StateReached,
	StateHolding, StateBlocked, StateYielding, StateBackingUp, StateFailsafe, StateFault,
	StateDone, StateOffline}

// Faces of a robot, each carrying one ArUco marker.
const (
	FaceFront = "front"
	FaceLeft  = "left"
	FaceBack  = "back"
	FaceRight = "right"
)

// FaceNames lists the four faces in marker order: a robot whose first face id
// is b carries b, b+1, b+2, b+3 on front, left, back, right.
var FaceNames = []string{FaceFront, FaceLeft, FaceBack, FaceRight}

// FaceIDs are the marker ids on a robot's four faces.
type FaceIDs struct {
	Front int `json:"front"`
	Left  int `json:"left"`
	Back  int `json:"back"`
	Right int `json:"right"`
}

// Status is retained on robots/{id}/status. The last will carries State
// "offline".
type Status struct {
	Header
	State   string   `json:"state"`
	Version string   `json:"version,omitempty"` // robot software version
	Faces   *FaceIDs `json:"faces,omitempty"`
	Epoch   uint64   `json:"epoch,omitempty"`   // epoch of the last directive applied
	CmdSeq  uint64   `json:"cmd_seq,omitempty"` // seq of the last directive applied
	Step    int      `json:"step,omitempty"`    // route step being worked on
	Target  *int     `json:"target,omitempty"`  // marker being driven to
	Reason  string   `json:"reason,omitempty"`  // why, for failsafe, fault and blocked
}

// Pose is sent on robots/{id}/pose at 5–20 Hz while a robot moves.
type Pose struct {
	Header
	State     string   `json:"state"`
	Target    *int     `json:"target,omitempty"`     // marker driven to
	DistanceM *float64 `json:"distance_m,omitempty"` // to Target, when seen or estimated
	XM        *float64 `json:"x_m,omitempty"`        // arena frame, once the map is known
	YM        *float64 `json:"y_m,omitempty"`
	ThetaRad  *float64 `json:"theta_rad,omitempty"`
	SpeedMps  float64  `json:"speed_mps"`
	Step      int      `json:"step"` // route step of Target
}

// Marker kinds in a sighting.
const (
	MarkerArena = "arena"
	MarkerFace  = "face"
)

// Sighting is one marker seen in one frame.
type Sighting struct {
	MarkerID   int     `json:"id"`
	Kind       string  `json:"kind"`            // arena or face
	Robot      string  `json:"robot,omitempty"` // owner, for a face, when known from the roster
	Face       string  `json:"face,omitempty"`  // front, left, back or right, for a face
	DistanceM  float64 `json:"distance_m"`
	BearingRad float64 `json:"bearing_rad"`
}

// Sightings is sent on robots/{id}/sightings: the markers of one frame.
type Sightings struct {
	Header
	HeadingRad *float64   `json:"heading_rad,omitempty"` // robot heading when known (mapping sweep: turned so far)
	Seen       []Sighting `json:"seen"`
}

// Checkpoint is sent at QoS 1 on robots/{id}/checkpoint when a robot reaches
// a marker of its route.
type Checkpoint struct {
	Header
	Epoch  uint64 `json:"epoch"` // epoch of the route directive
	Marker int    `json:"marker"`
	Step   int    `json:"step"` // index in the route, from 0
	Final  bool   `json:"final"`
}

// Event kinds on robots/{id}/events.
const (
	EventAck      = "ack"      // directive applied
	EventStale    = "stale"    // directive ignored: older epoch or seq
	EventBlocked  = "blocked"  // head-on: a front face ahead, waiting for the orchestrator
	EventYield    = "yield"    // side or back face ahead: stopped, carries on by itself
	EventClear    = "clear"    // the face that stopped it is gone
	EventFault    = "fault"    // something broke
	EventFailsafe = "failsafe" // lost the broker or the orchestrator
	EventMapDone  = "map_done" // mapping sweep finished
)

// EventKinds lists every valid event kind.
var EventKinds = []string{EventAck, EventStale, EventBlocked, EventYield, EventClear,
	EventFault, EventFailsafe, EventMapDone}

// Event is sent at QoS 1 on robots/{id}/events.
type Event struct {
	Header
	Kind      string   `json:"kind"`
	Epoch     uint64   `json:"epoch,omitempty"`      // of the directive, for ack and stale
	CmdSeq    uint64   `json:"cmd_seq,omitempty"`    // of the directive, for ack and stale
	Other     string   `json:"other,omitempty"`      // other robot, for blocked, yield and clear
	Face      string   `json:"face,omitempty"`       // its face seen
	Marker    *int     `json:"marker,omitempty"`     // the face marker id seen
	DistanceM *float64 `json:"distance_m,omitempty"` // to the other robot
	Detail    string   `json:"detail,omitempty"`
}

// Heartbeat is sent at QoS 0 on robots/{id}/heartbeat every
// HeartbeatPeriod, whatever the robot is doing. It keeps a quiet robot
// online, and it says which directives the robot has applied, so that the
// orchestrator resends what a fault lost (a broker restart, a cut link, a
// robot restart): the robot is in sync when its (Epoch, CmdSeq) and
// (RouteEpoch, RouteSeq) are the last directive and the last route
// directive the orchestrator sent it.
type Heartbeat struct {
	Header
	State      string `json:"state"`
	Epoch      uint64 `json:"epoch,omitempty"`       // of the last directive applied
	CmdSeq     uint64 `json:"cmd_seq,omitempty"`     // of the last directive applied
	RouteEpoch uint64 `json:"route_epoch,omitempty"` // of the route directive in force
	RouteSeq   uint64 `json:"route_seq,omitempty"`   // of the route directive in force
	Step       int    `json:"step,omitempty"`        // route step being worked on
	// Where the robot is, once localised (as in Pose): a robot that stands
	// may publish no pose, and the traffic control needs its position.
	XM       *float64 `json:"x_m,omitempty"`
	YM       *float64 `json:"y_m,omitempty"`
	ThetaRad *float64 `json:"theta_rad,omitempty"`
}

// Directive kinds on robots/{id}/cmd.
const (
	DirRoute   = "route"
	DirHold    = "hold"
	DirResume  = "resume"
	DirStop    = "stop"
	DirMap     = "map"
	DirBackoff = "backoff"
)

// DirectiveKinds lists every valid directive kind.
var DirectiveKinds = []string{DirRoute, DirHold, DirResume, DirStop, DirMap, DirBackoff}

// Directive is retained at QoS 1 on robots/{id}/cmd. A robot applies a
// directive once: (Epoch, Header.Seq) must be greater than the last one it
// applied, compared epoch first; an older one is reported stale. A hold or
// stop is latched until a resume; nothing else resumes a robot (the rules
// are in asyncapi.yaml, x-robot-rules).
type Directive struct {
	Header
	Epoch uint64 `json:"epoch"` // orchestrator run; grows across restarts
	Kind  string `json:"kind"`
	Route []int  `json:"route,omitempty"` // marker ids, for route
	// Released is how many steps of Route, counted from its start, the
	// robot may drive: steps with index < Released. 0 releases none.
	Released int     `json:"released,omitempty"`
	Step     int     `json:"step,omitempty"`      // first step to drive, for route (resume a mission)
	BackoffM float64 `json:"backoff_m,omitempty"` // for backoff
	// For route: StopM is how far short of a marker to stop on the way (0:
	// the robot's own setting). ParkXM and ParkYM (both or neither), in the
	// arena frame, are where to park for the last step, the final goal:
	// beside its marker, where a parked robot hides no marker from robots
	// that visit it. Without them the robot stops in front of the marker.
	StopM  float64  `json:"stop_m,omitempty"`
	ParkXM *float64 `json:"park_x_m,omitempty"`
	ParkYM *float64 `json:"park_y_m,omitempty"`
	Reason string   `json:"reason,omitempty"`
	// StopRadial (for route): the robot stops for each marker on the way
	// at its stop spot instead of on its way there: StopM in front of it,
	// on the line to the arena's centre, driven to by the pose estimate, so
	// that it stands where the orchestrator planned whichever way it came.
	StopRadial bool `json:"stop_radial,omitempty"`
}

// Fleet command kinds on fleet/cmd.
const (
	FleetStop   = "stop"
	FleetResume = "resume"
)

// FleetCommand is a broadcast on fleet/cmd. A stop is obeyed within one
// control tick. A resume only lifts a fleet stop; it does not lift a robot's
// own hold.
type FleetCommand struct {
	Header
	Epoch uint64 `json:"epoch"`
	Kind  string `json:"kind"`
}

// MapMarker is one arena marker in the arena frame.
type MapMarker struct {
	ID      int     `json:"id"`
	XM      float64 `json:"x_m"`
	YM      float64 `json:"y_m"`
	Samples int     `json:"samples"` // sightings averaged into it
}

// FleetMap is retained on fleet/map.
type FleetMap struct {
	Header
	DiameterM         float64     `json:"diameter_m"`          // configured
	MeasuredDiameterM float64     `json:"measured_diameter_m"` // from the sweep, before scaling
	Scale             float64     `json:"scale"`               // multiply camera distances by it
	Markers           []MapMarker `json:"markers"`
	MappedBy          string      `json:"mapped_by,omitempty"`
	// Roster tells robots whose face markers they may meet, so that a robot
	// that sees a face can name its owner. Taken from the robots' status.
	Roster []RosterEntry `json:"roster,omitempty"`
}

// RosterEntry is one robot's face markers.
type RosterEntry struct {
	Robot string  `json:"robot"`
	Faces FaceIDs `json:"faces"`
}

// Orchestrator states on orchestrator/status.
const (
	OrchOnline  = "online"
	OrchOffline = "offline"
)

// OrchestratorState is retained on orchestrator/status; its last will says
// offline. Robots stop when it is offline.
type OrchestratorState struct {
	Header
	State string `json:"state"`
	Epoch uint64 `json:"epoch,omitempty"`
}

// OrchestratorHeartbeat is published at QoS 0 on orchestrator/heartbeat
// every OrchestratorHeartbeatPeriod while the orchestrator's decision loop
// runs. A robot moves only while it hears it: after OrchestratorSilence
// without one it stops (failsafe), and it stays stopped until a fresh
// directive arrives.
type OrchestratorHeartbeat struct {
	Header
	Epoch uint64 `json:"epoch"`
}

// TruePose is the ground truth of one simulated robot.
type TruePose struct {
	Robot    string  `json:"robot"`
	XM       float64 `json:"x_m"`
	YM       float64 `json:"y_m"`
	ThetaRad float64 `json:"theta_rad"`
	SpeedMps float64 `json:"speed_mps"`
}

// World is the simulator's ground truth on sim/world, at 10 Hz.
type World struct {
	Header
	SimTimeS   float64    `json:"sim_time_s"`
	DiameterM  float64    `json:"diameter_m"`
	Collisions int        `json:"collisions"`
	Robots     []TruePose `json:"robots"`
}
