package broker

import (
	"fmt"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"collaborate/internal/testkit"
	"collaborate/topics"
)

// exposition is the registry in the Prometheus text format.
func exposition(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// The drop counters exist from the start, at zero, for each robot account
// and for "none" (other roles) and "other"; a robot's own drops land in its
// series, an observer's in none's. The robot label's values are the
// credentials' robot accounts, no more than MaxRobotLabels, and the two
// others: promtool finds nothing to say.
func TestDropSeries(t *testing.T) {
	needMosquitto(t)
	reg := prometheus.NewRegistry()
	b := startBroker(t, Options{Registerer: reg})
	text := exposition(t, reg)
	for _, line := range []string{
		`collaborate_broker_drops_total{reason="foreign_topic",robot="r1"} 0`,
		`collaborate_broker_drops_total{reason="invalid_payload",robot="r2"} 0`,
		`collaborate_broker_drops_total{reason="read_only",robot="none"} 0`,
		`collaborate_broker_drops_total{reason="unknown_user",robot="other"} 0`,
		`collaborate_broker_refused_connections_total{reason="bad_credentials"} 0`,
	} {
		if !strings.Contains(text, line) {
			t.Errorf("before any drop, /metrics lacks %s", line)
		}
	}

	addr := b.Addrs().TCP
	// r1 writes r2's topic; the observer writes anything.
	if out, err := mosqPub(t, addr, "r1", "r1", "-q", "1", "-t", topics.Robot("r2", topics.KindPose), "-m", string(posePayload(t, "r2", 0))); err != nil {
		t.Fatalf("r1 publish: %v: %s", err, out)
	}
	if out, err := mosqPub(t, addr, "watch", "w", "-q", "1", "-t", topics.Robot("r1", topics.KindPose), "-m", string(posePayload(t, "r1", 0))); err != nil {
		t.Fatalf("watch publish: %v: %s", err, out)
	}
	for _, line := range []string{
		`collaborate_broker_drops_total{reason="foreign_topic",robot="r1"} 1`,
		`collaborate_broker_drops_total{reason="read_only",robot="none"} 1`,
	} {
		testkit.Eventually(t, wait, line, func() bool { return strings.Contains(exposition(t, reg), line) })
	}

	// A robot account added later gets its series with the credentials;
	// more accounts than MaxRobotLabels count as other.
	creds := testCreds(t)
	if err := creds.SetPassword("x0", RoleRobot, []byte("pw")); err != nil {
		t.Fatal(err)
	}
	for i := range MaxRobotLabels + 5 {
		creds.Users = append(creds.Users, User{Name: fmt.Sprintf("y%d", i), Role: RoleRobot, Hash: creds.Users[0].Hash})
	}
	if err := b.SetCredentials(creds); err != nil {
		t.Fatal(err)
	}
	text = exposition(t, reg)
	robots := map[string]bool{}
	for _, l := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(l, "collaborate_broker_drops_total{"); ok {
			i := strings.Index(rest, `robot="`)
			robots[rest[i+7:i+7+strings.Index(rest[i+7:], `"`)]] = true
		}
	}
	if !robots["x0"] {
		t.Error("a robot account added with SetCredentials has no drop series")
	}
	if len(robots) != MaxRobotLabels+2 {
		t.Errorf("%d values of the robot label, want MaxRobotLabels (%d) plus none and other", len(robots), MaxRobotLabels)
	}

	promtool := testkit.RequireTool(t, "promtool", "prometheus")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
