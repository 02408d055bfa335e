package world

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"collaborate/robot/sim"
	"collaborate/topics"
)

// Watchdog is how long a body keeps its last motor command without a new
// one, in wall time: the robot drive's own watchdog.
const Watchdog = 300 * time.Millisecond

// maxLine bounds one protocol line.
const maxLine = 1 << 20

// request is any line a client sends.
type request struct {
	Op    string          `json:"op"`
	Robot string          `json:"robot,omitempty"`
	Faces *topics.FaceIDs `json:"faces,omitempty"`
	Lin   float64         `json:"lin,omitempty"`
	Ang   float64         `json:"ang,omitempty"`
	ID    uint64          `json:"id,omitempty"`
	// Scene: a frame request that wants the world as it stands (to render
	// the camera's image itself) instead of the world's own detections.
	Scene bool `json:"scene,omitempty"`
}

// Arena is the static part of the world, sent once in the welcome.
type Arena struct {
	DiameterM    float64       `json:"diameter_m"`
	RobotRadiusM float64       `json:"robot_radius_m"`
	CameraAheadM float64       `json:"camera_ahead_m"` // the camera sits this far ahead of a robot's centre
	Markers      []ArenaMarker `json:"markers"`
}

// ArenaMarker is one marker on the wall.
type ArenaMarker struct {
	ID        int     `json:"id"`
	XM        float64 `json:"x_m"`
	YM        float64 `json:"y_m"`
	NormalRad float64 `json:"normal_rad"` // the way it faces (the centre)
}

// BodyState is one robot's true state in a scene.
type BodyState struct {
	Robot      string         `json:"robot"`
	XM         float64        `json:"x_m"`
	YM         float64        `json:"y_m"`
	ThetaRad   float64        `json:"theta_rad"`
	AngularRps float64        `json:"angular_rps"`
	Faces      topics.FaceIDs `json:"faces"`
}

// reply is any line the world sends.
type reply struct {
	Op     string          `json:"op"`
	Error  string          `json:"error,omitempty"`
	Robot  string          `json:"robot,omitempty"`
	Faces  *topics.FaceIDs `json:"faces,omitempty"`
	Scale  float64         `json:"scale,omitempty"`
	SimNS  int64           `json:"sim_ns,omitempty"`
	ID     uint64          `json:"id,omitempty"`
	Dets   []det           `json:"dets,omitempty"`
	WallNS int64           `json:"wall_ns,omitempty"`
	World  *topics.World   `json:"world,omitempty"`
	Arena  *Arena          `json:"arena,omitempty"`  // welcome
	Self   *BodyState      `json:"self,omitempty"`   // a scene frame: the asking robot
	Bodies []BodyState     `json:"bodies,omitempty"` // a scene frame: every robot
}

// det is one detection on the wire.
type det struct {
	ID int     `json:"id"`
	D  float64 `json:"d"` // camera distance, metres
	B  float64 `json:"b"` // bearing, radians, left positive
}

// Options configure a Server.
type Options struct {
	Scale    float64       // sim seconds per wall second; 0 means 1
	Watchdog time.Duration // 0 means Watchdog
	Log      zerolog.Logger
}

// Stats count what the server did.
type Stats struct {
	Sessions      uint64 // robot connections that claimed a body
	Frames        uint64 // camera frames served
	BadRequests   uint64 // lines that failed to parse or made no sense
	WatchdogHalts uint64 // bodies halted for want of a motor command
	TruthDropped  uint64 // truth lines an observer was too slow to take
}

// Server is the world served to robot processes and observers.
type Server struct {
	w *sim.World
	o Options

	mu       sync.Mutex
	owner    map[string]*conn     // robot id -> the connection driving it
	lastCmd  map[string]time.Time // robot id -> wall time of its last motor command
	watchers map[*conn]struct{}

	sessions, frames, bad, halts, dropped atomic.Uint64
	logged                                int // collisions logged, in the step goroutine
}

// NewServer serves w. It registers the truth hook on w, so call it once.
func NewServer(w *sim.World, o Options) (*Server, error) {
	if o.Scale == 0 {
		o.Scale = 1
	}
	if !(o.Scale > 0) || math.IsInf(o.Scale, 0) {
		return nil, fmt.Errorf("world: scale must be > 0, got %v", o.Scale)
	}
	if o.Watchdog <= 0 {
		o.Watchdog = Watchdog
	}
	s := &Server{w: w, o: o, owner: map[string]*conn{}, lastCmd: map[string]time.Time{}, watchers: map[*conn]struct{}{}}
	if err := w.TruthEvery(sim.TruthPeriod, s.truth); err != nil {
		return nil, err
	}
	return s, nil
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{Sessions: s.sessions.Load(), Frames: s.frames.Load(), BadRequests: s.bad.Load(),
		WatchdogHalts: s.halts.Load(), TruthDropped: s.dropped.Load()}
}

// Run steps the world in real time (scaled), serves ln, and halts bodies
// without a live robot or a recent command, until ctx ends. It closes ln.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	wg.Add(3)
	go func() {
		defer wg.Done()
		errc <- s.w.Run(ctx, sim.RunConfig{TimeScale: s.o.Scale})
	}()
	go func() { defer wg.Done(); s.watchdog(ctx) }()
	go func() {
		defer wg.Done()
		<-ctx.Done()
		_ = ln.Close()
		s.mu.Lock()
		for c := range s.watchers {
			_ = c.nc.Close() // serve's read fails, and drop closes out
		}
		for _, c := range s.owner {
			_ = c.nc.Close()
		}
		s.mu.Unlock()
	}()
	for {
		nc, err := ln.Accept()
		if err != nil {
			cancel()
			wg.Wait()
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return <-errc
			}
			return fmt.Errorf("world: accept: %w", err)
		}
		c := &conn{nc: nc, w: bufio.NewWriter(nc), out: make(chan []byte, 64)}
		go s.serve(c)
	}
}

// conn is one client connection.
type conn struct {
	nc    net.Conn
	wmu   sync.Mutex
	w     *bufio.Writer
	robot string      // the body it claimed, if any
	out   chan []byte // truth lines, for an observer
}

func (c *conn) send(r reply) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.w.Write(append(b, '\n')); err != nil {
		return err
	}
	return c.w.Flush()
}

func (s *Server) serve(c *conn) {
	defer s.drop(c)
	sc := bufio.NewScanner(c.nc)
	sc.Buffer(make([]byte, 4096), maxLine)
	for sc.Scan() {
		var rq request
		if err := json.Unmarshal(sc.Bytes(), &rq); err != nil {
			s.refuse(c, fmt.Sprintf("not a JSON request: %v", err))
			return
		}
		if err := s.handle(c, rq); err != nil {
			s.refuse(c, err.Error())
			return
		}
	}
}

func (s *Server) refuse(c *conn, why string) {
	s.bad.Add(1)
	s.o.Log.Warn().Str("remote", c.nc.RemoteAddr().String()).Str("robot", c.robot).Msg("world: " + why)
	_ = c.send(reply{Op: "error", Error: why})
}

func (s *Server) handle(c *conn, rq request) error {
	switch rq.Op {
	case "hello":
		return s.hello(c, rq)
	case "watch":
		if c.robot != "" {
			return errors.New("a robot connection cannot watch")
		}
		s.mu.Lock()
		s.watchers[c] = struct{}{}
		s.mu.Unlock()
		go s.feed(c)
		return nil
	case "drive", "halt", "frame":
		body, err := s.body(c)
		if err != nil {
			return err
		}
		switch rq.Op {
		case "drive":
			if err := body.Set(rq.Lin, rq.Ang); err != nil {
				return err
			}
			s.touch(c.robot)
		case "halt":
			_ = body.Halt()
			s.touch(c.robot)
		case "frame":
			s.frames.Add(1)
			if rq.Scene {
				r := reply{Op: "frame", ID: rq.ID, SimNS: s.w.Now().UnixNano()}
				for _, b := range s.w.Robots() {
					r.Bodies = append(r.Bodies, bodyOf(b))
					if b == body {
						self := r.Bodies[len(r.Bodies)-1]
						r.Self = &self
					}
				}
				return c.send(r)
			}
			dets, _ := body.Detect()
			r := reply{Op: "frame", ID: rq.ID, SimNS: s.w.Now().UnixNano(), Dets: make([]det, 0, len(dets))}
			for _, d := range dets {
				r.Dets = append(r.Dets, det{ID: d.MarkerID, D: d.DistanceM, B: d.BearingRad})
			}
			return c.send(r)
		}
		return nil
	}
	return fmt.Errorf("unknown op %q", rq.Op)
}

// hello gives a connection the body of its robot: the one the world has,
// else a new one at the next default start. A robot already driven by
// another connection is taken over (the old connection is closed): a robot
// process that restarts claims its body again.
func (s *Server) hello(c *conn, rq request) error {
	if c.robot != "" {
		return errors.New("hello twice")
	}
	if err := topics.CheckRobotID(rq.Robot); err != nil {
		return err
	}
	body := s.w.Robot(rq.Robot)
	if body == nil {
		bodies, err := s.w.AddRobots(rq.Robot)
		if err != nil {
			return err
		}
		body = bodies[0]
	}
	faces := body.FaceIDs()
	if f := rq.Faces; f != nil && *f != (topics.FaceIDs{}) && *f != faces {
		return fmt.Errorf("robot %s carries faces %d..%d in this world, the robot says %d..%d: set its face_base to %d",
			rq.Robot, faces.Front, faces.Right, f.Front, f.Right, faces.Front)
	}
	s.mu.Lock()
	old := s.owner[rq.Robot]
	s.owner[rq.Robot] = c
	s.lastCmd[rq.Robot] = time.Now()
	s.mu.Unlock()
	if old != nil {
		_ = old.nc.Close()
	}
	c.robot = rq.Robot
	s.sessions.Add(1)
	s.o.Log.Info().Str("robot", rq.Robot).Str("remote", c.nc.RemoteAddr().String()).Msg("world: robot connected")
	return c.send(reply{Op: "welcome", Robot: rq.Robot, Faces: &faces, Scale: s.o.Scale, SimNS: s.w.Now().UnixNano(),
		Arena: s.arena()})
}

// arena is the world's static description.
func (s *Server) arena() *Arena {
	cfg := s.w.Config()
	a := &Arena{DiameterM: cfg.DiameterM, RobotRadiusM: cfg.RobotRadiusM, CameraAheadM: cfg.Camera.OffsetM}
	for _, m := range s.w.Markers() {
		a.Markers = append(a.Markers, ArenaMarker{ID: m.ID, XM: m.XM, YM: m.YM, NormalRad: m.NormalRad})
	}
	return a
}

func bodyOf(r *sim.Robot) BodyState {
	p := r.Pose()
	_, ang := r.Speed()
	return BodyState{Robot: r.ID(), XM: p.XM, YM: p.YM, ThetaRad: p.ThetaRad, AngularRps: ang, Faces: r.FaceIDs()}
}

func (s *Server) body(c *conn) (*sim.Robot, error) {
	if c.robot == "" {
		return nil, errors.New("say hello first")
	}
	s.mu.Lock()
	live := s.owner[c.robot] == c
	s.mu.Unlock()
	if !live {
		return nil, fmt.Errorf("robot %s is driven by a newer connection", c.robot)
	}
	return s.w.Robot(c.robot), nil
}

func (s *Server) touch(id string) {
	s.mu.Lock()
	s.lastCmd[id] = time.Now()
	s.mu.Unlock()
}

// drop ends a connection: a robot's body halts.
func (s *Server) drop(c *conn) {
	_ = c.nc.Close()
	s.mu.Lock()
	if _, ok := s.watchers[c]; ok {
		delete(s.watchers, c)
		close(c.out) // under mu, as truth sends: feed ends
	}
	live := c.robot != "" && s.owner[c.robot] == c
	if live {
		delete(s.owner, c.robot)
	}
	s.mu.Unlock()
	if live {
		_ = s.w.Robot(c.robot).Halt()
		s.o.Log.Info().Str("robot", c.robot).Msg("world: robot disconnected, its body halted")
	}
}

// watchdog halts every body with no command for Watchdog, and every body
// no connection drives.
func (s *Server) watchdog(ctx context.Context) {
	t := time.NewTicker(s.o.Watchdog / 4)
	defer t.Stop()
	halted := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		for _, r := range s.w.Robots() {
			s.mu.Lock()
			_, driven := s.owner[r.ID()]
			stale := now.Sub(s.lastCmd[r.ID()]) > s.o.Watchdog
			s.mu.Unlock()
			if driven && !stale {
				halted[r.ID()] = false
				continue
			}
			if lin, ang := r.Target(); lin != 0 || ang != 0 {
				_ = r.Halt()
				if !halted[r.ID()] {
					s.halts.Add(1)
					halted[r.ID()] = true
				}
			}
		}
	}
}

// truth runs in the world's step goroutine every TruthPeriod: it logs new
// collisions, and hands one encoded line to every observer, dropping it for
// one too slow to take it.
func (s *Server) truth(t topics.World) {
	if t.Collisions > s.logged {
		for _, c := range s.w.Collisions()[s.logged:] {
			s.o.Log.Error().Str("a", c.A).Str("b", c.B).Float64("x_m", c.XM).Float64("y_m", c.YM).
				Time("sim", c.Start).Msg("world: collision")
		}
		s.logged = t.Collisions
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.watchers) == 0 {
		return
	}
	b, err := json.Marshal(reply{Op: "truth", WallNS: time.Now().UnixNano(), World: &t})
	if err != nil {
		return
	}
	b = append(b, '\n')
	for c := range s.watchers {
		select {
		case c.out <- b:
		default:
			s.dropped.Add(1)
		}
	}
}

// feed writes queued truth lines to an observer until it goes.
func (s *Server) feed(c *conn) {
	for b := range c.out {
		c.wmu.Lock()
		_ = c.nc.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_, err := c.w.Write(b)
		if err == nil {
			err = c.w.Flush()
		}
		c.wmu.Unlock()
		if err != nil {
			_ = c.nc.Close()
			return
		}
	}
}
