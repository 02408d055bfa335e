package ingest_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"collaborate/broker"
	"collaborate/internal/testkit"
	"collaborate/orchestrator/ingest"
	"collaborate/topics"
)

// The real broker, past what the core can take: 20 robots flood poses as
// fast as paho sends them while a core that needs 2 ms a message takes them
// through the inbox, and the orchestrator sends each robot directives
// meanwhile. No robot is disconnected (the broker's read loops never wait
// for the core on a pose), every checkpoint and event reaches the core in
// order, every directive reaches its robot, and every pose not handled is
// counted as shed, superseded by a newer one.
func TestOverloadShedsPosesKeepsTheRest(t *testing.T) {
	const robots, poses, cps = 20, 300, 5
	creds := &broker.Credentials{}
	ids := make([]string, robots)
	for i := range ids {
		ids[i] = fmt.Sprintf("r%d", i+1)
		if err := creds.SetPassword(ids[i], broker.RoleRobot, []byte("pw-"+ids[i])); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	checkpoints := map[string][]int{}
	events := map[string]int{}
	var posesHandled atomic.Int64
	q := ingest.New(ingest.Options{Handle: func(it ingest.Item) error {
		time.Sleep(2 * time.Millisecond) // a core slower than its robots
		switch m := it.Msg.(type) {
		case *topics.Pose:
			posesHandled.Add(1)
		case *topics.Checkpoint:
			mu.Lock()
			checkpoints[it.Topic.Robot] = append(checkpoints[it.Topic.Robot], m.Step)
			mu.Unlock()
		case *topics.Event:
			mu.Lock()
			events[it.Topic.Robot]++
			mu.Unlock()
		}
		return nil
	}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go q.Run(ctx)
	b, err := broker.New(broker.Options{TCPAddr: "127.0.0.1:0", Credentials: creds,
		Accept: func(in broker.Inbound) error {
			return q.Put(ctx, ingest.Item{Topic: in.Topic, Msg: in.Msg, Payload: in.Payload})
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	var lost atomic.Int64
	directives := make([]atomic.Int64, robots)
	clients := make([]paho.Client, robots)
	for i, id := range ids {
		i := i
		o := paho.NewClientOptions().AddBroker("tcp://" + b.Addrs().TCP).SetClientID(id).SetUsername(id).
			SetPassword("pw-" + id).SetAutoReconnect(false).SetKeepAlive(2 * time.Second).SetPingTimeout(time.Second).
			SetOrderMatters(true).
			SetConnectionLostHandler(func(paho.Client, error) { lost.Add(1) })
		c := paho.NewClient(o)
		if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("connect %s: %v", id, tok.Error())
		}
		defer c.Disconnect(100)
		tok := c.Subscribe(topics.Robot(id, topics.KindCmd), 1, func(paho.Client, paho.Message) { directives[i].Add(1) })
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe %s: %v", id, tok.Error())
		}
		clients[i] = c
	}

	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func(c paho.Client, id string) {
			defer wg.Done()
			now := time.Now()
			for p := 1; p <= poses; p++ {
				d := float64(p)
				b, _ := topics.Encode(&topics.Pose{Header: topics.Stamp(id, uint64(p), now), State: topics.StateMoving, DistanceM: &d})
				c.Publish(topics.Robot(id, topics.KindPose), 0, false, b)
				if p%(poses/cps) == 0 {
					step := p/(poses/cps) - 1
					b, _ := topics.Encode(&topics.Checkpoint{Header: topics.Stamp(id, uint64(step+1), now), Epoch: 1, Marker: step, Step: step})
					c.Publish(topics.Robot(id, topics.KindCheckpoint), 1, false, b) // waited for below
					e, _ := topics.Encode(&topics.Event{Header: topics.Stamp(id, uint64(step+1), now), Kind: topics.EventYield})
					c.Publish(topics.Robot(id, topics.KindEvents), 1, false, e)
				}
			}
		}(clients[i], id)
	}
	for k := 1; k <= 10; k++ { // the orchestrator's directives, meanwhile
		for _, id := range ids {
			d, _ := topics.Encode(&topics.Directive{Header: topics.Stamp("orchestrator", uint64(k), time.Now()), Epoch: 1, Kind: topics.DirHold})
			if err := b.Publish(topics.Robot(id, topics.KindCmd), d, false, 1); err != nil {
				t.Fatal(err)
			}
		}
	}
	wg.Wait()
	testkit.Eventually(t, 60*time.Second, "every checkpoint, event and directive", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for i, id := range ids {
			if len(checkpoints[id]) != cps || events[id] != cps || directives[i].Load() != 10 {
				return false
			}
		}
		return true
	}, func() string { return fmt.Sprintf("checkpoints %v events %v", checkpoints, events) })
	testkit.Eventually(t, 30*time.Second, "the inbox to drain", func() bool { return q.Stats().Backlog == 0 })
	if n := lost.Load(); n != 0 {
		t.Errorf("%d robots disconnected under the flood", n)
	}
	for _, id := range ids {
		for step, got := range checkpoints[id] {
			if got != step {
				t.Errorf("%s checkpoints %v, want 0..%d in order", id, checkpoints[id], cps-1)
				break
			}
		}
	}
	st := q.Stats()
	handled, shed := posesHandled.Load(), int64(st.Shed[ingest.ShedPose])
	t.Logf("%d poses: %d handled, %d shed (superseded); max lag %v", robots*poses, handled, shed, st.MaxLag.Round(time.Millisecond))
	if shed == 0 {
		t.Errorf("no pose shed: the core kept up, the test proves nothing")
	}
	if handled+shed != robots*poses {
		t.Errorf("poses handled %d + shed %d != sent %d: some were lost silently", handled, shed, robots*poses)
	}
}
