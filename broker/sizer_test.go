package broker

import (
	"bytes"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
)

// A robot's client gets a robot's queue and a watcher's a watcher's, over
// real connections (paho for the robot, mosquitto_sub for the watcher).
func TestQueueSizedByRole(t *testing.T) {
	needMosquitto(t)
	b := startBroker(t, Options{})
	connect(t, pahoOpts(t, tcpURL(b.Addrs().TCP), "r1", "r1"))
	readySub(t, b, "watch", "watcher", "probe/sized", []byte("ready"), "#")
	if robots, watchers := b.Sized(); robots != 1 || watchers != 1 {
		t.Fatalf("sized %d robots and %d watchers, want 1 and 1", robots, watchers)
	}
}

func TestConnectUser(t *testing.T) {
	for _, c := range []struct {
		desc string
		pk   packets.Packet
		want string
	}{
		{"3.1.1 with a will", packets.Packet{ProtocolVersion: 4, Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"),
			ClientIdentifier: "r1", WillFlag: true, WillTopic: "robots/r1/status", WillPayload: []byte("{}"),
			UsernameFlag: true, Username: []byte("r1"), PasswordFlag: true, Password: []byte("pw")}}, "r1"},
		{"5 with properties", packets.Packet{ProtocolVersion: 5, Properties: packets.Properties{SessionExpiryInterval: 60, SessionExpiryIntervalFlag: true},
			Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: "w", WillFlag: true, WillTopic: "x",
				WillPayload: []byte("y"), WillProperties: packets.Properties{ContentType: "text"}, UsernameFlag: true, Username: []byte("watch")}}, "watch"},
		{"anonymous", packets.Packet{ProtocolVersion: 4, Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: "a"}}, ""},
	} {
		t.Run(c.desc, func(t *testing.T) {
			c.pk.FixedHeader.Type = packets.Connect
			var buf bytes.Buffer
			if err := c.pk.ConnectEncode(&buf); err != nil {
				t.Fatal(err)
			}
			f := newFramer(bytes.NewReader(buf.Bytes()), 1024)
			got, err := f.peekConnect()
			if err != nil || got != c.want {
				t.Fatalf("user %q, %v; want %q", got, err, c.want)
			}
			if !bytes.Equal(f.out, buf.Bytes()) {
				t.Fatalf("the CONNECT was not kept whole for mochi")
			}
		})
	}
	// Truncated: an error, the bytes still passed on.
	f := newFramer(bytes.NewReader([]byte{0x10, 0x05, 0x00, 0x04, 'M', 'Q', 'T'}), 1024)
	if _, err := f.peekConnect(); err == nil {
		t.Fatal("a truncated CONNECT was parsed")
	}
}
