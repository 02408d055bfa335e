package traffic

import "time"

// Point is a position in the arena frame, in metres.
type Point struct{ X, Y float64 }

// Robot is what the planner knows of one robot at one instant. The caller
// (the orchestrator core) builds it from the fleet registry and the map.
type Robot struct {
	ID     string
	Online bool  // false: it stands where it is, an obstacle, until it is back
	Pos    Point // best estimate of where it is now
	// From, To, RemainingM, HasTarget and Final describe the step it drives
	// now (previous checkpoint or start -> target marker, reported distance
	// to it), as the core sees it; the planner goes by Route and Step.
	From, To   Point
	HasTarget  bool
	RemainingM float64
	Final      bool
	SpeedMps   float64 // cruise speed from the missions file
	Holding    bool    // currently held by the planner
	// Stands: held by the core for something else than this planner (a
	// head-on, an operator's hold or stop, the fleet stop): it stands where
	// it is until the core frees it.
	Stands bool
	// Heading is where the robot faces (radians, arena frame), when
	// HasHeading: a back-off drives straight back from it.
	Heading    float64
	HasHeading bool

	// Route is the marker positions of the whole mission, Step the number
	// of steps reached so far (Route[Step] is the target), Done whether the
	// mission is over (Step == len(Route)).
	Route []Point
	Step  int
	Done  bool
	// Start is where the mission starts (the missions file's start), when
	// HasStart: the planner takes it over Pos until the first checkpoint,
	// then the stop points it planned.
	Start    Point
	HasStart bool
	// Park is where the robot parks for its last step (beside its final
	// goal marker), when HasPark.
	Park    Point
	HasPark bool
}

// Order is a change the core turns into a directive: Hold true is a hold,
// Hold false the release of an earlier hold. BackoffM, when above zero,
// asks the core to settle a jam as it settles a head-on, Robot backing off
// that far and With waiting (see jam.go): the core does so only when Robot
// may back off and its own head-on back-off is that distance, and then
// calls Yield(Robot, With) as for any head-on.
type Order struct {
	Robot    string
	Hold     bool
	BackoffM float64
	With     string // the robot it waits for, or "" when it waits its turn
	At       Point  // where the conflict is
	Reason   string
}

// HoldRecord is one finished hold, for the hold count and duration metrics.
type HoldRecord struct {
	Robot      string
	With       string
	Start, End time.Time
}

// Stats are the reservation planner's counters.
type Stats struct {
	Holds    int // holds issued: robots waiting for a leg or at a gate
	Releases int // holds released
	Rejected int // robots rejected as bad input, head-ons naming nobody
	HeadOns  int // head-on reports resolved
	// BackoffSwaps: head-ons where the robot that would have backed off
	// faced so that its back-off took it nearer the other's way, and the
	// other backed off instead.
	BackoffSwaps int
	Stalls       int // legs reserved without the deadlock check after a stall
	Ahead        int // legs reserved ahead of legs reserved earlier (not Queue)
	Yields       int // legs moved above the leg of a robot stopped for theirs (HeadOn)
	Jams         int // back-offs asked for to end a jam (every leg's robot held, none free to go)
	Unjams       int // jams ended: a robot's leg moved above every other after a back-off
	// Summed over Plan calls, and divided by Calls the mean number of
	// robots at a time: driving a reserved leg (Driving), held at a gate on
	// one (AtGate), and waiting for their next leg because of another
	// robot's leg (WaitLeg), a robot standing in the way (WaitStanding),
	// or the deadlock check (WaitOrder).
	Calls, Driving, AtGate, WaitLeg, WaitStanding, WaitOrder int
	LastError                                                string
}
