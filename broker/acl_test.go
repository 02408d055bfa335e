package broker

import (
	"strings"
	"testing"

	"collaborate/internal/testkit"
	"collaborate/topics"
)

// TestSpoofing: r1's credentials cannot publish as r2 or publish commands,
// cannot read r2's commands, and what is refused reaches no subscriber.
func TestSpoofing(t *testing.T) {
	needMosquitto(t)
	b := startBroker(t, Options{})
	addr := b.Addrs().TCP
	watch := readySub(t, b, "watch", "watcher", "probe/watch", []byte("ready"), "#")

	cases := []struct {
		desc    string
		topic   string
		payload []byte
		reason  string // "" means delivered
	}{
		{"r1 publishes its own pose", topics.Robot("r1", topics.KindPose), posePayload(t, "r1", 0.11), ""},
		{"r1 publishes r2's pose", topics.Robot("r2", topics.KindPose), posePayload(t, "r2", 0.22), DropForeignTopic},
		{"r1 publishes its own cmd", topics.Robot("r1", topics.KindCmd), directivePayload(t, topics.DirStop), DropForeignTopic},
		{"r1 publishes fleet/cmd", topics.TopicFleetCmd, []byte(`{"kind":"stop"}`), DropForeignTopic},
		{"r1 publishes orchestrator/status", topics.TopicOrchestratorStatus, orchPayload(t, topics.OrchOffline), DropForeignTopic},
		{"r1 publishes its pose with sender r2", topics.Robot("r1", topics.KindPose), posePayload(t, "r2", 0.33), DropInvalidPayload},
		{"r1 publishes outside the contract", "some/where", []byte("x"), DropForeignTopic},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			before := b.Drops()[c.reason]
			for _, qos := range []string{"0", "1"} {
				out, err := mosqPub(t, addr, "r1", "r1", "-q", qos, "-t", c.topic, "-m", string(c.payload))
				if err != nil {
					t.Fatalf("mosquitto_pub qos %s: %v: %s (a refusal must be acked, not a disconnect)", qos, err, out)
				}
			}
			if c.reason == "" {
				testkit.Eventually(t, wait, "delivery of "+c.topic, func() bool { return watch.has(c.topic, string(c.payload)) })
				return
			}
			testkit.Eventually(t, wait, "two drops counted as "+c.reason, func() bool { return b.Drops()[c.reason] == before+2 })
			if !strings.Contains(b.logs.String(), c.topic) {
				t.Errorf("the drop on %s is not logged", c.topic)
			}
		})
	}

	t.Run("r1 subscribes to r2's cmd", func(t *testing.T) {
		r2cmd := topics.Robot("r2", topics.KindCmd)
		if err := b.Publish(r2cmd, directivePayload(t, topics.DirHold), true, 1); err != nil {
			t.Fatal(err)
		}
		before := b.Drops()[DropSubscribe]
		s := mosqSub(t, addr, "r1", "r1", r2cmd, topics.TopicOrchestratorStatus)
		testkit.Eventually(t, wait, "the refused subscription to be counted", func() bool { return b.Drops()[DropSubscribe] == before+1 })
		if err := b.Publish(r2cmd, directivePayload(t, topics.DirStop), false, 1); err != nil {
			t.Fatal(err)
		}
		// The probe follows the command on the same path: once it has
		// arrived, the command would have too.
		probe := orchPayload(t, topics.OrchOnline)
		testkit.Eventually(t, wait, "r1 to receive orchestrator/status", func() bool {
			if err := b.Publish(topics.TopicOrchestratorStatus, probe, false, 1); err != nil {
				t.Fatal(err)
			}
			return s.has(topics.TopicOrchestratorStatus, string(probe))
		})
		if s.has(r2cmd, "") {
			t.Errorf("r1 received r2's command: %q", s.out.String())
		}
	})

	// The peer view: r1 reads every robot's status and heartbeat, and
	// still not r2's directives.
	t.Run("r1 reads the peer view", func(t *testing.T) {
		before := b.Drops()[DropSubscribe]
		s := mosqSub(t, addr, "r1", "r1", "robots/+/status", "robots/+/heartbeat", "robots/+/cmd")
		testkit.Eventually(t, wait, "robots/+/cmd refused", func() bool { return b.Drops()[DropSubscribe] == before+1 })
		st := statusPayload(t, "r2", topics.StateMoving)
		r2cmd := topics.Robot("r2", topics.KindCmd)
		if err := b.Publish(r2cmd, directivePayload(t, topics.DirHold), false, 1); err != nil {
			t.Fatal(err)
		}
		testkit.Eventually(t, wait, "r1 to read r2's status", func() bool {
			if err := b.Publish(topics.Robot("r2", topics.KindStatus), st, false, 1); err != nil {
				t.Fatal(err)
			}
			return s.has(topics.Robot("r2", topics.KindStatus), string(st))
		})
		if s.has(r2cmd, "") {
			t.Errorf("r1 read r2's directives through the peer view")
		}
	})

	// Nothing refused reached the observer.
	for _, l := range watch.lines() {
		for _, c := range cases {
			if c.reason != "" && l == c.topic+" "+string(c.payload) {
				t.Errorf("refused message reached a subscriber: %q", l)
			}
		}
		for _, p := range []string{"robots/r2/pose", "robots/r1/cmd", "some/where", "fleet/cmd"} {
			if strings.HasPrefix(l, p+" ") {
				t.Errorf("refused message reached a subscriber: %q", l)
			}
		}
	}
}
