package topics_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"collaborate/topics"
)

// The oracle is the reflective decoder that topics shipped before its
// single-pass decoder: two encoding/json passes over the payload, with
// reflection for the required fields. It is kept here, and only here, to
// hold the new decoder to the same decisions (FuzzDecodeMatchesOracle).

var oracleNames = map[topics.Kind]string{
	topics.KindStatus:                "status",
	topics.KindPose:                  "pose",
	topics.KindSightings:             "sightings",
	topics.KindCheckpoint:            "checkpoint",
	topics.KindEvents:                "event",
	topics.KindHeartbeat:             "heartbeat",
	topics.KindCmd:                   "directive",
	topics.KindFleetCmd:              "fleet_cmd",
	topics.KindFleetMap:              "fleet_map",
	topics.KindOrchestratorStatus:    "orchestrator_status",
	topics.KindOrchestratorHeartbeat: "orchestrator_heartbeat",
	topics.KindSimWorld:              "world",
}

// oracleDecode is the old topics.Decode.
func oracleDecode(k topics.Kind, payload []byte) (topics.Message, error) {
	m, err := topics.New(k)
	if err != nil {
		return nil, err
	}
	if err := oracleDecodeInto(oracleNames[k], payload, m); err != nil {
		return nil, err
	}
	return m, nil
}

// oracleDecodeTopic is the old topics.DecodeTopic.
func oracleDecodeTopic(topic string, payload []byte) (topics.Topic, topics.Message, error) {
	t, err := topics.Parse(topic)
	if err != nil {
		return t, nil, err
	}
	m, err := oracleDecode(t.Kind, payload)
	if err != nil {
		return t, nil, err
	}
	if t.Robot != "" && t.Kind != topics.KindCmd {
		h := reflect.ValueOf(m).Elem().FieldByName("Header").Interface().(topics.Header)
		if s := h.Sender; s != t.Robot {
			return t, nil, &topics.FieldError{Message: oracleNames[t.Kind], Field: "sender",
				Problem: fmt.Sprintf("must be the topic's robot %q, got %q", t.Robot, s)}
		}
	}
	return t, m, nil
}

func oracleDecodeInto(name string, b []byte, m topics.Message) error {
	fail := func(field, format string, args ...any) error {
		return &topics.FieldError{Message: name, Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	if len(b) > topics.MaxPayload {
		return fail("", "payload is %d bytes, over the %d byte limit", len(b), topics.MaxPayload)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return fail("", "payload must be a JSON object")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fail("", "invalid JSON: %v", err)
	}
	if err := oracleRequired(name, "", reflect.TypeOf(m).Elem(), raw); err != nil {
		return err
	}
	if ts, ok := raw["ts"]; ok {
		var s string
		if json.Unmarshal(ts, &s) != nil {
			return fail("ts", "must be an RFC 3339 time string, got %s", oracleShort(ts))
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return fail("ts", "must be an RFC 3339 time, got %q", s)
		}
	}
	if err := json.Unmarshal(b, m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fail(strings.ReplaceAll(te.Field, "Header.", ""), "must be %s, got %s", oracleJSONType(te.Type), te.Value)
		}
		return fail("", "invalid JSON: %v", err)
	}
	oracleUTCHeader(m)
	return m.Validate()
}

// oracleUTCHeader puts the header's time in UTC. The contract's times are UTC; a
// sender that wrote an offset (+00:00, +01:00) meant the same instant, and
// without this the same message would decode to different values depending
// on how it was written and on the receiver's local zone.
func oracleUTCHeader(m topics.Message) {
	v := reflect.ValueOf(m).Elem().FieldByName("Header")
	if !v.IsValid() {
		return
	}
	ts := v.FieldByName("TS")
	ts.Set(reflect.ValueOf(ts.Interface().(time.Time).UTC()))
}

// oracleRequired checks that every field without omitempty is present and not
// null, recursing into nested objects and arrays of objects.
func oracleRequired(name, prefix string, t reflect.Type, raw map[string]json.RawMessage) error {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if err := oracleRequired(name, prefix, f.Type, raw); err != nil {
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
				return &topics.FieldError{Message: name, Field: prefix + key, Problem: "is required"}
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
				return &topics.FieldError{Message: name, Field: prefix + key, Problem: "must be an object, got " + oracleShort(val)}
			}
			if err := oracleRequired(name, prefix+key+".", ft, sub); err != nil {
				return err
			}
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			var items []json.RawMessage
			if json.Unmarshal(val, &items) != nil {
				return &topics.FieldError{Message: name, Field: prefix + key, Problem: "must be an array, got " + oracleShort(val)}
			}
			for j, it := range items {
				var sub map[string]json.RawMessage
				p := fmt.Sprintf("%s%s[%d]", prefix, key, j)
				if json.Unmarshal(it, &sub) != nil {
					return &topics.FieldError{Message: name, Field: p, Problem: "must be an object, got " + oracleShort(it)}
				}
				if err := oracleRequired(name, p+".", ft.Elem(), sub); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func oracleJSONType(t reflect.Type) string {
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

func oracleShort(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}
