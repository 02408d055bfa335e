package conform

import (
	"fmt"
	"math"
	"sync"
	"time"

	"collaborate/robot/sim"
	"collaborate/topics"
)

// connRec is one connection of the robot through the proxy.
type connRec struct {
	N          int
	Gen        int // robot process, from 1
	Opened     time.Time
	Closed     time.Time // zero while open
	Connect    *connectInfo
	ConnectAt  time.Time
	ConnectErr error
	Subs       []subRec
	Refused    []uint16 // packet ids of the SUBSCRIBEs whose SUBACK the kit refused
	Disconnect bool     // a DISCONNECT packet: the robot said goodbye
}

// subRec is one SUBSCRIBE.
type subRec struct {
	At      time.Time
	ID      uint16
	Filters []filter
}

// message is one robot publish, decoded by the contract's decoder.
type message struct {
	publish
	Kind topics.Kind
	Msg  topics.Message // nil when Err
	Err  error
}

// record is everything the robot did on the wire, in arrival order, and
// what the broker published on its status topic (its will included).
type record struct {
	id string

	mu      sync.Mutex
	gen     int
	conns   []*connRec
	msgs    []message
	notes   []string
	atBroke []brokerStatus
}

// brokerStatus is a robots/{id}/status message as the broker delivered it
// to the kit's own subscription: the robot's, or its will.
type brokerStatus struct {
	At     time.Time
	Status *topics.Status
	Err    error
}

func newRecord(id string) *record { return &record{id: id} }

func (r *record) setGen(g int) {
	r.mu.Lock()
	r.gen = g
	r.mu.Unlock()
}

func (r *record) opened(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.conns = append(r.conns, &connRec{N: n, Gen: r.gen, Opened: time.Now()})
}

func (r *record) conn(n int) *connRec {
	for _, c := range r.conns {
		if c.N == n {
			return c
		}
	}
	return nil
}

func (r *record) closed(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.conn(n); c != nil {
		c.Closed = time.Now()
	}
}

func (r *record) note(n int, s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, fmt.Sprintf("connection %d: %s", n, s))
}

func (r *record) refused(n int, _ time.Time, id uint16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.conn(n); c != nil {
		c.Refused = append(c.Refused, id)
	}
}

// fromRobot records one packet the robot sent.
func (r *record) fromRobot(n int, at time.Time, typ, flags byte, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.conn(n)
	if c == nil {
		return
	}
	switch typ {
	case pktConnect:
		ci, err := parseConnect(body)
		c.Connect, c.ConnectAt, c.ConnectErr = &ci, at, err
	case pktSubscribe:
		id, fs, err := parseSubscribe(body)
		if err != nil {
			r.notes = append(r.notes, fmt.Sprintf("connection %d: unreadable SUBSCRIBE: %v", n, err))
			return
		}
		c.Subs = append(c.Subs, subRec{At: at, ID: id, Filters: fs})
	case pktDisconnect:
		c.Disconnect = true
	case pktPublish:
		p, err := parsePublish(flags, body)
		p.At, p.Conn, p.Gen = at, n, c.Gen
		m := message{publish: p, Err: err}
		if err == nil {
			var t topics.Topic
			t, m.Msg, m.Err = topics.DecodeTopic(p.Topic, p.Payload)
			m.Kind = t.Kind
		}
		r.msgs = append(r.msgs, m)
	}
}

func (r *record) brokerSaw(at time.Time, payload []byte) {
	st, err := topics.DecodeStatus(payload)
	r.mu.Lock()
	r.atBroke = append(r.atBroke, brokerStatus{At: at, Status: st, Err: err})
	r.mu.Unlock()
}

// mark is a position in the message log: what arrives later is after it.
func (r *record) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// messages returns a copy of the log from mark on, of one kind ("" for all).
func (r *record) messages(from int, kind topics.Kind) []message {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []message
	for _, m := range r.msgs[min(from, len(r.msgs)):] {
		if kind == "" || m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

// connections returns copies of the connection records.
func (r *record) connections() []connRec {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]connRec, len(r.conns))
	for i, c := range r.conns {
		out[i] = *c
		out[i].Subs = append([]subRec(nil), c.Subs...)
		out[i].Refused = append([]uint16(nil), c.Refused...)
	}
	return out
}

func (r *record) brokerStatuses() []brokerStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]brokerStatus(nil), r.atBroke...)
}

// waitFor polls cond every 10 ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not synchronisation
	}
	return true
}

// waitMessage waits for a message of kind after mark that match accepts.
func (r *record) waitMessage(timeout time.Duration, from int, kind topics.Kind, match func(message) bool) (message, bool) {
	var got message
	ok := waitFor(timeout, func() bool {
		for _, m := range r.messages(from, kind) {
			if m.Msg != nil && match(m) {
				got = m
				return true
			}
		}
		return false
	})
	return got, ok
}

// event returns m's event, or nil.
func event(m message) *topics.Event {
	e, _ := m.Msg.(*topics.Event)
	return e
}

// sample is the robot's body in the world at one wall time: where it is,
// the wheel speeds it makes, and the motor command its robot gave.
type sample struct {
	At             time.Time
	X, Y, Th       float64
	Lin, Ang       float64 // true wheel speeds
	CmdLin, CmdAng float64 // the robot's motor command
}

// commanding reports whether the robot's motor command is not a halt.
func (s sample) commanding() bool { return s.CmdLin != 0 || s.CmdAng != 0 }

// truth samples the robot's body every 10 ms of wall time: the ground
// truth the motion checks judge.
type truth struct {
	w  *sim.World
	id string

	mu      sync.Mutex
	samples []sample
}

func (t *truth) run(done <-chan struct{}) {
	tk := time.NewTicker(10 * time.Millisecond)
	defer tk.Stop()
	for {
		select {
		case <-done:
			return
		case <-tk.C:
		}
		r := t.w.Robot(t.id)
		if r == nil {
			continue
		}
		p := r.Pose()
		lin, ang := r.Speed()
		cl, ca := r.Target()
		s := sample{At: time.Now(), X: p.XM, Y: p.YM, Th: p.ThetaRad, Lin: lin, Ang: ang, CmdLin: cl, CmdAng: ca}
		t.mu.Lock()
		t.samples = append(t.samples, s)
		t.mu.Unlock()
	}
}

func (t *truth) between(from, to time.Time) []sample {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []sample
	for _, s := range t.samples {
		if !s.At.Before(from) && !s.At.After(to) {
			out = append(out, s)
		}
	}
	return out
}

func (t *truth) latest() (sample, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.samples) == 0 {
		return sample{}, false
	}
	return t.samples[len(t.samples)-1], true
}

// at is the sample nearest to wall time at.
func (t *truth) at(at time.Time) (sample, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	best, ok := sample{}, false
	for _, s := range t.samples {
		if !ok || absDur(s.At.Sub(at)) < absDur(best.At.Sub(at)) {
			best, ok = s, true
		}
	}
	return best, ok
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// travel is the path length the body made between from and to.
func travel(ss []sample) float64 {
	d := 0.0
	for i := 1; i < len(ss); i++ {
		d += math.Hypot(ss[i].X-ss[i-1].X, ss[i].Y-ss[i-1].Y)
	}
	return d
}

// lastCommand is the wall time of the last sample with a motor command
// other than a halt, or zero.
func lastCommand(ss []sample) time.Time {
	for i := len(ss) - 1; i >= 0; i-- {
		if ss[i].commanding() {
			return ss[i].At
		}
	}
	return time.Time{}
}
