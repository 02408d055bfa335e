package broker

import (
	"errors"
	"net"
	"testing"
	"time"

	"collaborate/internal/testkit"
	"collaborate/topics"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// TestWebSocket: a paho client publishes over ws:// and subscribes to its
// commands.
func TestWebSocket(t *testing.T) {
	b := startBroker(t, Options{WSAddr: "127.0.0.1:0"})
	in := newInbox()
	topic := topics.Robot("r1", topics.KindPose)
	if err := b.Subscribe(topic, 1, in.add); err != nil {
		t.Fatal(err)
	}
	cmds := newInbox()
	o := pahoOpts(t, "ws://"+b.Addrs().WS+"/", "r1", "r1")
	o.SetOnConnectHandler(func(c paho.Client) { c.Subscribe(topics.Robot("r1", topics.KindCmd), 1, cmds.handler) })
	cl := connect(t, o)
	p := posePayload(t, "r1", 0.9)
	waitToken(t, "publish over ws", cl.Publish(topic, 1, false, p))
	testkit.Eventually(t, wait, "the pose sent over ws", func() bool { return in.has(topic, string(p)) })
	cmd := directivePayload(t, topics.DirHold)
	testkit.Eventually(t, wait, "the command received over ws", func() bool {
		if err := b.Publish(topics.Robot("r1", topics.KindCmd), cmd, true, 1); err != nil {
			t.Fatal(err)
		}
		return cmds.has(topics.Robot("r1", topics.KindCmd), string(cmd))
	})
}

// TestCloseWithStuckConnections: Close returns although connections are
// stuck before or inside their CONNECT (mochi's own Close would wait for
// them), and it closes them.
func TestCloseWithStuckConnections(t *testing.T) {
	b := startBroker(t, Options{})
	silent, err := net.Dial("tcp", b.Addrs().TCP)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	partial, err := net.Dial("tcp", b.Addrs().TCP)
	if err != nil {
		t.Fatal(err)
	}
	defer partial.Close()
	// The start of a CONNECT that announces 100 bytes and sends 4.
	if _, err := partial.Write([]byte{0x10, 100, 0, 4}); err != nil {
		t.Fatal(err)
	}
	// A connected client too, so that mochi has something to close.
	connect(t, pahoOpts(t, tcpURL(b.Addrs().TCP), "r1", "r1").SetAutoReconnect(false))
	testkit.Eventually(t, wait, "the stuck connections to be accepted", func() bool {
		b.conns.mu.Lock()
		defer b.conns.mu.Unlock()
		return len(b.conns.conns) == 3
	})

	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	for _, c := range []net.Conn{silent, partial} {
		_ = c.SetReadDeadline(time.Now().Add(wait))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
			t.Errorf("stuck connection still open after Close: read error %v", err)
		}
	}
}
