package broker

import (
	"fmt"
	"sync"
	"testing"

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
	b := startBroker(t, Options{OnClientOnline: p.online, OnClientOffline: p.offline})
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
	eventually(t, "r1 online", func() bool { return p.list() == "[online r1]" })

	var d connDialer
	newer := connect(t, robot(&d))
	<-lost
	eventually(t, "the old connection to be gone on the broker", func() bool { return b.Info().ClientsConnected == 1 })
	eventually(t, "the new connection online and no offline", func() bool { return p.list() == "[online r1 online r1]" })
	if in.has(statusTopic, string(will)) {
		t.Errorf("the taken-over connection's will was published")
	}
	if got := in.last(statusTopic); got != string(online) {
		t.Errorf("retained status after takeover = %s, want %s", got, online)
	}

	// A real loss: the new connection drops without DISCONNECT.
	d.cut()
	eventually(t, "r1 reported offline", func() bool { return p.list() == "[online r1 online r1 offline r1]" })
	eventually(t, "the will to be published", func() bool { return in.last(statusTopic) == string(will) })
	_ = newer
}
