package sim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"collaborate/robot/hw"
	"collaborate/topics"
)

// Sender is the header sender of the world's truth messages.
const Sender = "sim"

// TruthPeriod is how often the ground truth is published on sim/world.
const TruthPeriod = 100 * time.Millisecond

// touchEps absorbs rounding: discs whose gap is at most this are in contact.
// Discs pushed apart end exactly touching, so a pair that keeps pushing stays
// in one contact.
const touchEps = 1e-9

// Pose is a position and heading in the arena frame.
type Pose struct {
	XM, YM   float64
	ThetaRad float64 // counter-clockwise from +x, within (-π, π]
}

// Marker is an arena marker: where it is and which way it faces.
type Marker struct {
	ID        int
	XM, YM    float64
	NormalRad float64 // direction it faces (towards the centre)

	nx, ny float64 // unit normal
}

// Contact is one collision between two robots: counted once, from the moment
// their discs first touch until they are apart for a whole step.
type Contact struct {
	A, B   string    // robot ids; A was added before B
	Start  time.Time // when they first touched, interpolated within the step
	End    time.Time // start of the first step they spent apart; zero while ongoing
	XM, YM float64   // the point where they touched
}

// WallContact is one contact of a robot with the arena's wall.
type WallContact struct {
	Robot  string
	Start  time.Time
	End    time.Time // zero while ongoing
	XM, YM float64   // the robot's centre when it reached the wall
}

// World is the simulated arena and its robots. Create it with New.
type World struct {
	stepMu sync.Mutex // serialises Step: hooks run between physics steps
	mu     sync.Mutex // guards everything below
	cfg    Config
	wallR  float64 // largest distance of a robot's centre from the arena's centre

	markers  []Marker
	markerAt map[int]int // arena marker id -> index in markers

	robots []*Robot
	byID   map[string]*Robot
	faceOf map[int]int // face marker id -> robot index

	elapsed  time.Duration
	contacts []Contact
	active   []pairContact // ongoing contacts, sorted by (a, b)
	walls    []WallContact
	hooks    []*hook
	truthSeq uint64

	// scratch, reused every step
	order   []int
	touches []pairTouch
	occ     []occluder
	// activeNext is the spare buffer settleContacts swaps with active.
	activeNext []pairContact
}

type pairContact struct{ a, b, idx int }

type pairTouch struct {
	a, b   int
	s      float64 // fraction of the step at which they first touch
	xm, ym float64
}

type hook struct {
	period, due time.Duration
	fn          func(time.Time)
}

// New builds an empty world from cfg; zero fields take DefaultConfig's values.
func New(cfg Config) (*World, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	w := &World{
		cfg:      cfg,
		wallR:    cfg.DiameterM/2 - cfg.RobotRadiusM,
		markerAt: map[int]int{},
		byID:     map[string]*Robot{},
		faceOf:   map[int]int{},
	}
	ids := cfg.markerIDs()
	R := cfg.DiameterM / 2
	for i, id := range ids {
		a := 2 * math.Pi * float64(i) / float64(len(ids))
		w.markerAt[id] = len(w.markers)
		w.markers = append(w.markers, Marker{ID: id, XM: R * math.Cos(a), YM: R * math.Sin(a), NormalRad: wrap(a + math.Pi), nx: -math.Cos(a), ny: -math.Sin(a)})
	}
	return w, nil
}

// Config returns the world's config with its defaults filled in.
func (w *World) Config() Config { return w.cfg }

// Markers returns the arena markers in placement order.
func (w *World) Markers() []Marker { return append([]Marker(nil), w.markers...) }

// MarkerPos returns where marker id is now: an arena marker, or a face marker
// on its robot's disc edge.
func (w *World) MarkerPos(id int) (x, y float64, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if i, ok := w.markerAt[id]; ok {
		return w.markers[i].XM, w.markers[i].YM, true
	}
	if k, ok := w.faceOf[id]; ok {
		r := w.robots[k]
		f := id - r.faces.Front
		a := r.th + faceAngle(f)
		return r.x + w.cfg.RobotRadiusM*math.Cos(a), r.y + w.cfg.RobotRadiusM*math.Sin(a), true
	}
	return 0, 0, false
}

// faceAngle is the direction of face f (0 front, 1 left, 2 back, 3 right)
// relative to the heading.
func faceAngle(f int) float64 { return float64(f) * math.Pi / 2 }

// DefaultStarts returns the default start poses of a fleet of n: the first at
// the centre facing marker angle 0, the others facing the centre on rings
// inside the wall (the outer ring StartMarginM from the wall), placed between
// arena markers where there are fewer robots on a ring than markers, so that
// the centre robot sees every marker.
func (w *World) DefaultStarts(n int) ([]Pose, error) {
	if n < 0 {
		return nil, fmt.Errorf("sim default starts: negative fleet size %d", n)
	}
	poses := make([]Pose, 0, n)
	if n == 0 {
		return poses, nil
	}
	poses = append(poses, Pose{})
	rr := w.cfg.RobotRadiusM
	spacing := 2.8 * rr // centre to centre on a ring and between rings
	ring := w.cfg.DiameterM/2 - w.cfg.StartMarginM
	if ring > w.wallR {
		ring = w.wallR
	}
	N := len(w.markers)
	for left := n - 1; left > 0; ring -= spacing {
		if ring < spacing {
			return nil, fmt.Errorf("sim default starts: %d robots of radius %v m do not fit an arena of diameter %v m", n, rr, w.cfg.DiameterM)
		}
		capacity := int(2 * math.Pi * ring / spacing)
		m := min(left, capacity)
		for j := 0; j < m; j++ {
			var a float64
			if m <= N {
				idx := j * N / m
				a = 2 * math.Pi * (float64(idx) + 0.5) / float64(N)
			} else {
				a = 2 * math.Pi * (float64(j) + 0.5) / float64(m)
			}
			x, y := ring*math.Cos(a), ring*math.Sin(a)
			poses = append(poses, Pose{XM: x, YM: y, ThetaRad: wrap(a + math.Pi)})
		}
		left -= m
	}
	return poses, nil
}

// AddRobots adds robots at their default starts, as if the world's robots
// and these made one fleet placed by DefaultStarts.
func (w *World) AddRobots(ids ...string) ([]*Robot, error) {
	have := len(w.Robots())
	poses, err := w.DefaultStarts(have + len(ids))
	if err != nil {
		return nil, err
	}
	out := make([]*Robot, 0, len(ids))
	for i, id := range ids {
		r, err := w.AddRobot(id, poses[have+i])
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// AddRobot adds a robot at pose p. The k-th robot added (from 0) carries face
// markers FaceBase+4k .. FaceBase+4k+3. It refuses a bad id, a pose outside
// the arena or overlapping another robot, and face ids that are arena ids.
func (w *World) AddRobot(id string, p Pose) (*Robot, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := topics.CheckRobotID(id); err != nil {
		return nil, fmt.Errorf("sim add robot: %w", err)
	}
	if w.byID[id] != nil {
		return nil, fmt.Errorf("sim add robot %s: id already in the world", id)
	}
	for _, v := range []float64{p.XM, p.YM, p.ThetaRad} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("sim add robot %s: pose %+v is not finite", id, p)
		}
	}
	if d := math.Hypot(p.XM, p.YM); d > w.wallR+touchEps {
		return nil, fmt.Errorf("sim add robot %s: centre %.3f m from the arena's centre, beyond %.3f m", id, d, w.wallR)
	}
	for _, o := range w.robots {
		if math.Hypot(o.x-p.XM, o.y-p.YM) <= 2*w.cfg.RobotRadiusM {
			return nil, fmt.Errorf("sim add robot %s: overlaps robot %s", id, o.id)
		}
	}
	k := len(w.robots)
	base := w.cfg.FaceBase + 4*k
	for f := 0; f < 4; f++ {
		if _, clash := w.markerAt[base+f]; clash {
			return nil, fmt.Errorf("sim add robot %s: face marker %d is also an arena marker", id, base+f)
		}
	}
	r := &Robot{
		w: w, id: id, k: k,
		x: p.XM, y: p.YM, th: wrap(p.ThetaRad),
		faces: topics.FaceIDs{Front: base, Left: base + 1, Back: base + 2, Right: base + 3},
		// A per-robot stream: a robot's noise does not depend on the order
		// in which robots read their cameras.
		rng: rand.New(rand.NewPCG(uint64(w.cfg.Seed), uint64(k)+1)),
	}
	for f := 0; f < 4; f++ {
		w.faceOf[base+f] = k
	}
	w.robots = append(w.robots, r)
	w.byID[id] = r
	w.updateWall(r) // a robot placed against the wall is in contact with it
	return r, nil
}

// Robots returns the robots in the order they were added.
func (w *World) Robots() []*Robot {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]*Robot(nil), w.robots...)
}

// Robot returns the robot called id, or nil.
func (w *World) Robot(id string) *Robot {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.byID[id]
}

// Now is the sim time: Config.Start plus the time stepped so far.
func (w *World) Now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now()
}

func (w *World) now() time.Time { return w.cfg.Start.Add(w.elapsed) }

// Elapsed is the sim time stepped so far.
func (w *World) Elapsed() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.elapsed
}

type clock struct{ w *World }

func (c clock) Now() time.Time { return c.w.Now() }

// Clock is the world's virtual clock, for the pilots it drives.
func (w *World) Clock() hw.Clock { return clock{w} }

// Every calls fn with the sim time at every multiple of period of sim time,
// from the next one on. Step splits itself at those instants, so hooks fire at
// exact times whatever dt it is given; hooks due at the same instant fire in
// the order they were registered. fn runs without the world's lock and must
// not call Step.
func (w *World) Every(period time.Duration, fn func(now time.Time)) error {
	if period <= 0 || fn == nil {
		return fmt.Errorf("sim every: need a positive period and a func, got %v", period)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hooks = append(w.hooks, &hook{period: period, due: (w.elapsed/period + 1) * period, fn: fn})
	return nil
}

// TruthEvery calls fn with a truth snapshot every period of sim time (use
// TruthPeriod for sim/world's 10 Hz).
func (w *World) TruthEvery(period time.Duration, fn func(topics.World)) error {
	if fn == nil {
		return errors.New("sim truth every: nil func")
	}
	return w.Every(period, func(time.Time) { fn(w.Truth()) })
}

// Truth is the ground truth for sim/world: true poses, the collision count and
// the sim time, each robot's speed being what it made good along its heading
// in the last physics step (zero against a wall, whatever its wheels do), stamped with the sim time and a sequence number of its own.
func (w *World) Truth() topics.World {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.truthSeq++
	m := topics.World{
		Header:     topics.Stamp(Sender, w.truthSeq, w.now()),
		SimTimeS:   w.elapsed.Seconds(),
		DiameterM:  w.cfg.DiameterM,
		Collisions: len(w.contacts),
		Robots:     make([]topics.TruePose, 0, len(w.robots)),
	}
	for _, r := range w.robots {
		m.Robots = append(m.Robots, topics.TruePose{Robot: r.id, XM: r.x, YM: r.y, ThetaRad: r.th, SpeedMps: r.ground})
	}
	return m
}

// Collisions returns every robot-robot contact so far, in the order they
// started.
func (w *World) Collisions() []Contact {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Contact(nil), w.contacts...)
}

// CollisionCount is len(Collisions()).
func (w *World) CollisionCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.contacts)
}

// WallContacts returns every contact of a robot with the wall so far.
func (w *World) WallContacts() []WallContact {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]WallContact(nil), w.walls...)
}

// Step advances the world by dt of sim time, in physics steps of at most
// Config.PhysicsDt, firing the hooks registered with Every at their instants.
// A dt of zero or less does nothing.
func (w *World) Step(dt time.Duration) {
	if dt <= 0 {
		return
	}
	w.stepMu.Lock()
	defer w.stepMu.Unlock()
	w.mu.Lock()
	end := w.elapsed + dt
	w.mu.Unlock()
	var due []*hook
	for {
		w.mu.Lock()
		if w.elapsed >= end {
			w.mu.Unlock()
			return
		}
		next := min(end, w.elapsed+w.cfg.PhysicsDt)
		for _, h := range w.hooks {
			next = min(next, h.due)
		}
		w.physics(next - w.elapsed)
		w.elapsed = next
		due = due[:0]
		for _, h := range w.hooks {
			if h.due <= w.elapsed {
				due = append(due, h)
				h.due += h.period
			}
		}
		now := w.now()
		w.mu.Unlock()
		for _, h := range due {
			h.fn(now)
		}
	}
}

// wrap returns a within (-π, π].
func wrap(a float64) float64 {
	if a > -math.Pi && a <= math.Pi {
		return a
	}
	a = math.Mod(a, 2*math.Pi)
	if a <= -math.Pi {
		a += 2 * math.Pi
	} else if a > math.Pi {
		a -= 2 * math.Pi
	}
	return a
}
