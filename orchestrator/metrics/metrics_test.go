package metrics_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"collaborate/orchestrator/metrics"
	"collaborate/topics"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("scrape body: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape status %d: %s", resp.StatusCode, b)
	}
	return string(b)
}

func TestValues(t *testing.T) {
	m := metrics.New()
	for range 3 {
		m.MessageIn(topics.KindPose)
	}
	m.MessageIn(metrics.KindOf("robots/r1/checkpoint"))
	m.MessageIn(metrics.KindOf("not/a/topic"))
	m.MessageOut(topics.KindCmd)
	m.MessageOut(topics.KindFleetMap)
	m.Reject("pose")
	m.Reject("pose")
	m.SetOnline(4)
	m.HoldStarted()
	m.HoldStarted()
	m.HoldEnded(3 * time.Second)
	m.HoldEnded(-time.Second) // clock stepped back: counted as 0
	m.HoldLatency(20 * time.Millisecond)
	m.Checkpoint()
	m.SetCollisions(2)
	text := scrape(t, m)
	p := metrics.Namespace + "_"
	tests := []struct{ name, line string }{
		{"pose in", p + `messages_in_total{kind="pose"} 3`},
		{"checkpoint in by topic", p + `messages_in_total{kind="checkpoint"} 1`},
		{"unknown topic", p + `messages_in_total{kind="other"} 1`},
		{"fixed kind out", p + `messages_out_total{kind="fleet/map"} 1`},
		{"cmd out", p + `messages_out_total{kind="cmd"} 1`},
		{"rejects", p + `rejects_total{reason="pose"} 2`},
		{"online", p + `robots_online 4`},
		{"holds", p + `holds_issued_total 2`},
		{"released", p + `holds_released_total 2`},
		{"hold duration count", p + `hold_duration_seconds_count 2`},
		{"hold duration sum", p + `hold_duration_seconds_sum 3`},
		{"hold duration zero bucket", p + `hold_duration_seconds_bucket{le="0.1"} 1`},
		{"latency bucket", p + `hold_reaction_seconds_bucket{le="0.025"} 1`},
		{"latency below", p + `hold_reaction_seconds_bucket{le="0.01"} 0`},
		{"checkpoints", p + `checkpoints_total 1`},
		{"collisions", p + `sim_collisions 2`},
		{"go runtime", "go_goroutines "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(text, tc.line) {
				t.Errorf("scrape lacks %q", tc.line)
			}
		})
	}
}

func TestRejectReasonsBounded(t *testing.T) {
	m := metrics.New()
	for i := range metrics.MaxReasons + 10 {
		m.Reject(fmt.Sprintf("r%d", i))
	}
	text := scrape(t, m)
	n := strings.Count(text, metrics.Namespace+"_rejects_total{")
	if n != metrics.MaxReasons+1 {
		t.Errorf("got %d reason series, want %d (MaxReasons plus other)", n, metrics.MaxReasons+1)
	}
	if !strings.Contains(text, metrics.Namespace+`_rejects_total{reason="other"} 10`) {
		t.Errorf("the overflow reasons should count as other")
	}
}

// TestPromtool validates the exposition with Prometheus' own linter.
func TestPromtool(t *testing.T) {
	tool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("COLLABORATE_REQUIRE_TOOLS") == "1" {
			t.Fatalf("promtool not found and COLLABORATE_REQUIRE_TOOLS=1: install Debian's prometheus package")
		}
		t.Skip("promtool not found (Debian package prometheus); set COLLABORATE_REQUIRE_TOOLS=1 to fail instead")
	}
	m := metrics.New()
	m.MessageIn(topics.KindPose)
	m.Reject("checkpoint")
	m.HoldEnded(time.Second)
	m.HoldLatency(time.Millisecond)
	text := scrape(t, m)
	cmd := exec.Command(tool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out.String())
	}
	if out.Len() > 0 {
		t.Errorf("promtool check metrics found problems:\n%s", out.String())
	}
}

func BenchmarkMessageIn(b *testing.B) {
	m := metrics.New()
	b.ReportAllocs()
	for b.Loop() {
		m.MessageIn(topics.KindPose)
	}
}

func TestNewOn(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.NewOn(reg)
	if err != nil {
		t.Fatalf("NewOn: %v", err)
	}
	m.SetOnline(3)
	if !strings.Contains(scrape(t, m), metrics.Namespace+"_robots_online 3") {
		t.Error("NewOn's handler lacks the gauge")
	}
	if _, err := metrics.NewOn(reg); err == nil {
		t.Error("registering twice on one registry must fail")
	}
}

func TestObserve(t *testing.T) {
	m := metrics.New()
	world, err := topics.Encode(&topics.World{Header: topics.Stamp("sim", 1, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)), DiameterM: 3, Collisions: 5})
	if err != nil {
		t.Fatal(err)
	}
	w, err := topics.DecodeWorld(world)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		kind topics.Kind
		msg  topics.Message
		line string
	}{
		{"world sets collisions", topics.KindSimWorld, w, metrics.Namespace + "_sim_collisions 5"},
		{"world counted", topics.KindSimWorld, w, metrics.Namespace + `_messages_in_total{kind="sim/world"} 2`},
		{"pose counted", topics.KindPose, &topics.Pose{}, metrics.Namespace + `_messages_in_total{kind="pose"} 1`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m.Observe(tc.kind, tc.msg)
			if text := scrape(t, m); !strings.Contains(text, tc.line) {
				t.Errorf("scrape lacks %q", tc.line)
			}
		})
	}
}
