package topics_test

import (
	"testing"

	"collaborate/topics"
)

// benchKinds are the payloads the orchestrator sees most, and sightings, the
// largest a robot sends often.
var benchKinds = []topics.Kind{topics.KindPose, topics.KindStatus, topics.KindCheckpoint, topics.KindSightings}

// BenchmarkDecode decodes and validates one payload of each kind:
//
//	go test ./topics -run '^$' -bench Decode -benchmem -count 6
func BenchmarkDecode(b *testing.B) {
	for _, k := range benchKinds {
		b.Run(string(k), func(b *testing.B) {
			p := []byte(validPayloads[k])
			b.SetBytes(int64(len(p)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := topics.Decode(k, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeTopic is what the broker's guard and the orchestrator pay
// per robot pose: the topic parsed, the payload decoded, the sender checked.
func BenchmarkDecodeTopic(b *testing.B) {
	p := []byte(validPayloads[topics.KindPose])
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := topics.DecodeTopic("robots/r1/pose", p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, k := range benchKinds {
		b.Run(string(k), func(b *testing.B) {
			m, err := topics.Decode(k, []byte(validPayloads[k]))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := topics.Encode(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
