package topics_test

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"collaborate/topics"
)

func TestEveryKindHasFixtureAndDecoder(t *testing.T) {
	for _, k := range allKinds() {
		if _, ok := validPayloads[k]; !ok {
			t.Errorf("no valid payload for kind %q", k)
		}
		if _, ok := decoders[k]; !ok {
			t.Errorf("no typed decoder for kind %q", k)
		}
	}
	if len(validPayloads) != len(allKinds()) || len(decoders) != len(allKinds()) {
		t.Errorf("fixtures for %d kinds and decoders for %d, contract has %d", len(validPayloads), len(decoders), len(allKinds()))
	}
}

func TestEveryMessageKnowsItsKind(t *testing.T) {
	for _, k := range allKinds() {
		m, err := topics.New(k)
		if err != nil {
			t.Fatalf("New(%q): %v", k, err)
		}
		if m.TopicKind() != k {
			t.Errorf("a %T says it is a %q message, the contract has it on %q", m, m.TopicKind(), k)
		}
		d, err := topics.Decode(k, []byte(validPayloads[k]))
		if err != nil {
			t.Fatalf("decode %q: %v", k, err)
		}
		if d.TopicKind() != k {
			t.Errorf("decoding a %q payload gave a %q message", k, d.TopicKind())
		}
	}
}

func TestDecodeValid(t *testing.T) {
	for _, k := range allKinds() {
		t.Run(string(k), func(t *testing.T) {
			typed, err := decoders[k]([]byte(validPayloads[k]))
			if err != nil {
				t.Fatalf("typed decoder: %v", err)
			}
			generic, err := topics.Decode(k, []byte(validPayloads[k]))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(typed, generic) {
				t.Fatalf("typed decoder and Decode disagree:\n%#v\n%#v", typed, generic)
			}
			// Round trip through Encode.
			b, err := topics.Encode(generic)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			again, err := topics.Decode(k, b)
			if err != nil {
				t.Fatalf("Decode(Encode(m)): %v\n%s", err, b)
			}
			if !reflect.DeepEqual(again, generic) {
				t.Fatalf("round trip changed the message:\n%#v\n%#v", generic, again)
			}
			if h := topics.HeaderOf(generic); h.V != 1 || h.Seq == 0 || h.TS.IsZero() || h.Sender == "" {
				t.Fatalf("header not decoded: %+v", h)
			}
		})
	}
}

// Rejections common to every kind: the header and the payload as a whole.
func TestDecodeRejectsCommon(t *testing.T) {
	for _, k := range allKinds() {
		base := validPayloads[k]
		for _, tc := range []struct {
			desc, payload, wantErr string
		}{
			{"empty", ``, "payload must be a JSON object"},
			{"array", `[1,2]`, "payload must be a JSON object"},
			{"string", `"hello"`, "payload must be a JSON object"},
			{"truncated", base[:len(base)/2], "invalid JSON"},
			{"trailing garbage", base + "x", "invalid JSON"},
			{"NaN literal", strings.Replace(base, `"v":1`, `"v":NaN`, 1), "invalid JSON"},
			{"missing v", mutate(base, "v", "<delete>"), "v is required"},
			{"missing sender", mutate(base, "sender", "<delete>"), "sender is required"},
			{"missing seq", mutate(base, "seq", "<delete>"), "seq is required"},
			{"missing ts", mutate(base, "ts", "<delete>"), "ts is required"},
			{"null sender", mutate(base, "sender", "null"), "sender is required"},
			{"seq wrong type", mutate(base, "seq", `"one"`), "seq must be a non-negative integer, got string"},
			{"seq negative", mutate(base, "seq", `-1`), "seq must be a non-negative integer, got number -1"},
			{"seq overflow", mutate(base, "seq", `1e999`), "seq must be a non-negative integer, got number 1e999"},
			{"v wrong type", mutate(base, "v", `"1"`), "v must be an integer, got string"},
			{"v too new", mutate(base, "v", `2`), "v must be a contract version from 1 to 1, got 2"},
			{"v zero", mutate(base, "v", `0`), "v must be a contract version from 1 to 1, got 0"},
			{"sender invalid", mutate(base, "sender", `"r/1"`), `sender must match [A-Za-z0-9_-]{1,32}, got "r/1"`},
			{"sender wrong type", mutate(base, "sender", `7`), "sender must be a string, got number"},
			{"ts not a time", mutate(base, "ts", `"yesterday"`), `ts must be an RFC 3339 time, got "yesterday"`},
			{"ts wrong type", mutate(base, "ts", `1700000000`), "ts must be an RFC 3339 time string, got 1700000000"},
			{"ts before 1970", mutate(base, "ts", `"0000-01-01T00:00:00Z"`), "ts must be a time from 1970 to 9999, got 0000-01-01T00:00:00Z"},
			{"ts year -1 once in UTC", mutate(base, "ts", `"0000-01-01T00:00:00+00:10"`), "ts must be a time from 1970 to 9999, got -0001-12-31T23:50:00Z"},
			{"oversize", mutate(base, "pad", `"`+strings.Repeat("x", topics.MaxPayload)+`"`), "over the 16384 byte limit"},
		} {
			t.Run(string(k)+"/"+tc.desc, func(t *testing.T) {
				checkReject(t, k, tc.payload, tc.wantErr)
			})
		}
	}
}

func TestDecodeToleratesUnknownFields(t *testing.T) {
	for _, k := range allKinds() {
		t.Run(string(k), func(t *testing.T) {
			p := mutate(validPayloads[k], "from_the_future", `{"nested":[1,2,{"x":null}]}`)
			got, err := decoders[k]([]byte(p))
			if err != nil {
				t.Fatalf("unknown field rejected: %v", err)
			}
			want, _ := decoders[k]([]byte(validPayloads[k]))
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("unknown field changed the message:\n%#v\n%#v", got, want)
			}
		})
	}
}

// Rejections of each kind's own fields.
func TestDecodeRejectsFields(t *testing.T) {
	for _, tc := range []struct {
		kind      topics.Kind
		desc      string
		path, val string
		wantErr   string
	}{
		{topics.KindStatus, "missing state", "state", "<delete>", "status: state is required"},
		{topics.KindStatus, "unknown state", "state", `"sleeping"`, `status: state must be one of [online idle mapping moving reached holding blocked yielding backing_off failsafe fault done offline], got "sleeping"`},
		{topics.KindStatus, "state wrong type", "state", `1`, "status: state must be a string, got number"},
		{topics.KindStatus, "negative face id", "faces.front", `-1`, "status: faces.front must be a marker id >= 0, got -1"},
		{topics.KindStatus, "missing face", "faces.left", "<delete>", "status: faces.left is required"},
		{topics.KindStatus, "faces wrong type", "faces", `[100]`, "status: faces must be an object, got [100]"},
		{topics.KindStatus, "negative target", "target", `-5`, "status: target must be a marker id >= 0, got -5"},
		{topics.KindStatus, "target wrong type", "target", `"five"`, "status: target must be an integer, got string"},
		{topics.KindStatus, "negative step", "step", `-1`, "status: step must be >= 0, got -1"},

		{topics.KindPose, "negative distance", "distance_m", `-3`, "pose: distance_m must be >= 0, got -3"},
		{topics.KindPose, "distance overflow", "distance_m", `1e999`, "pose: distance_m must be a number, got number 1e999"},
		{topics.KindPose, "theta outside ±π", "theta_rad", `4`, "pose: theta_rad must be within ±π, got 4"},
		{topics.KindPose, "speed overflow", "speed_mps", `-1e400`, "pose: speed_mps must be a number, got number -1e400"},
		{topics.KindPose, "speed wrong type", "speed_mps", `"fast"`, "pose: speed_mps must be a number, got string"},
		{topics.KindPose, "missing speed", "speed_mps", "<delete>", "pose: speed_mps is required"},
		{topics.KindPose, "missing state", "state", "<delete>", "pose: state is required"},
		{topics.KindPose, "x without y", "y_m", "<delete>", "pose: x_m and y_m must be given together"},
		{topics.KindPose, "negative target", "target", `-1`, "pose: target must be a marker id >= 0, got -1"},
		{topics.KindPose, "step not integer", "step", `1.5`, "pose: step must be an integer, got number 1.5"},

		{topics.KindSightings, "bearing outside ±π", "seen.0.bearing_rad", `3.5`, "sightings: seen[0].bearing_rad must be within ±π, got 3.5"},
		{topics.KindSightings, "unknown face", "seen.1.face", `"top"`, `sightings: seen[1].face must be one of [front left back right], got "top"`},
		{topics.KindSightings, "face missing", "seen.1.face", "<delete>", `sightings: seen[1].face must be one of [front left back right], got ""`},
		{topics.KindSightings, "negative marker id", "seen.0.id", `-1`, "sightings: seen[0].id must be a marker id >= 0, got -1"},
		{topics.KindSightings, "negative distance", "seen.1.distance_m", `-0.1`, "sightings: seen[1].distance_m must be >= 0, got -0.1"},
		{topics.KindSightings, "distance overflow", "seen.0.distance_m", `1e999`, "sightings: seen.distance_m must be a number, got number 1e999"},
		{topics.KindSightings, "unknown marker kind", "seen.0.kind", `"ghost"`, `sightings: seen[0].kind must be one of [arena face], got "ghost"`},
		{topics.KindSightings, "missing marker kind", "seen.0.kind", "<delete>", "sightings: seen[0].kind is required"},
		{topics.KindSightings, "missing seen", "seen", "<delete>", "sightings: seen is required"},
		{topics.KindSightings, "seen wrong type", "seen", `{"id":1}`, `sightings: seen must be an array, got {"id":1}`},
		{topics.KindSightings, "sighting wrong type", "seen.0", `5`, "sightings: seen[0] must be an object, got 5"},
		{topics.KindSightings, "bad face owner", "seen.1.robot", `"r 2"`, `sightings: seen[1].robot must match [A-Za-z0-9_-]{1,32}, got "r 2"`},
		{topics.KindSightings, "heading overflow", "heading_rad", `1e999`, "sightings: heading_rad must be a number, got number 1e999"},

		{topics.KindCheckpoint, "negative marker", "marker", `-1`, "checkpoint: marker must be a marker id >= 0, got -1"},
		{topics.KindCheckpoint, "missing final", "final", "<delete>", "checkpoint: final is required"},
		{topics.KindCheckpoint, "missing epoch", "epoch", "<delete>", "checkpoint: epoch is required"},
		{topics.KindCheckpoint, "final wrong type", "final", `"yes"`, "checkpoint: final must be a boolean, got string"},
		{topics.KindCheckpoint, "negative epoch", "epoch", `-3`, "checkpoint: epoch must be a non-negative integer, got number -3"},
		{topics.KindCheckpoint, "negative step", "step", `-2`, "checkpoint: step must be >= 0, got -2"},
		{topics.KindCheckpoint, "marker overflow", "marker", `1e999`, "checkpoint: marker must be an integer, got number 1e999"},

		{topics.KindEvents, "unknown kind", "kind", `"wave"`, `event: kind must be one of [ack stale blocked yield clear fault failsafe map_done], got "wave"`},
		{topics.KindEvents, "unknown face", "face", `"top"`, `event: face must be one of [front left back right], got "top"`},
		{topics.KindEvents, "blocked without face", "face", "<delete>", `event: face must be one of [front left back right], got ""`},
		{topics.KindEvents, "negative distance", "distance_m", `-0.5`, "event: distance_m must be >= 0, got -0.5"},
		{topics.KindEvents, "distance overflow", "distance_m", `1e999`, "event: distance_m must be a number, got number 1e999"},
		{topics.KindEvents, "negative marker", "marker", `-2`, "event: marker must be a marker id >= 0, got -2"},
		{topics.KindEvents, "bad other", "other", `"r 2"`, `event: other must match [A-Za-z0-9_-]{1,32}, got "r 2"`},
		{topics.KindEvents, "missing kind", "kind", "<delete>", "event: kind is required"},

		{topics.KindCmd, "unknown kind", "kind", `"fly"`, `directive: kind must be one of [route hold resume stop map backoff], got "fly"`},
		{topics.KindCmd, "missing epoch", "epoch", "<delete>", "directive: epoch is required"},
		{topics.KindCmd, "empty route", "route", `[]`, "directive: route must name at least one marker"},
		{topics.KindCmd, "negative route marker", "route.1", `-5`, "directive: route[1] must be a marker id >= 0, got -5"},
		{topics.KindCmd, "route wrong type", "route", `"5,9"`, "directive: route must be an array, got string"},
		{topics.KindCmd, "released beyond route", "released", `4`, "directive: released must be <= len(route) = 3, got 4"},
		{topics.KindCmd, "negative backoff", "backoff_m", `-1`, "directive: backoff_m must be >= 0, got -1"},
		{topics.KindCmd, "backoff overflow", "backoff_m", `1e999`, "directive: backoff_m must be a number, got number 1e999"},
		{topics.KindCmd, "negative stop", "stop_m", `-0.1`, "directive: stop_m must be within [0, 2], got -0.1"},
		{topics.KindCmd, "park x alone", "park_x_m", `1.0`, "directive: park_x_m and park_y_m go together: give both or neither"},
		{topics.KindCmd, "park y wrong type", "park_y_m", `"0.3"`, "directive: park_y_m must be a number, got string"},
		{topics.KindCmd, "stop wrong type", "stop_m", `"0.4"`, "directive: stop_m must be a number, got string"},

		{topics.KindFleetCmd, "unknown kind", "kind", `"pause"`, `fleet_cmd: kind must be one of [stop resume], got "pause"`},
		{topics.KindFleetCmd, "missing epoch", "epoch", "<delete>", "fleet_cmd: epoch is required"},
		{topics.KindFleetCmd, "epoch wrong type", "epoch", `"3"`, "fleet_cmd: epoch must be a non-negative integer, got string"},

		{topics.KindFleetMap, "zero diameter", "diameter_m", `0`, "fleet_map: diameter_m must be > 0, got 0"},
		{topics.KindFleetMap, "negative scale", "scale", `-1`, "fleet_map: scale must be > 0, got -1"},
		{topics.KindFleetMap, "duplicate marker", "markers.1.id", `0`, "fleet_map: markers[1].id must be unique, got 0 twice"},
		{topics.KindFleetMap, "negative marker", "markers.0.id", `-1`, "fleet_map: markers[0].id must be a marker id >= 0, got -1"},
		{topics.KindFleetMap, "marker overflow", "markers.0.x_m", `1e999`, "fleet_map: markers.x_m must be a number, got number 1e999"},
		{topics.KindFleetMap, "marker missing y", "markers.1.y_m", "<delete>", "fleet_map: markers[1].y_m is required"},
		{topics.KindFleetMap, "missing markers", "markers", "<delete>", "fleet_map: markers is required"},
		{topics.KindFleetMap, "negative roster face", "roster.0.faces.back", `-1`, "fleet_map: roster[0].faces.back must be a marker id >= 0, got -1"},
		{topics.KindFleetMap, "bad mapper", "mapped_by", `"?"`, `fleet_map: mapped_by must match [A-Za-z0-9_-]{1,32}, got "?"`},

		{topics.KindOrchestratorStatus, "unknown state", "state", `"sleepy"`, `orchestrator_status: state must be one of [online offline], got "sleepy"`},
		{topics.KindOrchestratorStatus, "missing state", "state", "<delete>", "orchestrator_status: state is required"},
		{topics.KindOrchestratorStatus, "negative epoch", "epoch", `-1`, "orchestrator_status: epoch must be a non-negative integer, got number -1"},

		{topics.KindSimWorld, "negative time", "sim_time_s", `-1`, "world: sim_time_s must be >= 0, got -1"},
		{topics.KindSimWorld, "zero diameter", "diameter_m", `0`, "world: diameter_m must be > 0, got 0"},
		{topics.KindSimWorld, "negative collisions", "collisions", `-1`, "world: collisions must be >= 0, got -1"},
		{topics.KindSimWorld, "bad robot", "robots.0.robot", `""`, `world: robots[0].robot must match [A-Za-z0-9_-]{1,32}, got ""`},
		{topics.KindSimWorld, "pose overflow", "robots.0.x_m", `1e999`, "world: robots.x_m must be a number, got number 1e999"},
		{topics.KindSimWorld, "missing robots", "robots", "<delete>", "world: robots is required"},
	} {
		t.Run(string(tc.kind)+"/"+tc.desc, func(t *testing.T) {
			checkReject(t, tc.kind, mutate(validPayloads[tc.kind], tc.path, tc.val), tc.wantErr)
		})
	}
}

// checkReject asserts that the typed decoder and Decode both reject payload
// with a *FieldError whose text contains wantErr (and starts with the
// message name).
func checkReject(t *testing.T, k topics.Kind, payload, wantErr string) {
	t.Helper()
	for name, dec := range map[string]func([]byte) (topics.Message, error){
		"typed":  decoders[k],
		"Decode": func(b []byte) (topics.Message, error) { return topics.Decode(k, b) },
	} {
		m, err := dec([]byte(payload))
		if err == nil {
			t.Fatalf("%s accepted %s as %#v, want error %q", name, short(payload), m, wantErr)
		}
		if m != nil {
			t.Fatalf("%s returned a message with its error: %#v", name, m)
		}
		if !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("%s error:\n  got  %q\n  want %q", name, err, wantErr)
		}
		var fe *topics.FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("%s error %T is not a *topics.FieldError", name, err)
		}
		// The error names the field when the problem is one field's.
		if fe.Field != "" && !strings.Contains(err.Error(), fe.Field) {
			t.Fatalf("error %q does not name field %q", err, fe.Field)
		}
	}
}

func short(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

func TestExactErrors(t *testing.T) {
	for _, tc := range []struct {
		kind      topics.Kind
		path, val string
		want      string
	}{
		{topics.KindPose, "distance_m", `-3`, "pose: distance_m must be >= 0, got -3"},
		{topics.KindSightings, "seen.0.bearing_rad", `-3.5`, "sightings: seen[0].bearing_rad must be within ±π, got -3.5"},
		{topics.KindStatus, "faces.right", `-7`, "status: faces.right must be a marker id >= 0, got -7"},
		{topics.KindCheckpoint, "final", "<delete>", "checkpoint: final is required"},
		{topics.KindCmd, "kind", `"fly"`, `directive: kind must be one of [route hold resume stop map backoff], got "fly"`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			_, err := topics.Decode(tc.kind, []byte(mutate(validPayloads[tc.kind], tc.path, tc.val)))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got %v, want exactly %q", err, tc.want)
			}
		})
	}
}

func TestDecodeUnknownKind(t *testing.T) {
	if _, err := topics.Decode("robots/r1/teleport", []byte(validPayloads[topics.KindPose])); err == nil {
		t.Fatal("Decode accepted an unknown kind")
	}
	if _, err := topics.New("teleport"); err == nil {
		t.Fatal("New accepted an unknown kind")
	}
}

func TestDecodeTopic(t *testing.T) {
	for _, tc := range []struct {
		desc, topic, payload, wantErr string
	}{
		{"own pose", "robots/r1/pose", validPayloads[topics.KindPose], ""},
		{"spoofed pose", "robots/r2/pose", validPayloads[topics.KindPose], `pose: sender must be the topic's robot "r2", got "r1"`},
		{"spoofed checkpoint", "robots/r9/checkpoint", validPayloads[topics.KindCheckpoint], `checkpoint: sender must be the topic's robot "r9", got "r1"`},
		{"spoofed status", "robots/r2/status", validPayloads[topics.KindStatus], `status: sender must be the topic's robot "r2", got "r1"`},
		{"cmd from orchestrator", "robots/r1/cmd", validPayloads[topics.KindCmd], ""},
		{"fixed topic", "fleet/map", validPayloads[topics.KindFleetMap], ""},
		{"bad topic", "robots/r1/teleport", validPayloads[topics.KindPose], `unknown kind "teleport"`},
		{"payload of another kind", "robots/r1/checkpoint", validPayloads[topics.KindPose], "checkpoint: epoch is required"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			top, m, err := topics.DecodeTopic(tc.topic, []byte(tc.payload))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("DecodeTopic: %v", err)
				}
				if top.String() != tc.topic || m == nil {
					t.Fatalf("DecodeTopic = %+v, %v", top, m)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("DecodeTopic error %v, want %q", err, tc.wantErr)
			}
			if m != nil {
				t.Fatalf("DecodeTopic returned a message with its error")
			}
		})
	}
}

func ts() time.Time { return time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC) }

func TestEncodeRejectsNonFinite(t *testing.T) {
	h := topics.Stamp("r1", 1, ts())
	f := func(v float64) *float64 { return &v }
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for _, tc := range []struct {
			desc    string
			msg     topics.Message
			wantErr string
		}{
			{"pose distance", &topics.Pose{Header: h, State: topics.StateMoving, DistanceM: f(bad)}, "pose: distance_m must be a finite number, got "},
			{"pose speed", &topics.Pose{Header: h, State: topics.StateMoving, SpeedMps: bad}, "pose: speed_mps must be a finite number, got "},
			{"pose x", &topics.Pose{Header: h, State: topics.StateMoving, XM: f(bad), YM: f(0)}, "pose: x_m must be a finite number, got "},
			{"sighting bearing", &topics.Sightings{Header: h, Seen: []topics.Sighting{{Kind: topics.MarkerArena, BearingRad: bad}}}, "sightings: seen[0].bearing_rad must be a finite number, got "},
			{"sightings heading", &topics.Sightings{Header: h, HeadingRad: f(bad), Seen: []topics.Sighting{}}, "sightings: heading_rad must be a finite number, got "},
			{"event distance", &topics.Event{Header: h, Kind: topics.EventYield, DistanceM: f(bad)}, "event: distance_m must be a finite number, got "},
			{"backoff", &topics.Directive{Header: h, Kind: topics.DirBackoff, BackoffM: bad}, "directive: backoff_m must be a finite number, got "},
			{"map scale", &topics.FleetMap{Header: h, DiameterM: 3, Scale: bad, Markers: []topics.MapMarker{}}, "fleet_map: scale must be a finite number, got "},
			{"map marker", &topics.FleetMap{Header: h, DiameterM: 3, Scale: 1, Markers: []topics.MapMarker{{YM: bad}}}, "fleet_map: markers[0].y_m must be a finite number, got "},
			{"world time", &topics.World{Header: h, SimTimeS: bad, DiameterM: 3, Robots: []topics.TruePose{}}, "world: sim_time_s must be a finite number, got "},
			{"world theta", &topics.World{Header: h, DiameterM: 3, Robots: []topics.TruePose{{Robot: "r1", ThetaRad: bad}}}, "world: robots[0].theta_rad must be a finite number, got "},
		} {
			t.Run(tc.desc+"/"+topicsNum(bad), func(t *testing.T) {
				b, err := topics.Encode(tc.msg)
				if err == nil {
					t.Fatalf("Encode accepted %v: %s", bad, b)
				}
				if want := tc.wantErr + topicsNum(bad); err.Error() != want {
					t.Fatalf("Encode error %q, want %q", err, want)
				}
			})
		}
	}
}

func topicsNum(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	}
	return "-Inf"
}

func TestEncodeRejectsOversize(t *testing.T) {
	seen := make([]topics.Sighting, 400)
	for i := range seen {
		seen[i] = topics.Sighting{MarkerID: i, Kind: topics.MarkerArena, DistanceM: 1.2345678, BearingRad: 0.1234567}
	}
	_, err := topics.Encode(&topics.Sightings{Header: topics.Stamp("r1", 1, ts()), Seen: seen})
	if err == nil || !strings.Contains(err.Error(), "over the 16384 byte limit") {
		t.Fatalf("Encode of a huge frame: %v", err)
	}
}

// A Go value whose required list is nil still encodes to something its
// decoder accepts: nil and empty are the same list on the wire.
func TestEncodeNilListsDecode(t *testing.T) {
	h := topics.Stamp("r1", 1, ts())
	for _, tc := range []struct {
		kind topics.Kind
		msg  topics.Message
	}{
		{topics.KindSightings, &topics.Sightings{Header: h}},
		{topics.KindFleetMap, &topics.FleetMap{Header: h, DiameterM: 3, Scale: 1}},
		{topics.KindSimWorld, &topics.World{Header: h, DiameterM: 3}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			b, err := topics.Encode(tc.msg)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if _, err := topics.Decode(tc.kind, b); err != nil {
				t.Fatalf("Decode(Encode(nil list)): %v\n%s", err, b)
			}
		})
	}
}

func TestDecodeNormalisesTimeToUTC(t *testing.T) {
	want := time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC)
	for _, ts := range []string{`"2026-11-26T22:00:00Z"`, `"2026-11-26T22:00:00+00:00"`, `"2026-11-26T23:00:00+01:00"`, `"2026-11-26T14:30:00-07:30"`} {
		t.Run(ts, func(t *testing.T) {
			m, err := topics.DecodeCheckpoint([]byte(mutate(validPayloads[topics.KindCheckpoint], "ts", ts)))
			if err != nil {
				t.Fatal(err)
			}
			if m.TS != want || m.TS.Location() != time.UTC {
				t.Fatalf("ts %v (%v), want %v in UTC", m.TS, m.TS.Location(), want)
			}
		})
	}
}

func TestEncodeRejectsTimeOutOfRange(t *testing.T) {
	for _, ts := range []time.Time{{}, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)} {
		t.Run(ts.String(), func(t *testing.T) {
			_, err := topics.Encode(&topics.Checkpoint{Header: topics.Stamp("r1", 1, ts), Marker: 1})
			if err == nil || !strings.HasPrefix(err.Error(), "checkpoint: ts must be") {
				t.Fatalf("Encode with ts %v: %v", ts, err)
			}
		})
	}
}
