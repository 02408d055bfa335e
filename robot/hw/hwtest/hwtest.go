package hwtest

import (
	"sync"
	"time"

	"collaborate/robot/hw"
)

var (
	_ hw.Detector = (*Detector)(nil)
	_ hw.Drive    = (*Drive)(nil)
	_ hw.Clock    = (*Clock)(nil)
)

// Detector plays back scripted frames, one per Detect call. When the script
// is exhausted it returns empty frames (the camera sees nothing).
type Detector struct {
	mu     sync.Mutex
	frames [][]hw.Detection
	err    error
	calls  int
}

// Queue appends frames to the script.
func (d *Detector) Queue(frames ...[]hw.Detection) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.frames = append(d.frames, frames...)
}

// Fail makes every later Detect return err (nil to stop failing).
func (d *Detector) Fail(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.err = err
}

// Detect returns the next scripted frame.
func (d *Detector) Detect() ([]hw.Detection, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	if d.err != nil {
		return nil, d.err
	}
	if len(d.frames) == 0 {
		return []hw.Detection{}, nil
	}
	f := d.frames[0]
	d.frames = d.frames[1:]
	return f, nil
}

// Calls is how many times Detect was called.
func (d *Detector) Calls() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls
}

// Drive records the commands it gets.
type Drive struct {
	mu      sync.Mutex
	linear  float64
	angular float64
	halted  bool
	sets    int
	halts   int
	err     error
}

// Command is a Drive's last command.
type Command struct {
	LinearMps  float64
	AngularRps float64
	Halted     bool // the last call was Halt, or no call was made yet
}

// Set records a speed command.
func (d *Drive) Set(linearMps, angularRps float64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	d.linear, d.angular, d.halted = linearMps, angularRps, false
	d.sets++
	return nil
}

// Halt records a halt. It never fails: a halt must always take effect.
func (d *Drive) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.linear, d.angular, d.halted = 0, 0, true
	d.halts++
	return nil
}

// Fail makes every later Set return err (nil to stop failing).
func (d *Drive) Fail(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.err = err
}

// Last returns the last command. A Drive that was never commanded is halted.
func (d *Drive) Last() Command {
	d.mu.Lock()
	defer d.mu.Unlock()
	return Command{LinearMps: d.linear, AngularRps: d.angular, Halted: d.halted || d.sets == 0}
}

// Sets is how many Set calls succeeded.
func (d *Drive) Sets() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sets
}

// Halts is how many times Halt was called.
func (d *Drive) Halts() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.halts
}

// Clock is a clock that moves only when told to.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
