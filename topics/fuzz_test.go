package topics_test

import (
	"reflect"
	"strings"
	"testing"

	"collaborate/topics"
)

// Each decoder is fuzzed on its own. Seeds: the valid payload of the kind,
// the kind's examples with nasty values, and a few generic horrors; plain
// `go test` runs them, `go test -fuzz FuzzDecodePose` explores. Property: no
// panic, and whatever decodes re-encodes with Encode and decodes again to an
// equal value.

func nastySeeds(k topics.Kind) []string {
	base := validPayloads[k]
	seeds := []string{
		base,
		"", "{", "}", "null", "[]", "{}", `{"v":1}`, "\x00", "\xff\xfe",
		`{"v":1e999}`, `{"v":-0}`, `{"v":1,"v":2}`, `{"V":1,"SENDER":"r1"}`,
		strings.Repeat("[", 10000), strings.Repeat(`{"a":`, 5000),
		`{"ts":"2026-11-26T23:00:00+14:00"}`, `{"ts":"0000-01-01T00:00:00Z"}`,
		strings.Replace(base, `"ts":"2026-11-26T23:00:00`, `"ts":"9999-12-31T23:59:59.999999999+23:59`, 1),
		strings.Replace(base, `"v":1`, `"v":1,"ts":null`, 1),
		// Offsets: the same instant written another way decodes to the same value.
		strings.Replace(base, `:00Z"`, `:00+00:00"`, 1),
		strings.Replace(base, `:00Z"`, `:00-07:30"`, 1),
		strings.Replace(base, `:00Z"`, `:00.123456789+01:00"`, 1),
		strings.Replace(base, `"sender":"`, `"sender":"\u0000`, 1),
		strings.Replace(base, `"seq":`, `"seq":18446744073709551615,"x":`, 1),
		base + " ",
		" \t\n" + base,
		mutate(base, "unknown", `{"deep":[[[[{}]]]]}`),
	}
	for _, f := range []string{"distance_m", "bearing_rad", "speed_mps", "theta_rad", "x_m", "diameter_m", "scale", "sim_time_s", "backoff_m", "stop_m", "park_x_m", "park_y_m"} {
		if strings.Contains(base, `"`+f+`"`) {
			for _, v := range []string{"-0", "1e999", "-1e-400", "4e-324", "1.7976931348623157e308", `"NaN"`, "null"} {
				seeds = append(seeds, mutate(base, f, v))
			}
		}
	}
	return seeds
}

func fuzzDecoder[T any, P interface {
	*T
	topics.Message
}](f *testing.F, k topics.Kind, dec func([]byte) (*T, error)) {
	for _, s := range nastySeeds(k) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := dec(b)
		if err != nil {
			if m != nil {
				t.Fatalf("decoder returned a message with error %v", err)
			}
			if !strings.Contains(err.Error(), ": ") {
				t.Fatalf("error %q does not name its message", err)
			}
			return
		}
		enc, err := topics.Encode(P(m))
		if err != nil {
			t.Fatalf("decoded %q but Encode refuses it: %v", b, err)
		}
		again, err := dec(enc)
		if err != nil {
			t.Fatalf("Encode output does not decode: %v\nin:  %q\nout: %s", err, b, enc)
		}
		// An empty optional list is left out on the wire and comes back
		// nil: the same message.
		nilEmptySlices(reflect.ValueOf(m))
		nilEmptySlices(reflect.ValueOf(again))
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip changed the value:\nin:    %q\nfirst: %#v\nagain: %#v", b, m, again)
		}
		generic, err := topics.Decode(k, b)
		if err == nil {
			nilEmptySlices(reflect.ValueOf(generic))
		}
		if err != nil || !reflect.DeepEqual(generic, P(m)) {
			t.Fatalf("Decode disagrees with the typed decoder: %v", err)
		}
	})
}

// nilEmptySlices sets every empty slice reachable from v to nil, in place.
func nilEmptySlices(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			nilEmptySlices(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				nilEmptySlices(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			if v.CanSet() {
				v.SetZero()
			}
			return
		}
		for i := 0; i < v.Len(); i++ {
			nilEmptySlices(v.Index(i))
		}
	}
}

func FuzzDecodeStatus(f *testing.F)    { fuzzDecoder(f, topics.KindStatus, topics.DecodeStatus) }
func FuzzDecodePose(f *testing.F)      { fuzzDecoder(f, topics.KindPose, topics.DecodePose) }
func FuzzDecodeSightings(f *testing.F) { fuzzDecoder(f, topics.KindSightings, topics.DecodeSightings) }
func FuzzDecodeCheckpoint(f *testing.F) {
	fuzzDecoder(f, topics.KindCheckpoint, topics.DecodeCheckpoint)
}
func FuzzDecodeEvent(f *testing.F)     { fuzzDecoder(f, topics.KindEvents, topics.DecodeEvent) }
func FuzzDecodeHeartbeat(f *testing.F) { fuzzDecoder(f, topics.KindHeartbeat, topics.DecodeHeartbeat) }
func FuzzDecodeDirective(f *testing.F) { fuzzDecoder(f, topics.KindCmd, topics.DecodeDirective) }
func FuzzDecodeFleetCommand(f *testing.F) {
	fuzzDecoder(f, topics.KindFleetCmd, topics.DecodeFleetCommand)
}
func FuzzDecodeFleetMap(f *testing.F) { fuzzDecoder(f, topics.KindFleetMap, topics.DecodeFleetMap) }
func FuzzDecodeOrchestratorState(f *testing.F) {
	fuzzDecoder(f, topics.KindOrchestratorStatus, topics.DecodeOrchestratorState)
}
func FuzzDecodeOrchestratorHeartbeat(f *testing.F) {
	fuzzDecoder(f, topics.KindOrchestratorHeartbeat, topics.DecodeOrchestratorHeartbeat)
}
func FuzzDecodeWorld(f *testing.F) { fuzzDecoder(f, topics.KindSimWorld, topics.DecodeWorld) }

// Every decoder in decode.go has its fuzzer above: a new Decode* without a
// Fuzz* fails here.
func TestEveryDecoderIsFuzzed(t *testing.T) {
	src, err := readFile("decode.go")
	if err != nil {
		t.Fatal(err)
	}
	self, err := readFile("fuzz_test.go")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(src, "\n") {
		name, ok := strings.CutPrefix(line, "func Decode")
		if !ok {
			continue
		}
		name = name[:strings.IndexAny(name, "(")]
		if name == "" || name == "Topic" {
			continue // Decode and DecodeTopic dispatch to the typed ones
		}
		n++
		if !strings.Contains(self, "func FuzzDecode"+name+"(f *testing.F)") {
			t.Errorf("Decode%s has no FuzzDecode%s", name, name)
		}
	}
	if n != len(allKinds()) {
		t.Errorf("decode.go has %d typed decoders, the contract %d kinds", n, len(allKinds()))
	}
}
