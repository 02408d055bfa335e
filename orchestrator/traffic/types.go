package traffic

import "time"

// Point is a position in the arena frame, in metres.
type Point struct{ X, Y float64 }

// Robot is what the planner knows of one robot at one instant. The caller
// (the orchestrator core) builds it from the fleet registry and the map.
type Robot struct {
	ID         string
	Online     bool    // false: its last known Pos is a fixed obstacle
	Pos        Point   // best estimate of where it is now
	From, To   Point   // current segment: previous checkpoint (or start) -> target marker
	HasTarget  bool    // false: parked at Pos (idle, done, mapping): an obstacle
	RemainingM float64 // reported distance to To
	SpeedMps   float64 // cruise speed, for time windows
	Final      bool    // To is its final goal: it stays there once reached
	Holding    bool    // currently held by this planner
	// Next is the marker after To when To is not the final goal and the core
	// knows it. The planner then keeps waiting robots off the path the robot
	// takes next, so that nobody waits where it must pass.
	Next    Point
	HasNext bool

	// For the reservation planner (Reserver): the marker positions of the
	// whole route, the number of steps reached so far (Route[Step] is the
	// target), and whether the mission is done (Step == len(Route)).
	Route []Point
	Step  int
	Done  bool
	// Start is where the mission starts (the missions file's start), when
	// HasStart: the reservation planner takes it over Pos until the first
	// checkpoint, then the stop points it planned.
	Start    Point
	HasStart bool
	// Park is where the robot parks for its last step (beside its final
	// goal marker), when HasPark.
	Park    Point
	HasPark bool
}

// Order is a change the core turns into a directive: Hold true is a hold,
// Hold false the release of an earlier hold.
type Order struct {
	Robot  string
	Hold   bool
	With   string // the robot it yields to, or "" for a static obstacle
	At     Point  // conflict point
	Reason string
	// Blocked marks a hold that waiting alone will not clear: an offline,
	// idle or parked robot stands on the path, or robots sit on each other's
	// paths (gridlock). The core should re-route the robot or back one off.
	Blocked bool
	// BackoffM > 0 (with Hold) tells the robot to reverse this far along the
	// way it came, then hold: it stands on the path of With, which stands on
	// its own. The core sends it as a backoff directive.
	BackoffM float64
}

// HoldRecord is one finished hold, for the hold count and duration metrics.
type HoldRecord struct {
	Robot      string
	With       string
	Start, End time.Time
}
