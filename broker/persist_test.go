package broker

import (
	"strings"
	"testing"

	"collaborate/internal/testkit"
	"collaborate/topics"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// TestRetainedSurvivesRestart: retained robots/r1/status is still there after
// a restart on the same state dir.
func TestRetainedSurvivesRestart(t *testing.T) {
	needMosquitto(t)
	dir := t.TempDir()
	addr := testkit.FreeAddr(t)
	b1 := startBroker(t, Options{TCPAddr: addr, StateDir: dir})
	status := statusPayload(t, "r1", topics.StateIdle)
	topic := topics.Robot("r1", topics.KindStatus)
	if out, err := mosqPub(t, addr, "r1", "r1", "-q", "1", "-r", "-t", topic, "-m", string(status)); err != nil {
		t.Fatalf("publish retained status: %v: %s", err, out)
	}
	testkit.Eventually(t, wait, "the status to be retained", func() bool { return b1.Info().Retained > 0 })
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}

	b2 := startBroker(t, Options{TCPAddr: addr, StateDir: dir})
	got := make(chan string, 1)
	if err := b2.Subscribe(topic, 1, func(_ string, p []byte) { got <- string(p) }); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p != string(status) {
			t.Errorf("retained status after restart = %s, want %s", p, status)
		}
	default:
		t.Fatal("no retained status after restart")
	}
	sub := mosqSub(t, addr, "watch", "watcher", topic)
	testkit.Eventually(t, wait, "mosquitto_sub to get the retained status", func() bool {
		return strings.Contains(sub.out.String(), string(status))
	})
}

// TestReconnectDuringOutage: a QoS 1 message that a robot publishes while
// the broker is down arrives, after the restart, at a subscriber with a
// persistent session.
func TestReconnectDuringOutage(t *testing.T) {
	dir := t.TempDir()
	addr := testkit.FreeAddr(t)
	b1 := startBroker(t, Options{TCPAddr: addr, StateDir: dir})
	filter := topics.RobotFilter(topics.KindCheckpoint)

	in := newInbox()
	so := pahoOpts(t, tcpURL(addr), "orch", "core")
	so.SetOnConnectHandler(func(c paho.Client) { c.Subscribe(filter, 1, in.handler) })
	// A resumed session delivers its queued messages right after CONNACK,
	// before OnConnect has subscribed again: the default handler gets them.
	so.SetDefaultPublishHandler(in.handler)
	subscriber := connect(t, so)

	robot := connect(t, pahoOpts(t, tcpURL(addr), "r1", "r1"))
	first := mustEncode(t, &topics.Checkpoint{Header: stamp("r1"), Epoch: 1, Marker: 3, Step: 0})
	topic := topics.Robot("r1", topics.KindCheckpoint)
	testkit.Eventually(t, wait, "the subscriber to get the first checkpoint", func() bool {
		waitToken(t, "publish first checkpoint", robot.Publish(topic, 1, false, first))
		return in.has(topic, string(first))
	})

	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, wait, "both clients to see the outage", func() bool {
		return !robot.IsConnectionOpen() && !subscriber.IsConnectionOpen()
	})
	during := mustEncode(t, &topics.Checkpoint{Header: stamp("r1"), Epoch: 1, Marker: 5, Step: 1, Final: true})
	tok := robot.Publish(topic, 1, false, during)

	startBroker(t, Options{TCPAddr: addr, StateDir: dir})
	waitToken(t, "publish during the outage", tok)
	testkit.Eventually(t, wait, "the checkpoint published during the outage", func() bool { return in.has(topic, string(during)) })
}

// TestQueuedMessageSurvivesRestart: a QoS 1 message queued for a
// disconnected persistent session is delivered after a broker restart (this
// needs the packet id that mochi's bolt hook forgets; see boltStore).
func TestQueuedMessageSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	addr := testkit.FreeAddr(t)
	b1 := startBroker(t, Options{TCPAddr: addr, StateDir: dir})
	filter := topics.RobotFilter(topics.KindCheckpoint)
	in := newInbox()
	newCore := func() *paho.ClientOptions {
		o := pahoOpts(t, tcpURL(addr), "orch", "core")
		o.SetOnConnectHandler(func(c paho.Client) { c.Subscribe(filter, 1, in.handler) })
		o.SetDefaultPublishHandler(in.handler)
		return o
	}
	core := connect(t, newCore())
	testkit.Eventually(t, wait, "core's subscription", func() bool { return b1.Info().Subscriptions >= 1 })
	core.Disconnect(100) // DISCONNECT: the persistent session stays

	robot := connect(t, pahoOpts(t, tcpURL(addr), "r1", "r1"))
	queued := mustEncode(t, &topics.Checkpoint{Header: stamp("r1"), Epoch: 2, Marker: 7, Step: 2})
	topic := topics.Robot("r1", topics.KindCheckpoint)
	waitToken(t, "publish while core is away", robot.Publish(topic, 1, false, queued))
	testkit.Eventually(t, wait, "the message to be queued for core", func() bool { return b1.Info().Inflight >= 1 })
	robot.Disconnect(100)
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}

	startBroker(t, Options{TCPAddr: addr, StateDir: dir})
	connect(t, newCore())
	testkit.Eventually(t, wait, "the queued checkpoint after the restart", func() bool { return in.has(topic, string(queued)) })
}
