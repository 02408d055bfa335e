package broker

import (
	"strings"
	"testing"

	"collaborate/topics"
)

// TestBadPayloads: each bad payload on robots/r1/pose is acknowledged,
// dropped, counted and logged; the valid message after it arrives.
func TestBadPayloads(t *testing.T) {
	needMosquitto(t)
	b := startBroker(t, Options{})
	addr := b.Addrs().TCP
	s := readySub(t, b, "watch", "watcher", "probe/payload", []byte("ready"), "robots/#", "probe/#")
	pose := topics.Robot("r1", topics.KindPose)
	cases := []struct {
		desc    string
		payload string
		inLog   string
	}{
		{"malformed JSON", `{"v":1,"sender":"r1",`, "invalid JSON"},
		{"not an object", `[1,2]`, "must be a JSON object"},
		{"missing field", `{"v":1,"sender":"r1","seq":1,"ts":"2026-11-26T23:00:00Z","speed_mps":0,"step":0}`, "state is required"},
		{"negative distance", `{"v":1,"sender":"r1","seq":1,"ts":"2026-11-26T23:00:00Z","state":"moving","speed_mps":0,"step":0,"distance_m":-3}`, "distance_m must be >= 0"},
		{"payload over 16 KiB", `{"v":1,"pad":"` + strings.Repeat("x", topics.MaxPayload) + `"}`, "byte limit"},
	}
	for i, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			before := b.Drops()[DropInvalidPayload]
			for _, qos := range []string{"0", "1"} {
				if out, err := mosqPub(t, addr, "r1", "r1", "-q", qos, "-t", pose, "-m", c.payload); err != nil {
					t.Fatalf("bad payload at qos %s was not acked: %v: %s", qos, err, out)
				}
			}
			good := posePayload(t, "r1", float64(i)+0.25)
			if out, err := mosqPub(t, addr, "r1", "r1", "-q", "1", "-t", pose, "-m", string(good)); err != nil {
				t.Fatalf("valid publish after the bad one: %v: %s", err, out)
			}
			eventually(t, "the valid pose to arrive", func() bool { return s.has(pose, string(good)) })
			if got := b.Drops()[DropInvalidPayload]; got != before+2 {
				t.Errorf("invalid_payload drops = %d, want %d", got, before+2)
			}
			if s.hasLine(pose, c.payload) {
				t.Errorf("the bad payload was delivered")
			}
			if !strings.Contains(b.logs.String(), c.inLog) {
				t.Errorf("log does not explain the drop with %q", c.inLog)
			}
		})
	}
}

// TestOversizedPacket: a packet over MaxPacketSize is refused by closing the
// connection, and nothing of it is delivered.
func TestOversizedPacket(t *testing.T) {
	needMosquitto(t)
	b := startBroker(t, Options{})
	s := readySub(t, b, "watch", "watcher", "probe/big", []byte("ready"), "#")
	big := strings.Repeat("y", DefaultMaxPacketSize+1)
	before := b.Drops()[DropTooLarge]
	out, err := mosqPub(t, b.Addrs().TCP, "orch", "big-sender", "-q", "1", "-t", "probe/big", "-m", big)
	if err == nil {
		t.Errorf("mosquitto_pub succeeded with a %d byte packet: %s", len(big), out)
	}
	eventually(t, "the oversized packet to be counted", func() bool { return b.Drops()[DropTooLarge] == before+1 })
	if s.has("probe/big", "yyyy") {
		t.Errorf("oversized message delivered")
	}
	// Just under the limit goes through, for a topic outside the contract.
	ok := strings.Repeat("z", DefaultMaxPacketSize-100)
	if out, err := mosqPub(t, b.Addrs().TCP, "orch", "big-sender", "-q", "1", "-t", "probe/big", "-m", ok); err != nil {
		t.Fatalf("publish under the limit: %v: %s", err, out)
	}
	eventually(t, "the large but allowed message", func() bool { return s.has("probe/big", "zzzz") })
}
