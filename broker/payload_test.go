package broker

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"collaborate/internal/testkit"
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
			testkit.Eventually(t, wait, "the valid pose to arrive", func() bool { return s.has(pose, string(good)) })
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

// TestOversizedPacket: a PUBLISH over MaxPacketSize is acknowledged and
// dropped, counted and logged, whatever its size and QoS; nothing of it is
// delivered, and the connection stays up. (Closing it instead makes an MQTT
// 3.1.1 client resend the message after every reconnect, for ever.)
func TestOversizedPacket(t *testing.T) {
	needMosquitto(t)
	b := startBroker(t, Options{})
	s := readySub(t, b, "watch", "watcher", "probe/big", []byte("ready"), "#")
	for _, c := range []struct {
		desc, user, client, topic, qos string
		size                           int
	}{
		{"just over the limit, orchestrator, QoS 1", "orch", "big-sender", "probe/big", "1", DefaultMaxPacketSize + 1},
		{"300 KB status from a robot, QoS 1 retained", "r1", "r1", "robots/r1/status", "1", 300 * 1024},
		{"2 MB pose from a robot, QoS 0", "r1", "r1", "robots/r1/pose", "0", 2 << 20},
	} {
		t.Run(c.desc, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "big.json")
			big := `{"v":1,"pad":"` + strings.Repeat("y", c.size) + `"}`
			if err := os.WriteFile(file, []byte(big), 0o600); err != nil {
				t.Fatal(err)
			}
			before := b.Drops()[DropTooLarge]
			args := []string{"-q", c.qos, "-t", c.topic, "-f", file}
			if c.topic == "robots/r1/status" {
				args = append(args, "-r")
			}
			if out, err := mosqPub(t, b.Addrs().TCP, c.user, c.client, args...); err != nil {
				t.Fatalf("the oversized publish was not acknowledged: %v: %s", err, out)
			}
			testkit.Eventually(t, wait, "the oversized packet to be counted", func() bool { return b.Drops()[DropTooLarge] == before+1 })
			if !strings.Contains(b.logs.String(), "over the broker's limit") {
				t.Errorf("log does not explain the drop")
			}
		})
	}
	if s.has("probe/big", "yyyy") || s.has("robots/r1/status", "yyyy") || s.has("robots/r1/pose", "yyyy") {
		t.Errorf("an oversized message was delivered")
	}
	if s.has("probe/big", "too large") || s.has("robots/r1/status", "too large") {
		t.Errorf("the broker's stand-in payload was delivered")
	}
	// Just under the limit goes through, for a topic outside the contract.
	ok := strings.Repeat("z", DefaultMaxPacketSize-100)
	if out, err := mosqPub(t, b.Addrs().TCP, "orch", "big-sender", "-q", "1", "-t", "probe/big", "-m", ok); err != nil {
		t.Fatalf("publish under the limit: %v: %s", err, out)
	}
	testkit.Eventually(t, wait, "the large but allowed message", func() bool { return s.has("probe/big", "zzzz") })
}

// TestRobotRetainFlag: a robot's retained pose is delivered and taken, but
// not retained (the contract retains a robot's status only): it would be
// replayed to every later subscriber as news. The dropped flag is counted
// and logged; the retained status is kept.
func TestRobotRetainFlag(t *testing.T) {
	needMosquitto(t)
	b := startBroker(t, Options{})
	addr := b.Addrs().TCP
	s := readySub(t, b, "watch", "watcher", "probe/retain", []byte("ready"), "robots/#", "probe/#")
	pose, status := topics.Robot("r1", topics.KindPose), topics.Robot("r1", topics.KindStatus)
	p := posePayload(t, "r1", 0.125)
	if out, err := mosqPub(t, addr, "r1", "r1", "-q", "1", "-r", "-t", pose, "-m", string(p)); err != nil {
		t.Fatalf("retained pose: %v: %s", err, out)
	}
	st := statusPayload(t, "r1", topics.StateIdle)
	if out, err := mosqPub(t, addr, "r1", "r1", "-q", "1", "-r", "-t", status, "-m", string(st)); err != nil {
		t.Fatalf("retained status: %v: %s", err, out)
	}
	testkit.Eventually(t, wait, "the pose and the status to arrive live", func() bool {
		return s.has(pose, string(p)) && s.has(status, string(st))
	})
	var kept []string
	for _, pk := range b.srv.Topics.Messages("robots/r1/#") {
		kept = append(kept, pk.TopicName)
	}
	if len(kept) != 1 || kept[0] != status {
		t.Errorf("retained %v, want the status only", kept)
	}
	if got := b.Drops()[DropRetainFlag]; got != 1 {
		t.Errorf("%s = %d, want 1", DropRetainFlag, got)
	}
	if !strings.Contains(b.logs.String(), "not retained") {
		t.Errorf("the log does not say the pose was not retained")
	}
	later := mosqSub(t, addr, "watch", "later", "robots/r1/#")
	testkit.Eventually(t, wait, "a later subscriber to get the retained status", func() bool { return later.has(status, string(st)) })
	if later.has(pose, "") {
		t.Errorf("a later subscriber got the pose as retained")
	}
}

// TestMQTT5ClientToldWhy: a robot on MQTT 5 (off the contract, which says
// 3.1.1, but a client library's default) whose QoS 1 publish is dropped gets
// a PUBACK with the reason (not authorized, payload format invalid, packet
// too large: the framer reads an MQTT 5 PUBLISH's properties), so its
// library reports it; the drop is counted as for 3.1.1, nothing of it is
// delivered, and its next valid message is.
func TestMQTT5ClientToldWhy(t *testing.T) {
	needMosquitto(t)
	b := startBroker(t, Options{})
	addr := b.Addrs().TCP
	s := readySub(t, b, "watch", "watcher", "probe/v5", []byte("ready"), "robots/#", "probe/#")
	v5 := func(extra ...string) (string, error) {
		args := append(mosqArgs(t, addr, "r1", "r1"), extra...)
		for i, a := range args {
			if a == "mqttv311" {
				args[i] = "mqttv5"
			}
		}
		out, err := exec.Command("mosquitto_pub", args...).CombinedOutput()
		return string(out), err
	}
	foreign, own := topics.Robot("r2", topics.KindPose), topics.Robot("r1", topics.KindPose)
	for _, c := range []struct {
		desc, topic, payload, qos, want string
	}{
		{"another robot's topic, QoS 1", foreign, string(posePayload(t, "r2", 0.5)), "1", "Not authorized"},
		{"an invalid payload, QoS 1", own, `{"v":1,`, "1", "Payload format invalid"},
		{"another robot's topic, QoS 0", foreign, string(posePayload(t, "r2", 0.75)), "0", ""},
		{"a packet over the limit, QoS 1", own, `{"v":1,"pad":"` + strings.Repeat("z", DefaultMaxPacketSize) + `"}`, "1", "too large"},
	} {
		out, err := v5("-q", c.qos, "-t", c.topic, "-m", c.payload)
		if err != nil {
			t.Errorf("%s: mosquitto_pub -V mqttv5: %v: %s", c.desc, err, out)
		}
		if c.want != "" && !strings.Contains(out, c.want) {
			t.Errorf("%s: mosquitto_pub said %q, want the reason %q", c.desc, out, c.want)
		}
	}
	good := posePayload(t, "r1", 0.25)
	if out, err := v5("-q", "1", "-t", own, "-m", string(good)); err != nil || out != "" {
		t.Fatalf("valid publish: %v: %q", err, out)
	}
	testkit.Eventually(t, wait, "the valid pose", func() bool { return s.has(own, string(good)) })
	if s.has(foreign, "") || s.hasLine(own, `{"v":1,`) {
		t.Errorf("a dropped message was delivered: %q", s.lines())
	}
	if d := b.Drops(); d[DropForeignTopic] != 2 || d[DropInvalidPayload] != 1 || d[DropTooLarge] != 1 {
		t.Errorf("drops %v, want 2 foreign_topic, 1 invalid_payload, 1 packet_too_large", d)
	}
}
