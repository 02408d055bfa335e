package conform

import (
	"bufio"
	"bytes"
	"reflect"
	"testing"
)

// mqttString is a length-prefixed MQTT string.
func mqttString(s string) []byte { return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...) }

// The proxy reads packets as MQTT 3.1.1 frames them: a CONNECT with its
// flags, will and keepalive, a SUBSCRIBE's filters, a PUBLISH's flags and
// payload.
func TestReadPackets(t *testing.T) {
	var connect []byte
	connect = append(connect, mqttString("MQTT")...)
	connect = append(connect, 4, 0x80|0x40|0x20|0x08|0x04, 0, 3) // user, password, will retain, will QoS 1, will; keepalive 3
	connect = append(connect, mqttString("r1")...)
	connect = append(connect, mqttString("robots/r1/status")...)
	connect = append(connect, mqttString(`{"state":"offline"}`)...)
	connect = append(connect, mqttString("r1")...)
	connect = append(connect, mqttString("pw")...)
	var sub []byte
	sub = append(sub, 0, 7)
	sub = append(sub, append(mqttString("fleet/cmd"), 1)...)
	sub = append(sub, append(mqttString("orchestrator/heartbeat"), 0)...)
	pub := append(append(mqttString("robots/r1/pose"), 0, 9), `{"v":1}`...)
	frame := func(h byte, body []byte) []byte {
		// Remaining length as a varint: 200 bytes take two.
		n, out := len(body), []byte{h}
		for {
			b := byte(n % 128)
			n /= 128
			if n > 0 {
				b |= 0x80
			}
			out = append(out, b)
			if n == 0 {
				break
			}
		}
		return append(out, body...)
	}
	big := append(append(mqttString("robots/r1/pose"), 0, 9), bytes.Repeat([]byte("x"), 200)...)
	var stream []byte
	for _, p := range [][]byte{frame(0x10, connect), frame(0x82, sub), frame(0x32|0x01, pub), frame(0x32, big), {0xe0, 0}} {
		stream = append(stream, p...)
	}
	r := bufio.NewReader(bytes.NewReader(stream))

	_, typ, body, err := readPacket(r)
	if err != nil || typ != pktConnect {
		t.Fatalf("first packet: type %d, %v", typ, err)
	}
	c, err := parseConnect(body)
	if err != nil {
		t.Fatal(err)
	}
	want := connectInfo{Protocol: "MQTT", Level: 4, ClientID: "r1", Username: "r1", HasUsername: true, HasPassword: true,
		KeepAliveS: 3, Will: true, WillTopic: "robots/r1/status", WillQoS: 1, WillRetain: true}
	if string(c.WillPayload) != `{"state":"offline"}` {
		t.Errorf("will payload %q", c.WillPayload)
	}
	c.WillPayload = nil
	if !reflect.DeepEqual(c, want) {
		t.Errorf("CONNECT: %+v\nwant %+v", c, want)
	}

	_, typ, body, _ = readPacket(r)
	id, fs, err := parseSubscribe(body)
	if typ != pktSubscribe || err != nil || id != 7 || len(fs) != 2 || fs[0] != (filter{"fleet/cmd", 1}) || fs[1] != (filter{"orchestrator/heartbeat", 0}) {
		t.Errorf("SUBSCRIBE: type %d id %d %v %v", typ, id, fs, err)
	}

	_, typ, body, _ = readPacket(r)
	p, err := parsePublish(0x03, body)
	if typ != pktPublish || err != nil || p.Topic != "robots/r1/pose" || p.QoS != 1 || !p.Retain || string(p.Payload) != `{"v":1}` {
		t.Errorf("PUBLISH: type %d %+v %v", typ, p, err)
	}
	_, _, body, _ = readPacket(r)
	if p, err := parsePublish(0x02, body); err != nil || len(p.Payload) != 200 {
		t.Errorf("a PUBLISH of 200 bytes: %d bytes, %v", len(p.Payload), err)
	}
	if _, typ, _, err := readPacket(r); typ != pktDisconnect || err != nil {
		t.Errorf("DISCONNECT: type %d, %v", typ, err)
	}
	if _, _, _, err := readPacket(r); err == nil {
		t.Error("read past the end")
	}
}

// What a robot may subscribe to: its own directives, the fleet and
// orchestrator topics, and the peer view; never another robot's
// directives, and no wildcard that reaches them.
func TestRobotMayRead(t *testing.T) {
	for _, tc := range []struct {
		filter string
		ok     bool
	}{
		{"robots/r1/cmd", true},
		{"fleet/cmd", true},
		{"fleet/#", true},
		{"orchestrator/heartbeat", true},
		{"robots/+/status", true},
		{"robots/r2/heartbeat", true},
		{"robots/r2/cmd", false},
		{"robots/+/cmd", false},
		{"robots/#", false},
		{"#", false},
		{"robots/+/pose", false},
		{"sim/world", false},
	} {
		if got := robotMayRead("r1", tc.filter); got != tc.ok {
			t.Errorf("robotMayRead(r1, %q) = %v, want %v", tc.filter, got, tc.ok)
		}
	}
}
