package world_test

import (
	"context"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"collaborate/internal/testkit"
	"collaborate/robot/sim"
	"collaborate/robot/world"
	"collaborate/topics"
)

// wait bounds every wait for the world.
const wait = 10 * time.Second

// serve runs a world of n robots at scale on a loopback port.
func serve(t *testing.T, n int, scale float64) (*sim.World, *world.Server, string) {
	t.Helper()
	w, err := sim.New(sim.Config{Seed: 3, Start: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "r" + string(rune('1'+i))
	}
	if _, err := w.AddRobots(ids...); err != nil {
		t.Fatal(err)
	}
	s, err := world.NewServer(w, world.Options{Scale: scale})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("world run: %v", err)
		}
	})
	return w, s, ln.Addr().String()
}

// A robot process drives its body and sees through its camera; the body's
// clock follows the world's; an observer sees the truth.
func TestBodyDrivesAndSees(t *testing.T) {
	w, _, addr := serve(t, 2, 2)
	b, err := world.Dial(addr, "r1", world.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if f := b.Faces(); f != (topics.FaceIDs{Front: 100, Left: 101, Back: 102, Right: 103}) {
		t.Fatalf("faces %+v, want 100..103 for the first robot", f)
	}
	if d := b.Now().Sub(w.Now()); math.Abs(float64(d)) > float64(100*time.Millisecond) {
		t.Fatalf("body clock %v off the world's", d)
	}
	// r1 is at the centre facing marker 0, 1.5 m ahead.
	dets, err := b.Detect()
	if err != nil {
		t.Fatal(err)
	}
	var saw bool
	for _, d := range dets {
		if d.MarkerID == 0 && math.Abs(d.DistanceM-1.5) < 0.15 && math.Abs(d.BearingRad) < 0.1 {
			saw = true
		}
	}
	if !saw {
		t.Fatalf("detections %+v, want marker 0 about 1.5 m ahead", dets)
	}
	var mu sync.Mutex
	var last world.Truth
	go world.Watch(addr, func(tr world.Truth) bool {
		mu.Lock()
		last = tr
		mu.Unlock()
		return true
	})
	start := w.Robot("r1").Pose()
	drive := func() bool {
		if err := b.Set(0.2, 0); err != nil {
			t.Fatal(err)
		}
		p := w.Robot("r1").Pose()
		return p.XM-start.XM > 0.3
	}
	testkit.Eventually(t, wait, "r1 to drive 0.3 m", drive)
	if err := b.Halt(); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, wait, "r1 to stop", func() bool { v, _ := w.Robot("r1").Speed(); return v == 0 })
	testkit.Eventually(t, wait, "the truth to show r1 moved", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(last.World.Robots) == 2 && last.World.Robots[0].XM-start.XM > 0.3 && !last.Wall.IsZero()
	})
}

// A body without commands halts (the drive watchdog), and so does the body
// of a robot whose connection drops: it stands, an obstacle. The robot can
// come back and claim it; a second connection takes it over.
func TestWatchdogAndReclaim(t *testing.T) {
	w, s, addr := serve(t, 1, 1)
	b, err := world.Dial(addr, "r1", world.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Set(0.1, 0); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, wait, "the watchdog to halt a silent body", func() bool {
		v, _ := w.Robot("r1").Target()
		return v == 0 && s.Stats().WatchdogHalts == 1
	})
	b2, err := world.Dial(addr, "r1", world.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	if err := b2.Set(0.1, 0); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, wait, "the new connection to drive", func() bool { v, _ := w.Robot("r1").Target(); return v == 0.1 })
	// The old connection was taken over: its next call fails, then it
	// claims the body back.
	_, _ = b.Detect()
	time.Sleep(600 * time.Millisecond)
	if _, err := b.Detect(); err != nil {
		t.Fatalf("reclaim: %v", err)
	}
	b.Close()
	testkit.Eventually(t, wait, "the body to halt when its robot leaves", func() bool { v, _ := w.Robot("r1").Target(); return v == 0 })
}

// Bad requests get a clear error and the connection closes; the world
// goes on. A robot whose configured faces differ from its body's is told
// which face_base to set.
func TestBadRequests(t *testing.T) {
	_, s, addr := serve(t, 2, 1)
	_, err := world.Dial(addr, "r2", world.DialOptions{Faces: topics.FaceIDs{Front: 100, Left: 101, Back: 102, Right: 103}})
	if err == nil || !strings.Contains(err.Error(), "face_base to 104") {
		t.Fatalf("dial with the wrong faces: %v", err)
	}
	for _, line := range []string{"not json\n", `{"op":"frame"}` + "\n", `{"op":"fly"}` + "\n", `{"op":"hello","robot":"a/b"}` + "\n"} {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = nc.Write([]byte(line))
		buf := make([]byte, 512)
		_ = nc.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _ := nc.Read(buf)
		nc.Close()
		if !strings.Contains(string(buf[:n]), `"op":"error"`) {
			t.Errorf("%q: got %q, want an error reply", line, buf[:n])
		}
	}
	if got := s.Stats().BadRequests; got != 5 {
		t.Errorf("bad requests %d, want 5", got)
	}
	b, err := world.Dial(addr, "r2", world.DialOptions{})
	if err != nil {
		t.Fatalf("the world refused a good robot after bad ones: %v", err)
	}
	b.Close()
}
