package topics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"time"
)

// Message is implemented by every payload type of the contract.
type Message interface {
	Validate() error
}

// messageName is the name a kind's errors start with.
var messageName = map[Kind]string{
	KindStatus:                "status",
	KindPose:                  "pose",
	KindSightings:             "sightings",
	KindCheckpoint:            "checkpoint",
	KindEvents:                "event",
	KindHeartbeat:             "heartbeat",
	KindCmd:                   "directive",
	KindFleetCmd:              "fleet_cmd",
	KindFleetMap:              "fleet_map",
	KindOrchestratorStatus:    "orchestrator_status",
	KindOrchestratorHeartbeat: "orchestrator_heartbeat",
	KindSimWorld:              "world",
}

// New returns a pointer to an empty message of the kind's type.
func New(k Kind) (Message, error) {
	switch k {
	case KindStatus:
		return &Status{}, nil
	case KindPose:
		return &Pose{}, nil
	case KindSightings:
		return &Sightings{}, nil
	case KindCheckpoint:
		return &Checkpoint{}, nil
	case KindEvents:
		return &Event{}, nil
	case KindHeartbeat:
		return &Heartbeat{}, nil
	case KindCmd:
		return &Directive{}, nil
	case KindFleetCmd:
		return &FleetCommand{}, nil
	case KindFleetMap:
		return &FleetMap{}, nil
	case KindOrchestratorStatus:
		return &OrchestratorState{}, nil
	case KindOrchestratorHeartbeat:
		return &OrchestratorHeartbeat{}, nil
	case KindSimWorld:
		return &World{}, nil
	}
	return nil, fmt.Errorf("unknown kind %q", k)
}

// Decode decodes and validates a payload of the given kind.
func Decode(k Kind, payload []byte) (Message, error) {
	m, err := New(k)
	if err != nil {
		return nil, err
	}
	if err := decodeInto(messageName[k], payload, m); err != nil {
		return nil, err
	}
	return m, nil
}

// DecodeTopic parses the topic, decodes its payload, and checks that a robot
// topic's sender is the robot the topic names (the orchestrator sends cmd).
func DecodeTopic(topic string, payload []byte) (Topic, Message, error) {
	t, err := Parse(topic)
	if err != nil {
		return t, nil, err
	}
	m, err := Decode(t.Kind, payload)
	if err != nil {
		return t, nil, err
	}
	if t.Robot != "" && t.Kind != KindCmd {
		if s := HeaderOf(m).Sender; s != t.Robot {
			return t, nil, &FieldError{Message: messageName[t.Kind], Field: "sender",
				Problem: fmt.Sprintf("must be the topic's robot %q, got %q", t.Robot, s)}
		}
	}
	return t, m, nil
}

// HeaderOf returns the header of any message of the contract.
func HeaderOf(m Message) Header {
	v := reflect.ValueOf(m)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	return v.FieldByName("Header").Interface().(Header)
}

// DecodeStatus decodes and validates robots/{id}/status.
func DecodeStatus(b []byte) (*Status, error) { return decodeAs[Status]("status", b) }

// DecodePose decodes and validates robots/{id}/pose.
func DecodePose(b []byte) (*Pose, error) { return decodeAs[Pose]("pose", b) }

// DecodeSightings decodes and validates robots/{id}/sightings.
func DecodeSightings(b []byte) (*Sightings, error) { return decodeAs[Sightings]("sightings", b) }

// DecodeCheckpoint decodes and validates robots/{id}/checkpoint.
func DecodeCheckpoint(b []byte) (*Checkpoint, error) { return decodeAs[Checkpoint]("checkpoint", b) }

// DecodeEvent decodes and validates robots/{id}/events.
func DecodeEvent(b []byte) (*Event, error) { return decodeAs[Event]("event", b) }

// DecodeHeartbeat decodes and validates robots/{id}/heartbeat.
func DecodeHeartbeat(b []byte) (*Heartbeat, error) { return decodeAs[Heartbeat]("heartbeat", b) }

// DecodeDirective decodes and validates robots/{id}/cmd.
func DecodeDirective(b []byte) (*Directive, error) { return decodeAs[Directive]("directive", b) }

// DecodeFleetCommand decodes and validates fleet/cmd.
func DecodeFleetCommand(b []byte) (*FleetCommand, error) {
	return decodeAs[FleetCommand]("fleet_cmd", b)
}

// DecodeFleetMap decodes and validates fleet/map.
func DecodeFleetMap(b []byte) (*FleetMap, error) { return decodeAs[FleetMap]("fleet_map", b) }

// DecodeOrchestratorState decodes and validates orchestrator/status.
func DecodeOrchestratorState(b []byte) (*OrchestratorState, error) {
	return decodeAs[OrchestratorState]("orchestrator_status", b)
}

// DecodeOrchestratorHeartbeat decodes and validates orchestrator/heartbeat.
func DecodeOrchestratorHeartbeat(b []byte) (*OrchestratorHeartbeat, error) {
	return decodeAs[OrchestratorHeartbeat]("orchestrator_heartbeat", b)
}

// DecodeWorld decodes and validates sim/world.
func DecodeWorld(b []byte) (*World, error) { return decodeAs[World]("world", b) }

// Encode validates a message and marshals it. Nothing invalid is ever sent.
func Encode(m Message) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxPayload {
		return nil, fmt.Errorf("encoded payload is %d bytes, over the %d byte limit", len(b), MaxPayload)
	}
	return b, nil
}

// Stamp fills a header: contract version, sender, seq and the UTC time.
func Stamp(sender string, seq uint64, now time.Time) Header {
	return Header{V: Version, Sender: sender, Seq: seq, TS: now.UTC()}
}

func decodeAs[T any, P interface {
	*T
	Message
}](name string, b []byte) (*T, error) {
	var v T
	if err := decodeInto(name, b, P(&v)); err != nil {
		return nil, err
	}
	return &v, nil
}

// decoded counts the payloads decoded, for Decoded.
var decoded atomic.Uint64

// Decoded is how many payloads this process has decoded so far: a
// process that decodes each message once (the orchestrator) can be checked
// for it.
func Decoded() uint64 { return decoded.Load() }

func decodeInto(name string, b []byte, m Message) error {
	decoded.Add(1)
	fail := func(field, format string, args ...any) error {
		return &FieldError{Message: name, Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	if len(b) > MaxPayload {
		return fail("", "payload is %d bytes, over the %d byte limit", len(b), MaxPayload)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return fail("", "payload must be a JSON object")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fail("", "invalid JSON: %v", err)
	}
	if err := required(name, "", reflect.TypeOf(m).Elem(), raw); err != nil {
		return err
	}
	if ts, ok := raw["ts"]; ok {
		var s string
		if json.Unmarshal(ts, &s) != nil {
			return fail("ts", "must be an RFC 3339 time string, got %s", short(ts))
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return fail("ts", "must be an RFC 3339 time, got %q", s)
		}
	}
	if err := json.Unmarshal(b, m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fail(strings.ReplaceAll(te.Field, "Header.", ""), "must be %s, got %s", jsonType(te.Type), te.Value)
		}
		return fail("", "invalid JSON: %v", err)
	}
	utcHeader(m)
	return m.Validate()
}

// utcHeader puts the header's time in UTC. The contract's times are UTC; a
// sender that wrote an offset (+00:00, +01:00) meant the same instant, and
// without this the same message would decode to different values depending
// on how it was written and on the receiver's local zone.
func utcHeader(m Message) {
	v := reflect.ValueOf(m).Elem().FieldByName("Header")
	if !v.IsValid() {
		return
	}
	ts := v.FieldByName("TS")
	ts.Set(reflect.ValueOf(ts.Interface().(time.Time).UTC()))
}

// required checks that every field without omitempty is present and not
// null, recursing into nested objects and arrays of objects.
func required(name, prefix string, t reflect.Type, raw map[string]json.RawMessage) error {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if err := required(name, prefix, f.Type, raw); err != nil {
				return err
			}
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "" || tag == "-" {
			continue
		}
		key, opts, _ := strings.Cut(tag, ",")
		val, present := raw[key]
		if !present || string(val) == "null" {
			if !strings.Contains(opts, "omitempty") {
				return &FieldError{Message: name, Field: prefix + key, Problem: "is required"}
			}
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Time{}):
			var sub map[string]json.RawMessage
			if json.Unmarshal(val, &sub) != nil {
				return &FieldError{Message: name, Field: prefix + key, Problem: "must be an object, got " + short(val)}
			}
			if err := required(name, prefix+key+".", ft, sub); err != nil {
				return err
			}
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			var items []json.RawMessage
			if json.Unmarshal(val, &items) != nil {
				return &FieldError{Message: name, Field: prefix + key, Problem: "must be an array, got " + short(val)}
			}
			for j, it := range items {
				var sub map[string]json.RawMessage
				p := fmt.Sprintf("%s%s[%d]", prefix, key, j)
				if json.Unmarshal(it, &sub) != nil {
					return &FieldError{Message: name, Field: p, Problem: "must be an object, got " + short(it)}
				}
				if err := required(name, p+".", ft.Elem(), sub); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}

func short(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}
