package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"collaborate/internal/testkit"
	"collaborate/topics"
)

// TestRetainedReplayRefused: on an external broker, a robot that set the
// retain flag on messages the contract does not retain (a head-on report,
// a pose) leaves them in mosquitto, which replays them to the orchestrator
// at every start and reconnect as if they were new. The orchestrator
// refuses them, counted by robot and logged; the robot's retained status,
// which the contract does retain, is still taken.
func TestRetainedReplayRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("runs mosquitto and the orchestrator")
	}
	dir := t.TempDir()
	passwords := map[string]string{"orchestrator": "orch-ret-secret", "watch": "watch-ret-secret",
		"r1": "r1-ret-secret", "r2": "r2-ret-secret"}
	m := startMosquittoFor(t, dir, passwords)

	encode := func(msg topics.Message) string {
		b, err := topics.Encode(msg)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	stale := time.Now().Add(-time.Hour)
	for _, p := range []struct{ topic, payload string }{
		{topics.Robot("r1", topics.KindEvents), encode(&topics.Event{Header: topics.Stamp("r1", 7, stale), Kind: topics.EventBlocked, Other: "r2", Face: "front"})},
		{topics.Robot("r1", topics.KindPose), encode(&topics.Pose{Header: topics.Stamp("r1", 8, stale), State: topics.StateMoving})},
		{topics.Robot("r1", topics.KindStatus), encode(&topics.Status{Header: topics.Stamp("r1", 9, stale), State: topics.StateIdle})},
	} {
		if err := mosquittoPub(t, m, "r1", passwords["r1"], p.topic, p.payload, "-r", "-i", "r1"); err != nil {
			t.Fatal(err)
		}
	}

	orchPass := filepath.Join(dir, "orchestrator.pass")
	if err := os.WriteFile(orchPass, []byte(passwords["orchestrator"]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	r := start(t, state, "--broker", m.URL, "--username", "orchestrator",
		"--password-file", orchPass, "--missions", e2eMissions)
	refused := regexp.MustCompile(`(?m)^collaborate_orchestrator_rejects_total\{reason="stale_retained",robot="[^"]*"\} (\d+)$`)
	var body string
	testkit.Eventually(t, wait, "two stale retained messages refused in /metrics", func() bool {
		body = scrapeMetrics(t, r.addrs["http"], "watch", initialPassword(t, state, "watch"))
		n := 0
		for _, m := range refused.FindAllStringSubmatch(body, -1) {
			k, _ := strconv.Atoi(m[1])
			n += k
		}
		return n == 2
	}, func() string { return body })
	logs := r.out.String() + r.errb.String()
	for _, want := range []string{"robots/r1/events", "robots/r1/pose"} {
		logged := false
		for _, line := range strings.Split(logs, "\n") {
			logged = logged || strings.Contains(line, want) && strings.Contains(line, "stale_retained")
		}
		if !logged {
			t.Errorf("no log line names %s as a stale retained message", want)
		}
	}
	if strings.Contains(logs, "head-on") {
		t.Errorf("the orchestrator acted on the replayed head-on report")
	}
	statusIn := regexp.MustCompile(`(?m)^collaborate_orchestrator_messages_in_total\{kind="status"\} [1-9]`)
	testkit.Eventually(t, wait, "r1's retained status taken", func() bool {
		body = scrapeMetrics(t, r.addrs["http"], "watch", initialPassword(t, state, "watch"))
		return statusIn.MatchString(body)
	}, func() string { return body })
}

// scrapeMetrics reads /metrics with basic authentication.
func scrapeMetrics(t *testing.T, httpAddr, user, pass string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+httpAddr+"/metrics", nil)
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics as %s: %d %s", user, resp.StatusCode, b)
	}
	return string(b)
}
