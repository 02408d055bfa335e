package enroll_test

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"collaborate/deploy"
	"collaborate/orchestrator/enroll"
)

func TestAssign(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	r := &enroll.Registry{Robots: map[string]enroll.Robot{}}
	steps := []struct {
		id   string
		want int
	}{
		{"r2", 104},       // its conventional block
		{"r1", 100},       // same
		{"scout", 108},    // no number: the lowest free block
		{"r3", 112},       // 108 is taken by scout: the lowest free
		{"r2", 104},       // again: what it has
		{"r10", 136},      // 100+4*9
		{"r0", 116},       // not rN with N >= 1: the lowest free
		{"r9999999", 120}, // out of range: the lowest free
		{"arm-7", 124},    //
		{"r4", 128},       // 112 taken
		{"tank", 132},     //
		{"r11", 140},      //
		{"r12", 144},      //
		{"r13", 148},      // conventional
		{"last-one", -1},  // range 100..151 full
	}
	for _, s := range steps {
		got, err := r.Assign(s.id, 100, 151, now)
		if s.want < 0 {
			if err == nil || !strings.Contains(err.Error(), "no four free") {
				t.Errorf("Assign(%s) = %d, %v; want a full-range error", s.id, got, err)
			}
			continue
		}
		if err != nil || got != s.want {
			t.Errorf("Assign(%s) = %d, %v; want %d", s.id, got, err, s.want)
		}
	}
	seen := map[int]string{}
	for id, rb := range r.Robots {
		for f := rb.FaceBase; f < rb.FaceBase+4; f++ {
			if other, ok := seen[f]; ok {
				t.Errorf("%s and %s both carry marker %d", id, other, f)
			}
			seen[f] = id
		}
	}
}

func TestRenderConfig(t *testing.T) {
	v := enroll.Values{ID: "r5", Broker: "tls://192.168.4.20:8883", TLSCA: "/etc/collaborate/ca.crt",
		PasswordFile: "/etc/collaborate/password", FaceBase: 116}
	out, err := enroll.RenderConfig(deploy.RobotExample, v)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := yaml.Unmarshal(out, &c); err != nil {
		t.Fatal(err)
	}
	if c["id"] != "r5" || c["broker"] != v.Broker || c["face_base"] != 116 || c["tls_ca"] != v.TLSCA {
		t.Errorf("rendered %v", c)
	}
	exLines, outLines := strings.Split(string(deploy.RobotExample), "\n"), strings.Split(string(out), "\n")
	if len(exLines) != len(outLines) {
		t.Fatalf("%d lines, the example has %d", len(outLines), len(exLines))
	}
	changed := 0
	for i := range exLines {
		if exLines[i] == outLines[i] {
			continue
		}
		changed++
		if _, comment, ok := strings.Cut(exLines[i], " #"); ok && !strings.HasSuffix(outLines[i], comment) {
			t.Errorf("line %d lost its comment:\n%s\n%s", i+1, exLines[i], outLines[i])
		}
		if a, b := strings.Index(exLines[i], " #"), strings.Index(outLines[i], " #"); a >= 0 && a != b && len(outLines[i][:max(b, 0)]) < a {
			t.Errorf("line %d: comment moved from column %d to %d", i+1, a, b)
		}
	}
	if changed > 5 {
		t.Errorf("%d lines changed, want at most the 5 keys", changed)
	}
	plain, err := enroll.RenderConfig(deploy.RobotExample, enroll.Values{ID: "r6", Broker: "tcp://laptop:1883", FaceBase: 120})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(plain), "\ntls_ca: \"\"") {
		t.Errorf("plain MQTT: tls_ca not emptied:\n%s", plain)
	}
	if _, err := enroll.RenderConfig([]byte("id: r1\n"), v); err == nil || !strings.Contains(err.Error(), "broker") {
		t.Errorf("a template without broker: %v", err)
	}
}

func TestFaceRange(t *testing.T) {
	first, last, err := enroll.FaceRange(deploy.RobotExample)
	if err != nil || first != 100 || last != 249 {
		t.Errorf("FaceRange(example) = %d, %d, %v; want 100, 249", first, last, err)
	}
	if _, _, err := enroll.FaceRange([]byte("vision: {markers: {face: {first: 100, last: 101}}}")); err == nil {
		t.Error("a range of two ids was accepted")
	}
}
