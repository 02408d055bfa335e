package topics_test

import (
	"testing"

	"collaborate/topics"
)

func BenchmarkDecodePose(b *testing.B) {
	p := []byte(validPayloads[topics.KindPose])
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if _, err := topics.DecodePose(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeSightings(b *testing.B) {
	p := []byte(validPayloads[topics.KindSightings])
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if _, err := topics.DecodeSightings(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodePose(b *testing.B) {
	m, err := topics.DecodePose([]byte(validPayloads[topics.KindPose]))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := topics.Encode(m); err != nil {
			b.Fatal(err)
		}
	}
}
