package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"collaborate/broker"
	"collaborate/internal/testkit"
	"collaborate/topics"
)

// robotTraffic is what the test, playing the orchestrator, saw of r1.
type robotTraffic struct {
	mu          sync.Mutex
	statuses    []topics.Status
	poses       []topics.Pose
	checkpoints []topics.Checkpoint
	invalid     []string
}

func (rt *robotTraffic) handle(topic string, p []byte) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	tp, msg, err := topics.DecodeTopic(topic, p)
	if err != nil {
		rt.invalid = append(rt.invalid, topic+": "+err.Error())
		return
	}
	switch tp.Kind {
	case topics.KindStatus:
		rt.statuses = append(rt.statuses, *msg.(*topics.Status))
	case topics.KindPose:
		rt.poses = append(rt.poses, *msg.(*topics.Pose))
	case topics.KindCheckpoint:
		rt.checkpoints = append(rt.checkpoints, *msg.(*topics.Checkpoint))
	}
}

func (rt *robotTraffic) counts() (statuses, moving, checkpoints int) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for _, p := range rt.poses {
		if p.State == topics.StateMoving && p.SpeedMps > 0 {
			moving++
		}
	}
	return len(rt.statuses), moving, len(rt.checkpoints)
}

// retained returns the retained message on topic, if any: a fresh
// in-process subscription gets it during Subscribe.
func retained(t *testing.T, b *broker.Broker, topic string) ([]byte, bool) {
	t.Helper()
	var got atomic.Pointer[[]byte]
	const id = 99
	if err := b.Subscribe(topic, id, func(_ string, p []byte) {
		c := append([]byte(nil), p...)
		got.CompareAndSwap(nil, &c)
	}); err != nil {
		t.Fatal(err)
	}
	if err := b.Unsubscribe(topic, id); err != nil {
		t.Fatal(err)
	}
	if p := got.Load(); p != nil {
		return *p, true
	}
	return nil, false
}

func retainedStatus(t *testing.T, b *broker.Broker) *topics.Status {
	t.Helper()
	p, ok := retained(t, b, topics.Robot("r1", topics.KindStatus))
	if !ok {
		return nil
	}
	st, err := topics.DecodeStatus(p)
	if err != nil {
		t.Fatalf("retained status: %v", err)
	}
	return st
}

// TestRunSimRobot runs the robot binary's run() in-process with --hw sim
// against the embedded broker: it publishes a retained status and poses,
// obeys a route directive up to its first checkpoint, and on cancel returns
// with its status offline (retained) and its motors halted.
func TestRunSimRobot(t *testing.T) {
	creds := &broker.Credentials{}
	for _, u := range []struct {
		name string
		role broker.Role
	}{{"orch", broker.RoleOrchestrator}, {"r1", broker.RoleRobot}} {
		if err := creds.SetPassword(u.name, u.role, []byte(u.name+"-secret")); err != nil {
			t.Fatal(err)
		}
	}
	b, err := broker.New(broker.Options{TCPAddr: "127.0.0.1:0", StateDir: t.TempDir(), Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	rt := &robotTraffic{}
	if err := b.Subscribe("robots/r1/+", 1, rt.handle); err != nil {
		t.Fatal(err)
	}
	var seq uint64
	publish := func(topic string, m topics.Message) {
		t.Helper()
		tp, err := topics.Parse(topic)
		if err != nil {
			t.Fatal(err)
		}
		p, err := topics.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		pol := topics.PolicyOf(tp.Kind)
		if err := b.Publish(topic, p, pol.Retained, pol.QoS); err != nil {
			t.Fatal(err)
		}
	}
	stamp := func() topics.Header { seq++; return topics.Stamp("orchestrator", seq, time.Now()) }
	publish(topics.TopicOrchestratorStatus, &topics.OrchestratorState{Header: stamp(), State: topics.OrchOnline, Epoch: 1})
	beatDone, beatStopped := make(chan struct{}), make(chan struct{})
	go func() { // the orchestrator's heartbeat
		defer close(beatStopped)
		tk := time.NewTicker(topics.OrchestratorHeartbeatPeriod)
		defer tk.Stop()
		for seq := uint64(1); ; seq++ {
			p, _ := topics.Encode(&topics.OrchestratorHeartbeat{Header: topics.Stamp("orchestrator", seq, time.Now()), Epoch: 1})
			_ = b.Publish(topics.TopicOrchestratorHeartbeat, p, false, 0)
			select {
			case <-beatDone:
				return
			case <-tk.C:
			}
		}
	}()
	t.Cleanup(func() { close(beatDone); <-beatStopped })

	dir := t.TempDir()
	pwFile := filepath.Join(dir, "r1.password")
	if err := os.WriteFile(pwFile, []byte("r1-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr := &testkit.Buffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("robot log:\n%s", stderr.String())
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--hw", "sim", "--id", "r1", "--broker", "tcp://" + b.Addrs().TCP,
			"--password-file", pwFile, "--face-base", "100", "--store-dir", filepath.Join(dir, "outbox"),
			"--log-format", "json"}, io.Discard, stderr)
	}()

	testkit.Eventually(t, 15*time.Second, "a retained online status", func() bool {
		st := retainedStatus(t, b)
		return st != nil && st.State == topics.StateOnline && st.Faces != nil && st.Faces.Front == 100
	})
	testkit.Eventually(t, 10*time.Second, "a pose", func() bool {
		rt.mu.Lock()
		defer rt.mu.Unlock()
		return len(rt.poses) > 0
	})

	// The sim robot starts alone at the centre facing marker 0 (1.5 m ahead).
	// Marker 6 is behind it: after the checkpoint it turns and drives on.
	route := []int{0, 6}
	publish(topics.Robot("r1", topics.KindCmd), &topics.Directive{Header: stamp(), Epoch: 1, Kind: topics.DirRoute,
		Route: route, Released: len(route)})
	testkit.Eventually(t, 30*time.Second, "the first checkpoint", func() bool {
		_, _, n := rt.counts()
		return n >= 1
	})
	rt.mu.Lock()
	first := rt.checkpoints[0]
	rt.mu.Unlock()
	if first.Sender != "r1" || first.Epoch != 1 || first.Marker != 0 || first.Step != 0 || first.Final {
		t.Errorf("first checkpoint %+v, want r1 epoch 1 marker 0 step 0 not final", first)
	}
	if _, moving, _ := rt.counts(); moving == 0 {
		t.Error("no pose said moving with a positive speed on the way to marker 0")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after cancel, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	st := retainedStatus(t, b)
	if st == nil || st.State != topics.StateOffline {
		t.Errorf("retained status after run returned: %+v, want offline", st)
	}
	if !strings.Contains(stderr.String(), "motors halted") {
		t.Error("run returned without logging that the motors were halted")
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if len(rt.invalid) > 0 {
		t.Errorf("invalid messages from the robot: %v", rt.invalid)
	}
}
