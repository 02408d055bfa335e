package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"collaborate/internal/testkit"
)

// TestNATSAuth: nats-auth writes every user of both credentials layers
// with its bcrypt hash and the permissions of its role, in a file
// nats-server accepts; names NATS could misread are refused.
func TestNATSAuth(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials.yaml")
	for _, u := range [][2]string{{"orchestrator", "orchestrator"}, {"robot", "r1"}, {"observer", "watch"}, {"operator", "alice"}} {
		if out, err := passwd(t, "pw-"+u[1]+"\n", "--credentials", creds, "--role", u[0], u[1]); err != nil {
			t.Fatalf("%v %s", err, out)
		}
	}
	var out, errb strings.Builder
	if err := run(t.Context(), []string{"nats-auth", "--credentials", creds}, environ{stateDir: dir}, strings.NewReader(""), &out, &errb); err != nil {
		t.Fatalf("nats-auth: %v %s", err, errb.String())
	}
	conf := out.String()
	for _, want := range []string{
		`{user: "r1", password: "$2a$`,
		`publish: {allow: ["robots.r1.status", "robots.r1.pose", "robots.r1.sightings", "robots.r1.checkpoint", "robots.r1.events", "robots.r1.heartbeat"]}`,
		`subscribe: {allow: ["robots.r1.cmd", "fleet.>", "orchestrator.status", "orchestrator.heartbeat", "$MQTT.sub.>"]}`,
		`{user: "watch"`, `{user: "alice"`, `publish: {deny: [">"]}`,
		`{user: "orchestrator"`, `allowed_connection_types: ["MQTT"]`,
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("nats-auth output lacks %q:\n%s", want, conf)
		}
	}
	if strings.Contains(conf, "pw-") {
		t.Error("nats-auth wrote a password in clear")
	}
	t.Run("nats-server accepts it", func(t *testing.T) {
		bin := testkit.RequireTool(t, "nats-server", "nats-server")
		if err := os.WriteFile(filepath.Join(dir, "auth.conf"), []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		main := filepath.Join(dir, "nats.conf")
		if err := os.WriteFile(main, []byte("listen: 127.0.0.1:-1\ninclude auth.conf\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(bin, "-c", main, "-t").CombinedOutput(); err != nil {
			t.Fatalf("nats-server -t: %v\n%s", err, out)
		}
	})
	t.Run("no users", func(t *testing.T) {
		err := run(t.Context(), []string{"nats-auth", "--credentials", filepath.Join(dir, "none.yaml")}, environ{stateDir: dir}, strings.NewReader(""), &out, &errb)
		if err == nil || !strings.Contains(err.Error(), "no users") {
			t.Errorf("nats-auth without users: %v", err)
		}
	})
}
