package broker

import (
	"fmt"
	"sync"
	"testing"

	"collaborate/internal/testkit"
	"collaborate/topics"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// presence records the online/offline callbacks.
type presence struct {
	mu     sync.Mutex
	events []string
}

func (p *presence) online(id string)  { p.add("online " + id) }
func (p *presence) offline(id string) { p.add("offline " + id) }
func (p *presence) add(e string) {
	p.mu.Lock()
	p.events = append(p.events, e)
	p.mu.Unlock()
}

func (p *presence) list() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprint(p.events)
}

// TestTakeover: a robot that reconnects while its old connection is still
// open is not reported offline, and the old connection's will does not
// overwrite its retained status; a real loss still is, and still does.
func TestTakeover(t *testing.T) {
	var p presence
	var acc accepted
	b := startBroker(t, Options{OnClientOnline: p.online, OnClientOffline: p.offline, Accept: acc.add})
	statusTopic := topics.Robot("r1", topics.KindStatus)
	will := statusPayload(t, "r1", topics.StateOffline)
	robot := func(d *connDialer) *paho.ClientOptions {
		o := pahoOpts(t, tcpURL(b.Addrs().TCP), "r1", "r1").SetAutoReconnect(false).SetConnectRetry(false).
			SetBinaryWill(statusTopic, will, 1, true)
		if d != nil {
			o.SetCustomOpenConnectionFn(d.open)
		}
		return o
	}
	in := newInbox()
	if err := b.Subscribe(statusTopic, 1, in.add); err != nil {
		t.Fatal(err)
	}

	lost := make(chan struct{})
	oldOpts := robot(nil).SetConnectionLostHandler(func(paho.Client, error) { close(lost) })
	old := connect(t, oldOpts)
	online := statusPayload(t, "r1", topics.StateOnline)
	waitToken(t, "old publishes online", old.Publish(statusTopic, 1, true, online))
	testkit.Eventually(t, wait, "r1 online", func() bool { return p.list() == "[online r1]" })

	var d connDialer
	newer := connect(t, robot(&d))
	<-lost
	testkit.Eventually(t, wait, "the old connection to be gone on the broker", func() bool { return b.Info().ClientsConnected == 1 })
	testkit.Eventually(t, wait, "the new connection online and no offline", func() bool { return p.list() == "[online r1 online r1]" })
	if in.has(statusTopic, string(will)) {
		t.Errorf("the taken-over connection's will was published")
	}
	if got := in.last(statusTopic); got != string(online) {
		t.Errorf("retained status after takeover = %s, want %s", got, online)
	}
	if n := acc.count(statusTopic, will); n != 0 {
		t.Errorf("the orchestrator was handed %d wills of the taken-over connection", n)
	}

	// A real loss: the new connection drops without DISCONNECT.
	d.cut()
	testkit.Eventually(t, wait, "r1 reported offline", func() bool { return p.list() == "[online r1 online r1 offline r1]" })
	testkit.Eventually(t, wait, "the will to be published", func() bool { return in.last(statusTopic) == string(will) })
	// The orchestrator hears the will as it hears any publish of the robot.
	testkit.Eventually(t, wait, "the will handed to the orchestrator", func() bool { return acc.count(statusTopic, will) == 1 })
	_ = newer
}

// accepted records what the broker hands to Options.Accept.
type accepted struct {
	mu   sync.Mutex
	msgs []string
}

func (a *accepted) add(in Inbound) error {
	a.mu.Lock()
	a.msgs = append(a.msgs, in.Topic.String()+" "+string(in.Payload))
	a.mu.Unlock()
	return nil
}

func (a *accepted) count(topic string, payload []byte) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, m := range a.msgs {
		if m == topic+" "+string(payload) {
			n++
		}
	}
	return n
}

// TestRobotWillMustSayOffline: a robot's will that is not its own status
// with state offline is stripped at CONNECT (counted, logged), so that its
// death publishes nothing; a proper will still fires.
func TestRobotWillMustSayOffline(t *testing.T) {
	var acc accepted
	b := startBroker(t, Options{Accept: acc.add})
	in := newInbox()
	if err := b.Subscribe("robots/#", 1, in.add); err != nil {
		t.Fatal(err)
	}
	statusTopic := topics.Robot("r1", topics.KindStatus)
	for _, c := range []struct {
		desc, topic string
		payload     []byte
	}{
		{"a status that says moving", statusTopic, statusPayload(t, "r1", topics.StateMoving)},
		{"an offline status on the pose topic", topics.Robot("r1", topics.KindPose), statusPayload(t, "r1", topics.StateOffline)},
	} {
		t.Run(c.desc, func(t *testing.T) {
			before := b.Drops()[DropWillRefused]
			var d connDialer
			o := pahoOpts(t, tcpURL(b.Addrs().TCP), "r1", "r1").SetAutoReconnect(false).SetConnectRetry(false).
				SetBinaryWill(c.topic, c.payload, 1, true).SetCustomOpenConnectionFn(d.open)
			connect(t, o)
			if got := b.Drops()[DropWillRefused]; got != before+1 {
				t.Fatalf("will_refused drops = %d, want %d", got, before+1)
			}
			d.cut()
			testkit.Eventually(t, wait, "r1 gone", func() bool { return b.Info().ClientsConnected == 0 })
			if in.has(c.topic, string(c.payload)) || acc.count(c.topic, c.payload) != 0 {
				t.Fatalf("the stripped will was published")
			}
		})
	}
}
