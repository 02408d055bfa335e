package link_test

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/listeners"

	"collaborate/internal/testkit"
	"collaborate/robot/link"
	"collaborate/topics"
)

func TestBrokerURLSchemes(t *testing.T) {
	ca := testkit.NewTLS(t)
	cert := ca.Certificate(t)
	for _, tc := range []struct {
		scheme string
		start  func(t *testing.T) *broker
		url    func(b *broker) string
		ca     string
	}{
		{"tcp", func(t *testing.T) *broker { return startBroker(t, "127.0.0.1:0") },
			func(b *broker) string { return "tcp://" + b.addr }, ""},
		{"tls", func(t *testing.T) *broker {
			return startBrokerOn(t, listeners.NewTCP(listeners.Config{ID: "tls", Address: "127.0.0.1:0",
				TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}))
		}, func(b *broker) string { return "tls://" + b.addr }, ca.CAFile},
		{"ws", func(t *testing.T) *broker {
			return startBrokerOn(t, listeners.NewWebsocket(listeners.Config{ID: "ws", Address: testkit.FreeAddr(t)}))
		}, func(b *broker) string { return "ws://" + b.addr }, ""},
	} {
		t.Run(tc.scheme, func(t *testing.T) {
			b := tc.start(t)
			l := dial(t, "", func(o *link.Options) { o.BrokerURL = tc.url(b); o.CAFile = tc.ca })
			testkit.Eventually(t, wait, "connected over "+tc.scheme, connected(l))
			if err := l.Publish(topics.KindEvents, &topics.Event{Header: l.Stamp(topics.KindEvents), Kind: topics.EventAck, Epoch: 1, CmdSeq: 2}); err != nil {
				t.Fatal(err)
			}
			testkit.Eventually(t, wait, "event at the broker", func() bool { return len(b.on("robots/r1/events")) == 1 })
			b.publish(t, topics.Robot("r1", topics.KindCmd), &topics.Directive{Header: orch(3), Epoch: 1, Kind: topics.DirStop})
			if in := receive(t, l); in.Directive == nil || in.Directive.Kind != topics.DirStop {
				t.Fatalf("inbound %+v, want the stop", in)
			}
		})
	}
}

// TestBrokerList: with a comma-separated list of brokers (a cluster's
// nodes), the link connects to the first that answers, and when that one
// dies it reconnects to another and carries on.
func TestBrokerList(t *testing.T) {
	dead := testkit.FreeAddr(t) // nothing listens there
	a, b := startBroker(t, "127.0.0.1:0"), startBroker(t, "127.0.0.1:0")
	l := dial(t, "", func(o *link.Options) {
		o.BrokerURL = "tcp://" + dead + ", tcp://" + a.addr + ",tcp://" + b.addr
		o.RetryInterval = 100 * time.Millisecond
	})
	send := func(n uint64) {
		t.Helper()
		if err := l.Publish(topics.KindEvents, &topics.Event{Header: l.Stamp(topics.KindEvents), Kind: topics.EventAck, Epoch: 1, CmdSeq: n}); err != nil {
			t.Fatal(err)
		}
	}
	testkit.Eventually(t, wait, "connected past the dead node", connected(l))
	send(1)
	testkit.Eventually(t, wait, "the event at the first live node", func() bool { return len(a.on("robots/r1/events")) == 1 })
	a.stop()
	testkit.Eventually(t, wait, "reconnected to the next node", func() bool { return l.Stats().Connects >= 2 && l.State().Connected })
	send(2)
	testkit.Eventually(t, wait, "the event at the next node", func() bool { return len(b.on("robots/r1/events")) >= 1 })
	for _, bad := range []string{"", " , ", "tcp://" + a.addr + ",http://x:1"} {
		if _, err := link.Dial(link.Options{BrokerURL: bad, RobotID: "r1"}); err == nil {
			t.Errorf("Dial with broker list %q succeeded", bad)
		}
	}
}
