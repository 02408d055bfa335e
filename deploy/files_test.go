package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"collaborate/internal/testkit"
)

// compose is the part of `docker-compose config` output these tests read:
// the services as the fake engine reads them, and the named volumes.
type compose struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

func composeConfig(t *testing.T, env []string, args ...string) compose {
	t.Helper()
	testkit.RequireTool(t, "docker-compose", "docker-compose")
	cmd := exec.Command("docker-compose", append([]string{"-f", "../docker-compose.yml"}, append(args, "config")...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker-compose %v config: %v\n%s", args, err, out)
	}
	var c compose
	if err := yaml.Unmarshal(out, &c); err != nil {
		t.Fatalf("parse docker-compose config output: %v\n%s", err, out)
	}
	return c
}

func TestCompose(t *testing.T) {
	c := composeConfig(t, nil)
	o, ok := c.Services["orchestrator"]
	if !ok {
		t.Fatalf("no orchestrator service: %+v", c.Services)
	}
	if o.Build == nil || o.Build.Dockerfile != "deploy/Dockerfile" {
		t.Errorf("orchestrator build = %+v, want deploy/Dockerfile", o.Build)
	}
	var ports []int
	for _, p := range o.Ports {
		if p.Published != p.Target {
			t.Errorf("port %d published as %d", p.Target, p.Published)
		}
		ports = append(ports, p.Target)
	}
	slices.Sort(ports)
	if !slices.Equal(ports, []int{1883, 8080, 8883}) {
		t.Errorf("ports %v, want 1883 8080 8883", ports)
	}
	if !slices.Contains(o.Volumes, "state:/state:rw") {
		t.Errorf("volumes %v lack the named state volume on /state", o.Volumes)
	}
	if !slices.ContainsFunc(o.Volumes, func(v string) bool { return strings.HasSuffix(v, "/deploy/config:/config:ro") }) {
		t.Errorf("volumes %v lack deploy/config mounted read-only on /config", o.Volumes)
	}
	if _, ok := c.Volumes["state"]; !ok {
		t.Errorf("no named volume state: %v", c.Volumes)
	}
	if !slices.Contains(o.Command, "--tls-addr=:8883") {
		t.Errorf("command %v does not listen with TLS on 8883", o.Command)
	}
	for _, arg := range o.Command {
		// A fresh clone has no certificate and no credentials file: the
		// orchestrator finds yours in /config, else makes its own in /state.
		if strings.HasPrefix(arg, "--tls-cert") || strings.HasPrefix(arg, "--credentials") {
			t.Errorf("command %v names %s: a fresh clone has no such file", o.Command, arg)
		}
	}
	if len(o.Profiles) != 0 {
		t.Errorf("the orchestrator has profiles %v: plain `up` would not start it", o.Profiles)
	}
	s, ok := c.Services["sim"]
	if !ok || !slices.Contains(s.Profiles, "sim") {
		t.Fatalf("no sim service in profile sim: %+v", s)
	}
	if !slices.Contains(s.Command, "--sim=4") {
		t.Errorf("sim command %v, want --sim=4", s.Command)
	}
	if s.Image != o.Image {
		t.Errorf("sim image %q, want the orchestrator's %q", s.Image, o.Image)
	}

	// docker-compose is slow to start, so one more run covers the profile
	// and both variables.
	t.Run("profile sim, TLS_ADDR= turns TLS off, SIM_ROBOTS sets the fleet", func(t *testing.T) {
		c := composeConfig(t, []string{"TLS_ADDR=", "SIM_ROBOTS=7"}, "--profile", "sim")
		if cmd := c.Services["orchestrator"].Command; !slices.Contains(cmd, "--tls-addr=") {
			t.Errorf("command %v, want an empty --tls-addr", cmd)
		}
		if cmd := c.Services["sim"].Command; !slices.Contains(cmd, "--sim=7") {
			t.Errorf("sim command %v, want --sim=7", cmd)
		}
	})
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{
		"CGO_ENABLED=0",
		"./orchestrator",
		"USER 65532:65532",
		`VOLUME ["/state"]`,
		"EXPOSE 1883 8883 8080",
		"ENV COLLABORATE_STATE_DIR=/state COLLABORATE_CONFIG_DIR=/config",
		`ENTRYPOINT ["/usr/local/bin/orchestrator"]`,
		"-trimpath",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if n := strings.Count(df, "\nFROM "); n < 2 {
		t.Errorf("Dockerfile has %d stages, want a multi-stage build", n)
	}
}

func TestRobotUnit(t *testing.T) {
	b, err := os.ReadFile("robot.service")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = append(keys[k], v)
		}
	}
	for k, want := range map[string]string{
		"Restart":             "always",
		"User":                "robot",
		"SupplementaryGroups": "gpio video",
		"ExecStart":           "/usr/local/bin/robot --config /etc/collaborate/robot.yaml --hw pi",
		"ExecStopPost":        "-/usr/local/bin/robot halt --config /etc/collaborate/robot.yaml",
		"KillSignal":          "SIGTERM",
		"Type":                "notify",
		"NotifyAccess":        "main",
		"WatchdogSec":         "2s",
	} {
		if got := keys[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	analyze := testkit.RequireTool(t, "systemd-analyze", "systemd")
	// The binary is not installed here: point the commands at one that is.
	unit := filepath.Join(t.TempDir(), "robot.service")
	if err := os.WriteFile(unit, []byte(strings.ReplaceAll(string(b), "/usr/local/bin/robot", "/bin/true")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", unit).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
