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
}

// HoldRecord is one finished hold, for the hold count and duration metrics.
type HoldRecord struct {
	Robot      string
	With       string
	Start, End time.Time
}

// Stats are the reservation planner's counters.
type Stats struct {
	Holds    int // holds issued
	Releases int // holds released
	Rejected int // robots rejected as bad input
	HeadOns  int // head-on reports resolved
	Stalls   int // legs reserved without the deadlock check after a stall
	// Summed over Plan calls: robots on a leg, and robots waiting for
	// their next leg because of another robot's leg, a robot standing in
	// the way, or the deadlock check. Divided by Calls, they say how many
	// robots drive and wait at a time, on average.
	Calls, Moving, WaitLeg, WaitStanding, WaitOrder int
	LastError                                       string
}
