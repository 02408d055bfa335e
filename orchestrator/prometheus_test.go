package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"collaborate/internal/testkit"
)

// TestPrometheusScrape: the scrape configuration in deploy/prometheus.yml
// passes promtool, and a real Prometheus using it (target, password file
// and CA pointed at a running orchestrator with TLS) scrapes /metrics: the
// target is up. The same job without the password is refused (401), so the
// login is what lets it in.
func TestPrometheusScrape(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	promtool := testkit.RequireTool(t, "promtool", "prometheus")
	prom := testkit.RequireTool(t, "prometheus", "prometheus")
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	r := start(t, state, "--tls-addr", "127.0.0.1:0")
	pwFile := filepath.Join(dir, "watch.password")
	if err := os.WriteFile(pwFile, []byte(initialPassword(t, state, "watch")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	b, err := os.ReadFile("../deploy/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	var conf map[string]any
	if err := yaml.Unmarshal(b, &conf); err != nil {
		t.Fatalf("deploy/prometheus.yml: %v", err)
	}
	conf["global"] = map[string]any{"scrape_interval": "1s", "scrape_timeout": "1s"}
	jobs := conf["scrape_configs"].([]any)
	job := jobs[0].(map[string]any)
	job["basic_auth"].(map[string]any)["password_file"] = pwFile
	job["tls_config"].(map[string]any)["ca_file"] = filepath.Join(state, "tls", "ca.crt")
	_, port, _ := strings.Cut(r.addrs["https"], ":")
	job["static_configs"] = []any{map[string]any{"targets": []any{"localhost:" + port}}}
	// The control: the same job, no password.
	anon := map[string]any{}
	for k, v := range job {
		anon[k] = v
	}
	anon["job_name"] = "no-password"
	delete(anon, "basic_auth")
	conf["scrape_configs"] = []any{job, anon}
	out, err := yaml.Marshal(conf)
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, out, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "config", cfgFile).CombinedOutput(); err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}

	web := testkit.FreeAddr(t)
	p := testkit.Start(t, dir, "prometheus", prom, "--config.file="+cfgFile, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+web)
	type target struct {
		Labels    map[string]string `json:"labels"`
		Health    string            `json:"health"`
		LastError string            `json:"lastError"`
	}
	health := map[string]target{}
	testkit.Eventually(t, 60*time.Second, "both jobs scraped", func() bool {
		resp, err := http.Get("http://" + web + "/api/v1/targets")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var v struct {
			Data struct {
				ActiveTargets []target `json:"activeTargets"`
			} `json:"data"`
		}
		if json.NewDecoder(resp.Body).Decode(&v) != nil {
			return false
		}
		for _, tg := range v.Data.ActiveTargets {
			if tg.Health != "unknown" {
				health[tg.Labels["job"]] = tg
			}
		}
		return len(health) == 2
	}, func() string {
		return fmt.Sprintf("targets %+v\nprometheus:\n%s", health, testkit.Tail(p.Err.String(), 20))
	})
	if h := health["collaborate"]; h.Health != "up" {
		t.Errorf("the job of deploy/prometheus.yml: %+v, want up", h)
	}
	if h := health["no-password"]; h.Health != "down" || !strings.Contains(h.LastError, "401") {
		t.Errorf("the job without a password: %+v, want down with a 401", h)
	}
}
