package topics_test

import (
	"strings"
	"testing"

	"collaborate/topics"
)

func TestRobotTopicRoundTrip(t *testing.T) {
	for _, k := range topics.RobotKinds {
		for _, id := range []string{"r1", "R_2", "a-b", strings.Repeat("x", 32)} {
			name := topics.Robot(id, k)
			t.Run(name, func(t *testing.T) {
				want := "robots/" + id + "/" + string(k)
				if name != want {
					t.Fatalf("Robot(%q, %q) = %q, want %q", id, k, name, want)
				}
				got, err := topics.Parse(name)
				if err != nil {
					t.Fatalf("Parse(%q): %v", name, err)
				}
				if got.Robot != id || got.Kind != k {
					t.Fatalf("Parse(%q) = %+v, want robot %q kind %q", name, got, id, k)
				}
				if got.String() != name {
					t.Fatalf("String() = %q, want %q", got.String(), name)
				}
			})
		}
	}
}

func TestFixedTopicRoundTrip(t *testing.T) {
	want := map[topics.Kind]string{
		topics.KindFleetCmd:              "fleet/cmd",
		topics.KindFleetMap:              "fleet/map",
		topics.KindOrchestratorStatus:    "orchestrator/status",
		topics.KindOrchestratorHeartbeat: "orchestrator/heartbeat",
		topics.KindSimWorld:              "sim/world",
	}
	if len(want) != len(topics.FixedKinds) {
		t.Fatalf("FixedKinds has %d kinds, this test knows %d", len(topics.FixedKinds), len(want))
	}
	for _, k := range topics.FixedKinds {
		t.Run(string(k), func(t *testing.T) {
			if string(k) != want[k] {
				t.Fatalf("kind %q, want topic %q", k, want[k])
			}
			got, err := topics.Parse(string(k))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got.Robot != "" || got.Kind != k || got.String() != string(k) {
				t.Fatalf("Parse(%q) = %+v (%q)", k, got, got.String())
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct {
		topic, wantErr string
	}{
		{"", `topic "" is not part of the contract`},
		{"robots/r1", `is not part of the contract`},
		{"robots/r1/pose/extra", `is not part of the contract`},
		{"robots//pose", `robot id "" must match`},
		{"robots/r 1/pose", `robot id "r 1" must match`},
		{"robots/r.1/pose", `robot id "r.1" must match`},
		{"robots/+/pose", `robot id "+" must match`},
		{"robots/#/pose", `robot id "#" must match`},
		{"robots/" + strings.Repeat("x", 33) + "/pose", `must match [A-Za-z0-9_-]{1,32}`},
		{"robots/r1/teleport", `unknown kind "teleport"`},
		{"robots/r1/Pose", `unknown kind "Pose"`},
		{"robots/r1/", `unknown kind ""`},
		{"robot/r1/pose", `is not part of the contract`},
		{"fleet/cmd/x", `is not part of the contract`},
		{"fleet/other", `is not part of the contract`},
		{"/fleet/cmd", `is not part of the contract`},
		{"orchestrator/status/", `is not part of the contract`},
		{"sim/world ", `is not part of the contract`},
	} {
		t.Run(tc.topic, func(t *testing.T) {
			got, err := topics.Parse(tc.topic)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tc.topic, got)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Parse(%q) error %q, want it to contain %q", tc.topic, err, tc.wantErr)
			}
		})
	}
}

func TestRobotPanicsOnProgrammingErrors(t *testing.T) {
	for _, tc := range []struct {
		id   string
		kind topics.Kind
	}{
		{"", topics.KindPose},
		{"r/1", topics.KindPose},
		{"r1", topics.KindFleetCmd},
		{"r1", topics.Kind("nope")},
	} {
		t.Run(tc.id+"_"+string(tc.kind), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatalf("Robot(%q, %q) did not panic", tc.id, tc.kind)
				}
			}()
			topics.Robot(tc.id, tc.kind)
		})
	}
}

func TestRobotFilter(t *testing.T) {
	if got := topics.RobotFilter(topics.KindPose); got != "robots/+/pose" {
		t.Fatalf("RobotFilter(pose) = %q", got)
	}
}

func TestPolicy(t *testing.T) {
	for _, tc := range []struct {
		kind topics.Kind
		want topics.Policy
	}{
		{topics.KindStatus, topics.Policy{QoS: 1, Retained: true}},
		{topics.KindPose, topics.Policy{QoS: 0}},
		{topics.KindSightings, topics.Policy{QoS: 0}},
		{topics.KindCheckpoint, topics.Policy{QoS: 1}},
		{topics.KindEvents, topics.Policy{QoS: 1}},
		{topics.KindHeartbeat, topics.Policy{QoS: 0}},
		{topics.KindCmd, topics.Policy{QoS: 1, Retained: true}},
		{topics.KindFleetCmd, topics.Policy{QoS: 1, Retained: true}},
		{topics.KindFleetMap, topics.Policy{QoS: 1, Retained: true}},
		{topics.KindOrchestratorStatus, topics.Policy{QoS: 1, Retained: true}},
		{topics.KindOrchestratorHeartbeat, topics.Policy{QoS: 0}},
		{topics.KindSimWorld, topics.Policy{QoS: 0}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			if got := topics.PolicyOf(tc.kind); got != tc.want {
				t.Fatalf("PolicyOf(%q) = %+v, want %+v", tc.kind, got, tc.want)
			}
		})
	}
}
