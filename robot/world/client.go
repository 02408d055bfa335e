package world

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"collaborate/robot/hw"
	"collaborate/topics"
)

// Body is a robot's body in a world served by a Server: its motors
// (hw.Drive), its camera (hw.Detector) and the world's clock (hw.Clock).
// A lost connection is dialled again on the next call; meanwhile calls fail
// (a camera frame lost, a motor command not given), as hardware that fails
// does. Its methods are safe for concurrent use, one call at a time.
type Body struct {
	addr    string
	id      string
	faces   topics.FaceIDs
	timeout time.Duration

	mu       sync.Mutex
	arena    Arena
	nc       net.Conn
	r        *bufio.Reader
	scale    float64
	simAt    time.Time // sim time last heard
	wallAt   time.Time // wall time it was heard
	nextID   uint64
	lastDial time.Time
}

var (
	_ hw.Detector = (*Body)(nil)
	_ hw.Drive    = (*Body)(nil)
	_ hw.Clock    = (*Body)(nil)
)

// DialOptions configure Dial.
type DialOptions struct {
	// Faces the robot says it carries; zero: whatever the world gives.
	Faces topics.FaceIDs
	// Timeout bounds every call, default 500 ms.
	Timeout time.Duration
	// Wait is how long Dial keeps trying to reach the world, default 10 s.
	Wait time.Duration
}

// Dial claims robot id's body in the world at addr.
func Dial(addr, id string, o DialOptions) (*Body, error) {
	if o.Timeout <= 0 {
		o.Timeout = 500 * time.Millisecond
	}
	if o.Wait <= 0 {
		o.Wait = 10 * time.Second
	}
	b := &Body{addr: addr, id: id, faces: o.Faces, timeout: o.Timeout}
	deadline := time.Now().Add(o.Wait)
	for {
		b.mu.Lock()
		err := b.connect()
		b.mu.Unlock()
		if err == nil {
			return b, nil
		}
		var refused *refusedError
		if errors.As(err, &refused) || time.Now().After(deadline) {
			return nil, fmt.Errorf("world %s: %w", addr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// refusedError is the world's answer to a hello it will not take.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return "refused: " + e.msg }

// connect dials and says hello; b.mu is held.
func (b *Body) connect() error {
	b.lastDial = time.Now()
	nc, err := net.DialTimeout("tcp", b.addr, b.timeout)
	if err != nil {
		return err
	}
	r := bufio.NewReader(nc)
	b.nc, b.r = nc, r
	var faces *topics.FaceIDs
	if b.faces != (topics.FaceIDs{}) {
		f := b.faces
		faces = &f
	}
	rep, err := b.call(request{Op: "hello", Robot: b.id, Faces: faces}, true)
	if err != nil {
		b.close()
		return err
	}
	if rep.Faces != nil {
		b.faces = *rep.Faces
	}
	if rep.Arena != nil {
		b.arena = *rep.Arena
	}
	b.scale = rep.Scale
	return nil
}

// Arena is the world's static part: its size, the markers on its wall.
func (b *Body) Arena() Arena {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.arena
}

// Scene is the world as it stands, for a camera that renders its own
// frames: this robot's true state, every robot's (this one included), and
// the sim time.
func (b *Body) Scene() (self BodyState, all []BodyState, at time.Time, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nextID++
	rep, err := b.call(request{Op: "frame", ID: b.nextID, Scene: true}, true)
	if err != nil {
		return BodyState{}, nil, time.Time{}, err
	}
	if rep.Op != "frame" || rep.ID != b.nextID || rep.Self == nil {
		b.close()
		return BodyState{}, nil, time.Time{}, fmt.Errorf("world: reply %q %d to scene %d", rep.Op, rep.ID, b.nextID)
	}
	return *rep.Self, rep.Bodies, time.Unix(0, rep.SimNS).UTC(), nil
}

func (b *Body) close() {
	if b.nc != nil {
		_ = b.nc.Close()
	}
	b.nc, b.r = nil, nil
}

// call sends one request and, when want, reads its reply; b.mu is held.
func (b *Body) call(rq request, want bool) (reply, error) {
	if b.nc == nil {
		if time.Since(b.lastDial) < b.timeout {
			return reply{}, errors.New("world: not connected")
		}
		if err := b.connect(); err != nil {
			return reply{}, fmt.Errorf("world: reconnect: %w", err)
		}
	}
	line, err := json.Marshal(rq)
	if err != nil {
		return reply{}, err
	}
	_ = b.nc.SetDeadline(time.Now().Add(b.timeout))
	if _, err := b.nc.Write(append(line, '\n')); err != nil {
		b.close()
		return reply{}, fmt.Errorf("world: %w", err)
	}
	if !want {
		return reply{}, nil
	}
	raw, err := b.r.ReadBytes('\n')
	if err != nil {
		b.close()
		return reply{}, fmt.Errorf("world: %w", err)
	}
	var rep reply
	if err := json.Unmarshal(raw, &rep); err != nil {
		b.close()
		return reply{}, fmt.Errorf("world: bad reply: %w", err)
	}
	if rep.Op == "error" {
		b.close()
		return reply{}, &refusedError{rep.Error}
	}
	if rep.SimNS != 0 {
		b.simAt, b.wallAt = time.Unix(0, rep.SimNS).UTC(), time.Now()
	}
	return rep, nil
}

// Faces are the face markers the world gave the body.
func (b *Body) Faces() topics.FaceIDs {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.faces
}

// Now is the world's clock: the sim time last heard plus the scaled wall
// time since.
func (b *Body) Now() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.simAt.Add(time.Duration(float64(time.Since(b.wallAt)) * b.scale))
}

// Scale is the world's sim seconds per wall second.
func (b *Body) Scale() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.scale
}

// Detect asks the world for a camera frame.
func (b *Body) Detect() ([]hw.Detection, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nextID++
	rep, err := b.call(request{Op: "frame", ID: b.nextID}, true)
	if err != nil {
		return nil, err
	}
	if rep.Op != "frame" || rep.ID != b.nextID {
		b.close()
		return nil, fmt.Errorf("world: reply %q %d to frame %d", rep.Op, rep.ID, b.nextID)
	}
	at := time.Unix(0, rep.SimNS).UTC()
	out := make([]hw.Detection, 0, len(rep.Dets))
	for _, d := range rep.Dets {
		out = append(out, hw.Detection{MarkerID: d.ID, DistanceM: d.D, BearingRad: d.B, At: at})
	}
	return out, nil
}

// Set commands the motors.
func (b *Body) Set(linearMps, angularRps float64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, err := b.call(request{Op: "drive", Lin: linearMps, Ang: angularRps}, false)
	return err
}

// Halt stops the motors. Without a connection the body halts anyway (the
// world halts a body whose robot is gone).
func (b *Body) Halt() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, err := b.call(request{Op: "halt"}, false)
	return err
}

// Close leaves the body (the world halts it).
func (b *Body) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.close()
	return nil
}
