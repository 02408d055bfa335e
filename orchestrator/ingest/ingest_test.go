package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"collaborate/internal/testkit"
	"collaborate/orchestrator/ingest"
	"collaborate/topics"
)

func item(robot string, k topics.Kind, seq uint64) ingest.Item {
	h := topics.Stamp(robot, seq, time.Now())
	var m topics.Message
	switch k {
	case topics.KindPose:
		m = &topics.Pose{Header: h, State: topics.StateMoving}
	case topics.KindHeartbeat:
		m = &topics.Heartbeat{Header: h, State: topics.StateMoving}
	case topics.KindSightings:
		m = &topics.Sightings{Header: h}
	case topics.KindCheckpoint:
		m = &topics.Checkpoint{Header: h}
	case topics.KindEvents:
		m = &topics.Event{Header: h, Kind: topics.EventAck}
	}
	return ingest.Item{Topic: topics.Topic{Robot: robot, Kind: k}, Msg: m}
}

func name(it ingest.Item) string {
	return fmt.Sprintf("%s/%s/%d", it.Topic.Robot, it.Topic.Kind, topics.HeaderOf(it.Msg).Seq)
}

// A core slower than the robots: while it works, newer poses and heartbeats
// supersede the waiting ones, the oldest sightings go past the backlog,
// and every checkpoint and event is handled, in order, each Put answered
// with the handler's own error.
func TestSlowCoreShedsTheLeastValuable(t *testing.T) {
	gate := make(chan struct{})
	var mu sync.Mutex
	var got []string
	var shed []string
	q := ingest.New(ingest.Options{
		SightingsBacklog: 2,
		Handle: func(it ingest.Item) error {
			<-gate
			mu.Lock()
			got = append(got, name(it))
			mu.Unlock()
			if it.Topic.Kind == topics.KindEvents {
				return errors.New("store full")
			}
			return nil
		},
		OnShed: func(r string) { mu.Lock(); shed = append(shed, r); mu.Unlock() },
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go q.Run(ctx)

	ctxT, cancelT := context.WithTimeout(ctx, 10*time.Second)
	defer cancelT()
	// The first item is taken at once and blocks the handler on the gate.
	if err := q.Put(ctxT, item("r1", topics.KindPose, 1)); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "a backlog of 0", func() bool { return q.Stats().Backlog == 0 },
		func() string { return fmt.Sprintf("stats %+v", q.Stats()) })
	for i, it := range []ingest.Item{
		item("r1", topics.KindPose, 2), // superseded by 4
		item("r2", topics.KindPose, 1),
		item("r1", topics.KindSightings, 1), // shed: backlog 2
		item("r1", topics.KindPose, 4),
		item("r1", topics.KindSightings, 2),
		item("r1", topics.KindHeartbeat, 1), // superseded by 2
		item("r1", topics.KindSightings, 3),
		item("r1", topics.KindHeartbeat, 2),
	} {
		if err := q.Put(ctxT, it); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	cp := make(chan error, 1)
	ev := make(chan error, 1)
	go func() { cp <- q.Put(ctxT, item("r1", topics.KindCheckpoint, 1)) }()
	testkit.Eventually(t, 10*time.Second, "a backlog of 9", func() bool { return q.Stats().Backlog == 9 },
		func() string { return fmt.Sprintf("stats %+v", q.Stats()) })
	go func() { ev <- q.Put(ctxT, item("r1", topics.KindEvents, 1)) }()
	testkit.Eventually(t, 10*time.Second, "a backlog of 10", func() bool { return q.Stats().Backlog == 10 },
		func() string { return fmt.Sprintf("stats %+v", q.Stats()) })
	select {
	case err := <-cp:
		t.Fatalf("a checkpoint's Put returned (%v) before the handler took it", err)
	default:
	}
	close(gate)
	if err := <-cp; err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	if err := <-ev; err == nil || err.Error() != "store full" {
		t.Fatalf("event: %v, want the handler's error", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"r1/pose/1", "r2/pose/1", "r1/pose/4", "r1/sightings/2", "r1/sightings/3", "r1/heartbeat/2", "r1/checkpoint/1", "r1/events/1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("handled %v\nwant    %v", got, want)
	}
	st := q.Stats()
	if st.Shed[ingest.ShedPose] != 1 || st.Shed[ingest.ShedHeartbeat] != 1 || st.Shed[ingest.ShedSightings] != 1 || len(shed) != 3 {
		t.Fatalf("shed %v (callbacks %v), want one of each", st.Shed, shed)
	}
	if st.Handled != uint64(len(want)) || st.Backlog != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// Put never blocks on the core for a QoS 0 kind; once Run ends, Put says
// so and a waiting QoS 1 Put is answered.
func TestClosed(t *testing.T) {
	block := make(chan struct{})
	q := ingest.New(ingest.Options{Handle: func(ingest.Item) error { <-block; return nil }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	for i := 0; i < 1000; i++ {
		if err := q.Put(context.Background(), item(fmt.Sprintf("r%d", i%50), topics.KindPose, uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
	cp := make(chan error, 1)
	go func() { cp <- q.Put(context.Background(), item("r1", topics.KindCheckpoint, 1)) }()
	testkit.Eventually(t, 10*time.Second, "a backlog of 50 or more", func() bool { return q.Stats().Backlog >= 50 },
		func() string { return fmt.Sprintf("stats %+v", q.Stats()) })
	cancel()
	close(block)
	<-done
	if err := <-cp; !errors.Is(err, ingest.ErrClosed) {
		t.Fatalf("waiting checkpoint: %v, want ErrClosed", err)
	}
	if err := q.Put(context.Background(), item("r1", topics.KindPose, 9999)); !errors.Is(err, ingest.ErrClosed) {
		t.Fatalf("put after close: %v", err)
	}
}
