package metrics_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"collaborate/internal/testkit"
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
		{"rejects", p + `rejects_total{reason="pose",robot="none"} 2`},
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
	reasons := labelValues(text, metrics.Namespace+"_rejects_total{", "reason")
	if len(reasons) != metrics.MaxReasons || !reasons[metrics.OtherLabel] {
		t.Errorf("got %d reasons, want MaxReasons (%d), other among them", len(reasons), metrics.MaxReasons)
	}
	if !strings.Contains(text, metrics.Namespace+`_rejects_total{reason="other",robot="none"}`) {
		t.Errorf("the overflow reasons should count as other")
	}
}

// labelValues collects the values of label in the series of a metric.
func labelValues(text, prefix, label string) map[string]bool {
	out := map[string]bool{}
	for _, l := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(l, prefix)
		if !ok {
			continue
		}
		i := strings.Index(rest, label+`="`)
		if i < 0 {
			continue
		}
		v := rest[i+len(label)+2:]
		out[v[:strings.Index(v, `"`)]] = true
	}
	return out
}

// Every reject series exists from the start, at zero: a robot account's
// for each kind it publishes, once SetRobots named it, and the others'.
// A robot's rejects land in its own series, an unknown robot's in other's.
func TestRejectSeriesFromTheStart(t *testing.T) {
	m := metrics.New()
	m.SetRobots([]string{"r1", "r2"})
	p := metrics.Namespace + "_rejects_total"
	text := scrape(t, m)
	for _, line := range []string{
		p + `{reason="core_checkpoint",robot="r1"} 0`,
		p + `{reason="core_pose",robot="r2"} 0`,
		p + `{reason="core_status",robot="other"} 0`,
		p + `{reason="login",robot="none"} 0`,
		p + `{reason="invalid_outgoing",robot="none"} 0`,
	} {
		if !strings.Contains(text, line) {
			t.Errorf("before any reject, /metrics lacks %s", line)
		}
	}
	m.RejectRobot(metrics.CoreReason(topics.KindCheckpoint), "r1")
	m.RejectRobot(metrics.CoreReason(topics.KindCheckpoint), "r9")
	text = scrape(t, m)
	for _, line := range []string{
		p + `{reason="core_checkpoint",robot="r1"} 1`,
		p + `{reason="core_checkpoint",robot="other"} 1`,
		p + `{reason="core_checkpoint",robot="r2"} 0`,
	} {
		if !strings.Contains(text, line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}

// The robot label's values are bounded: at most MaxRobots robot accounts,
// plus other and none.
func TestRejectRobotsBounded(t *testing.T) {
	m := metrics.New()
	var ids []string
	for i := range metrics.MaxRobots + 20 {
		ids = append(ids, fmt.Sprintf("r%d", i))
	}
	m.SetRobots(ids)
	for _, id := range ids {
		m.RejectRobot(metrics.CoreReason(topics.KindPose), id)
	}
	robots := labelValues(scrape(t, m), metrics.Namespace+"_rejects_total{", "robot")
	if len(robots) != metrics.MaxRobots+2 {
		t.Errorf("%d values of the robot label, want MaxRobots (%d) plus other and none", len(robots), metrics.MaxRobots)
	}
}

// TestPromtool validates the exposition with Prometheus' own linter.
func TestPromtool(t *testing.T) {
	tool := testkit.RequireTool(t, "promtool", "prometheus")
	m := metrics.New()
	m.SetRobots([]string{"r1", "r2"})
	m.MessageIn(topics.KindPose)
	m.Reject("checkpoint")
	m.RejectRobot(metrics.CoreReason(topics.KindPose), "r1")
	m.RejectRobot(metrics.CoreReason(topics.KindPose), "stranger")
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
