package topics_test

import (
	"reflect"
	"strings"
	"testing"

	"collaborate/topics"
)

// FuzzDecodeMatchesOracle holds the decoder to the decisions of the old
// reflective one (oracle_test.go) on every input: the same accept or
// reject, the same error text, the same decoded value. The first argument
// picks the kind. Plain `go test` runs the seeds; explore with
//
//	go test ./topics -run '^$' -fuzz FuzzDecodeMatchesOracle -fuzztime 5m
func FuzzDecodeMatchesOracle(f *testing.F) {
	for i, k := range allKinds() {
		if oracleNames[k] == "" {
			f.Fatalf("kind %q has no name in oracleNames (oracle_test.go)", k)
		}
		for _, s := range nastySeeds(k) {
			f.Add(uint8(i), []byte(s))
		}
		for _, s := range trickySeeds(k) {
			f.Add(uint8(i), []byte(s))
		}
	}
	kinds := allKinds()
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		k := kinds[int(kind)%len(kinds)]
		want, wantErr := oracleDecode(k, b)
		got, err := topics.Decode(k, b)
		switch {
		case (err == nil) != (wantErr == nil):
			t.Fatalf("%s %q:\n  decoder %v\n  oracle  %v", k, b, err, wantErr)
		case err != nil && err.Error() != wantErr.Error():
			t.Fatalf("%s %q: errors differ:\n  decoder %v\n  oracle  %v", k, b, err, wantErr)
		case err != nil && got != nil:
			t.Fatalf("%s %q: a message with the error %v", k, b, err)
		case err == nil && !reflect.DeepEqual(got, want):
			t.Fatalf("%s %q: values differ:\n  decoder %#v\n  oracle  %#v", k, b, got, want)
		}
		if err != nil {
			return
		}
		// The topic named by the sender, or another robot's.
		for _, robot := range []string{topics.HeaderOf(want).Sender, "r9"} {
			topic := string(k)
			if topics.ValidRobotID(robot) && isRobotKind(k) {
				topic = topics.Robot(robot, k)
			}
			_, _, err := topics.DecodeTopic(topic, b)
			_, _, wantErr := oracleDecodeTopic(topic, b)
			if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
				t.Fatalf("DecodeTopic(%s, %q):\n  decoder %v\n  oracle  %v", topic, b, err, wantErr)
			}
		}
	})
}

func isRobotKind(k topics.Kind) bool {
	for _, r := range topics.RobotKinds {
		if r == k {
			return true
		}
	}
	return false
}

// trickySeeds are payloads where encoding/json's rules are easy to get
// wrong: keys matched without regard to case, given twice, escaped; nulls;
// lists given twice; times written oddly; deep nesting; odd white space.
func trickySeeds(k topics.Kind) []string {
	base := validPayloads[k]
	// with puts members first or last in the object.
	first := func(members string) string { return "{" + members + "," + base[1:] }
	last := func(members string) string { return base[:len(base)-1] + "," + members + "}" }
	ts := func(v string) string { return strings.Replace(base, `"ts":"2026-11-26T23:00:00`, `"ts":"`+v, 1) }
	seeds := []string{
		first(`"SENDER":"r2"`), last(`"SENDER":"r2"`), last(`"Sender":null`), last(`"sender":null`),
		first(`"sender":null`), last(`"sender":"r2"`), last(`"s\u0065nder":"r2"`), last(`"sende\u0072":null`),
		last(`"\u017feq":5`), last(`"SEQ":"x"`), last(`"Seq":-1`), last(`"seq":1.5`),
		last(`"V":2`), last(`"v":null`), first(`"v":null`),
		last(`"TS":"2027-01-01T00:00:00Z"`), last(`"Ts":5`), last(`"tS":"garbage"`), last(`"ts":null`),
		last(`"Ts":{"a":1}`), last(`"Ts":[1]`), last(`"tS":null`), last(`"ts":"2027-01-01T00:00:00Z"`),
		ts(`2026-11-26T23:00:00\u005a"`), ts(`2026-02-29T00:00:00Z"`), ts(`2024-02-29T00:00:00Z"`),
		ts(`2026-04-31T00:00:00Z"`), ts(`2026-11-26T23:00:00.1234567890123Z"`), ts(`2026-11-26T23:00:00,5Z"`),
		ts(`2026-11-26T3:00:00Z"`), ts(`2026-11-26t23:00:00z"`), ts(`2026-11-26T23:00:60Z"`), ts(`2026-11-26T23:00:00+24:00"`),
		ts(`2026-11-26T23:00:00+01:60"`), ts(`2026-11-26T23:00:00.Z"`), ts(`2026-11-26 23:00:00Z"`), ts(`1969-12-31T23:59:59Z"`),
		ts(`2026-11-26T23:00:00\u0000Z"`), ts("2026-11-26T23:00:00\xffZ\""), ts(`+2026-11-26T23:00:00Z"`),
		last(`"x":` + strings.Repeat("[", 9998) + strings.Repeat("]", 9998)),
		last(`"x":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999)),
		last(`"x":` + strings.Repeat(`{"":`, 2000) + "1" + strings.Repeat("}", 2000)),
		last(`"x":"\ud800"`), last(`"x":"\ud800\udc00"`), last("\"x\xff\":\"\xff\""), last(`"x":"\u00"`),
		last(`"x":[1,2,]`), last(`"x":{"a":1,}`), last(`"x":01`), last(`"x":1.`), last(`"x":-`), last(`"x":1e+`),
		last(`"x":tru`), last(`"x":nul`), last(`"x" : [ ] `), last(`"x":{}`), last(`"x":[{}]`),
		"\v" + base, "\u00a0" + base, base + "\u2028", base + "\x00", "\ufeff" + base,
		strings.ReplaceAll(base, ",", " , "), strings.ReplaceAll(base, ":", "\t:\n"),
	}
	switch k {
	case topics.KindPose:
		seeds = append(seeds,
			last(`"Target":null`), last(`"target":null`), last(`"TARGET":7`), last(`"x_m":null`),
			last(`"X_M":1,"x_m":null`), last(`"step":9223372036854775807`), last(`"step":9223372036854775808`),
			last(`"step":-0`), last(`"step":1e2`), last(`"speed_mps":-0`), last(`"speed_mps":1e-400`),
			last(`"State":"fault"`), last(`"state":"\u006doving"`), last(`"state":"moving\u0000"`),
			last(`"theta_rad":3.141592653589793`), last(`"theta_rad":3.1415926535897936`),
		)
	case topics.KindStatus:
		seeds = append(seeds,
			last(`"Faces":{"front":9}`), first(`"Faces":{"front":9}`), last(`"faces":{"front":9}`),
			last(`"FACES":null`), last(`"faces":null`), last(`"faces":5`), last(`"Faces":5`), last(`"faces":[]`),
			last(`"faces":{"front":1,"left":2,"back":3,"right":4,"FRONT":-1}`),
			last(`"faces":{"FRONT":1,"left":2,"back":3,"right":4}`),
			last(`"cmd_seq":18446744073709551615`), last(`"cmd_seq":18446744073709551616`), last(`"epoch":-0`),
		)
	case topics.KindSightings:
		a := `{"id":7,"kind":"arena","distance_m":1,"bearing_rad":0}`
		seeds = append(seeds,
			last(`"SEEN":[`+a+`]`), last(`"Seen":[]`), last(`"Seen":null`), last(`"seen":[null]`), last(`"SEEN":[null]`),
			last(`"seen":[`+a+`,null]`), last(`"Seen":[null,`+a+`]`), last(`"seen":[5]`), last(`"SEEN":[5]`),
			last(`"Seen":[[]]`), last(`"SEEN":{}`), last(`"seen":"x"`), last(`"seen":[{"id":7}]`),
			last(`"SEEN":[{"id":1},{"robot":"r3"},{"id":2,"kind":"face","face":"back"}]`),
			last(`"seen":[{"id":1,"ID":2,"kind":"arena","distance_m":1,"bearing_rad":0}]`),
			last(`"Seen":[{"Robot":"r7","kind":"face"}],"SEEN":[`+a+`,`+a+`]`),
			last(`"heading_rad":null`), last(`"HEADING_RAD":1`),
		)
	case topics.KindCmd:
		seeds = append(seeds,
			last(`"ROUTE":[1]`), last(`"Route":[null,null,null,null]`), last(`"route":[null]`), last(`"route":null`),
			last(`"Route":[]`), last(`"route":[1.5]`), last(`"route":["1"]`), last(`"Route":{}`),
			last(`"park_x_m":1,"park_y_m":null`), last(`"PARK_Y_M":1,"park_x_m":2`),
		)
	case topics.KindFleetMap:
		seeds = append(seeds,
			last(`"roster":[{"robot":"r2","faces":null}]`), last(`"roster":[{"robot":"r2","faces":5}]`),
			last(`"ROSTER":[{"robot":"r2","faces":5}]`), last(`"Roster":[{"faces":{"front":7}}]`),
			last(`"roster":[{"robot":"r2","faces":{"front":1,"left":2,"back":3}}]`),
			last(`"markers":[]`), last(`"Markers":[{"id":5}]`), last(`"markers":[{"id":5,"x_m":0,"y_m":0,"samples":1},{"id":5,"x_m":0,"y_m":0,"samples":1}]`),
		)
	case topics.KindCheckpoint:
		seeds = append(seeds, last(`"final":true`), last(`"FINAL":"yes"`), last(`"final":null`), last(`"Final":1`))
	case topics.KindEvents:
		seeds = append(seeds, last(`"\u212aind":"ack"`), last(`"KIND":null`), last(`"kind":"ack","face":null`))
	}
	return seeds
}
