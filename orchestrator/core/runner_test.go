package core

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"collaborate/internal/testkit"
	"collaborate/orchestrator/store"
	"collaborate/topics"
)

func TestRunnerRunTicksUntilCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path)
	h := newHarness(t, Config{Missions: missionsFile(t, twoRobots)}, openStore(t, path))
	var clock atomic.Int64
	clock.Store(t0.UnixNano())
	var mu sync.Mutex
	var published []Out
	r := NewRunner(h.c, func(o Out) { mu.Lock(); published = append(published, o); mu.Unlock() },
		func() time.Time { return time.Unix(0, clock.Load()).UTC() })
	r.Announce()
	b, _ := topics.Encode(&topics.Status{Header: topics.Stamp("r1", 1, t0), State: topics.StateIdle})
	if err := r.Deliver(topics.Robot("r1", topics.KindStatus), b); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx, time.Millisecond, time.Millisecond); close(done) }()
	clock.Add(int64(10 * time.Second)) // r1 falls silent
	testkit.Eventually(t, 5*time.Second, "r1 offline by silence", func() bool { return r.Stats().OfflineBySilence == 1 })
	cancel()
	<-done
	r.Shutdown()
	mu.Lock()
	defer mu.Unlock()
	if len(published) < 4 || published[0].Topic != topics.TopicOrchestratorStatus {
		t.Fatalf("published %s", describe(published))
	}
	first := published[0].Payload.(*topics.OrchestratorState)
	last, ok := published[len(published)-1].Payload.(*topics.OrchestratorState)
	if first.State != topics.OrchOnline || !ok || last.State != topics.OrchOffline || !published[len(published)-1].Retain {
		t.Fatalf("orchestrator status %+v ... %+v", first, last)
	}
}

func TestRosterRepublished(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path)
	h := newHarness(t, Config{Missions: missionsFile(t, twoRobots)}, openStore(t, path))
	faces := &topics.FaceIDs{Front: 100, Left: 101, Back: 102, Right: 103}
	tests := []struct {
		name    string
		robot   string
		faces   *topics.FaceIDs
		wantMap bool
		roster  int
	}{
		{"new faces", "r1", faces, true, 1},
		{"same faces", "r1", faces, false, 1},
		{"no faces", "r2", nil, false, 1},
		{"second robot", "r2", &topics.FaceIDs{Front: 104, Left: 105, Back: 106, Right: 107}, true, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			outs := h.must(tc.robot, &topics.Status{State: topics.StateIdle, Faces: tc.faces})
			var got *topics.FleetMap
			for _, o := range outs {
				if m, ok := o.Payload.(*topics.FleetMap); ok {
					got = m
				}
			}
			if (got != nil) != tc.wantMap {
				t.Fatalf("map published: %v, want %v", got != nil, tc.wantMap)
			}
			if n := len(h.c.Map().Roster); n != tc.roster {
				t.Fatalf("roster of %d", n)
			}
		})
	}
	if m, _ := h.st.Map(); len(m.Roster) != 2 {
		t.Fatalf("stored roster %+v", m.Roster)
	}
}

// An operator command's directive goes out before its latch is written to
// disk (stopping a robot need not wait for it), and the command returns
// only once the latch is durable, or with an error that says it is not.
func TestRunnerPublishesBeforePersistingAndAnswersAfter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	withMap(t, path)
	h := newHarness(t, Config{Missions: missionsFile(t, twoRobots)}, openStore(t, path))
	var order []string
	h.st.onLatches = func(l store.Latches) { order = append(order, fmt.Sprintf("save stopped=%v", l.Stopped["r1"])) }
	r := NewRunner(h.c, func(o Out) {
		if d, ok := o.Payload.(*topics.Directive); ok {
			order = append(order, "publish "+d.Kind)
		}
	}, func() time.Time { return t0 })
	b, _ := topics.Encode(&topics.Status{Header: topics.Stamp("r1", 1, t0), State: topics.StateIdle})
	if err := r.Deliver(topics.Robot("r1", topics.KindStatus), b); err != nil {
		t.Fatal(err)
	}
	order = nil
	if err := r.Stop("r1"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"publish " + topics.DirStop, "save stopped=true"}; !slices.Equal(order, want) {
		t.Fatalf("stop: %q, want %q", order, want)
	}
	if l, err := h.st.Latches(); err != nil || !l.Stopped["r1"] {
		t.Fatalf("latches on disk once Stop returned: %+v, %v", l, err)
	}
	// A command whose latch cannot be saved is in force, and says it is
	// not durable.
	h.st.failLatches = true
	order = nil
	err := r.Hold("r2")
	if err == nil || !strings.Contains(err.Error(), "not saved") {
		t.Fatalf("hold with the disk full: %v, want an error saying the latch is not saved", err)
	}
	if len(order) == 0 || order[0] != "publish "+topics.DirHold {
		t.Fatalf("hold with the disk full: %q, want the hold published", order)
	}
	// The next command saves both.
	h.st.failLatches = false
	if err := r.Resume("r1"); err != nil {
		t.Fatal(err)
	}
	if l, _ := h.st.Latches(); l.Stopped["r1"] || !l.Held["r2"] {
		t.Fatalf("latches after the disk came back: %+v, want r2 held, r1 free", l)
	}
}
