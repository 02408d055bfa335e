package deploy_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"collaborate/internal/testkit"
)

// binDir holds the binaries once built; TestMain removes it.
var binDir string

// binaries are the static orchestrator and robot, built once per test
// binary from this checkout.
var binaries = sync.OnceValues(func() (map[string]string, error) {
	root, err := testkit.ModuleRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "collaborate-deploy-bin-")
	if err != nil {
		return nil, err
	}
	binDir = dir
	out := map[string]string{}
	for _, pkg := range []string{"orchestrator", "robot"} {
		out[pkg] = filepath.Join(dir, pkg)
		if err := staticBuild(root, "./"+pkg, out[pkg]); err != nil {
			return nil, err
		}
	}
	return out, nil
})

func bins(t *testing.T) map[string]string {
	t.Helper()
	b, err := binaries()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fleetRobot reads robot id from GET /api/fleet, as the observer.
func fleetRobot(c *http.Client, base, user, pass, id string) (map[string]any, string) {
	req, _ := http.NewRequest(http.MethodGet, base+"/api/fleet", nil)
	req.SetBasicAuth(user, pass)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v struct {
		Robots []map[string]any `json:"robots"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Sprintf("%s: %s", resp.Status, b)
	}
	for _, r := range v.Robots {
		if r["id"] == id {
			return r, string(b)
		}
	}
	return nil, string(b)
}

// TestInstallRobot: a robot enrolled with `orchestrator enroll` is
// installed on a Pi with nothing but its bundle (the README's `tar xzf
// r1.tar.gz && sudo r1/install-robot.sh`), and once its unit starts it is
// online over TLS. Installing a new bundle (the robot enrolled again)
// replaces its password; bad bundles are refused with a message.
func TestInstallRobot(t *testing.T) {
	if testing.Short() {
		t.Skip("builds static binaries")
	}
	needRoot(t)
	b := bins(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	tlsAddr, httpAddr := testkit.FreeAddr(t), testkit.FreeAddr(t)
	orch := testkit.Start(t, dir, "orchestrator", b["orchestrator"], "--state-dir", state, "--mqtt-addr", "127.0.0.1:0",
		"--tls-addr", tlsAddr, "--http-addr", httpAddr, "--log-format", "json")
	orch.WaitOutput(t, 20*time.Second, "ready")
	world := testkit.Start(t, dir, "world", b["robot"], "world", "--addr", "127.0.0.1:0", "--robots", "1", "--speed", "2", "--log-format", "json")
	world.WaitOutput(t, 10*time.Second, "ready")
	worldAddr := world.Field("world listening on ")

	enroll := func(name string) string {
		t.Helper()
		out := filepath.Join(dir, name)
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(b["orchestrator"], "enroll", "r1", "--broker", "tls://"+tlsAddr, "--state-dir", state)
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = f, &stderr
		err = cmd.Run()
		f.Close()
		if err != nil {
			t.Fatalf("orchestrator enroll: %v\n%s", err, stderr.String())
		}
		return out
	}
	pi := filepath.Join(dir, "pi")
	if err := newPi(pi, b["robot"]); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopRobot(pi)
		if t.Failed() {
			l, _ := os.ReadFile(filepath.Join(pi, "var/log/robot.log"))
			t.Logf("robot log:\n%s", testkit.Tail(string(l), 30))
		}
	})
	home := filepath.Join(pi, "home/pi")
	install := func(bundle string, extra ...string) (string, error) {
		t.Helper()
		run(t, home, "tar", "xzf", bundle)
		cmd := exec.Command("bash", append([]string{"r1/install-robot.sh", "--root", pi}, extra...)...)
		cmd.Dir = home
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := install(enroll("r1.tar.gz")); err != nil {
		t.Fatalf("install-robot.sh: %v\n%s", err, out)
	}

	uid, gid, err := lookupID(filepath.Join(pi, "etc/passwd"), "robot")
	if err != nil {
		t.Fatalf("no robot user on the Pi: %v", err)
	}
	for _, f := range []struct {
		path     string
		uid, gid int
		mode     os.FileMode
	}{
		{"etc/collaborate", 0, gid, 0o750 | os.ModeDir},
		{"etc/collaborate/robot.yaml", 0, gid, 0o640},
		{"etc/collaborate/password", 0, gid, 0o640},
		{"etc/collaborate/ca.crt", 0, gid, 0o640},
		{"var/lib/collaborate", uid, gid, 0o750 | os.ModeDir},
		{"usr/local/bin/robot", 0, 0, 0o755},
		{"etc/systemd/system/robot.service", 0, 0, 0o644},
	} {
		fi, err := os.Stat(filepath.Join(pi, f.path))
		if err != nil {
			t.Errorf("%s: %v", f.path, err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		if int(st.Uid) != f.uid || int(st.Gid) != f.gid || fi.Mode() != f.mode {
			t.Errorf("/%s: %d:%d %v, want %d:%d %v", f.path, st.Uid, st.Gid, fi.Mode(), f.uid, f.gid, f.mode)
		}
	}

	passwords, err := os.ReadFile(filepath.Join(state, "initial-passwords.txt"))
	if err != nil {
		t.Fatal(err)
	}
	watchPW := passwordOf(t, string(passwords), "watch")
	ca, _ := os.ReadFile(filepath.Join(state, "tls", "ca.crt"))
	c := httpsClient(t, ca, "127.0.0.1")
	base := "https://" + httpAddr
	isOnline := func(what string, want bool) {
		t.Helper()
		var last string
		testkit.Eventually(t, 30*time.Second, what, func() bool {
			r, body := fleetRobot(c, base, "watch", watchPW, "r1")
			last = body
			return r != nil && r["online"] == want
		}, func() string { return "GET /api/fleet: " + last })
	}
	online := func(what string) { t.Helper(); isOnline(what, true) }
	if _, err := bootRobot(pi, worldAddr); err != nil {
		t.Fatal(err)
	}
	online("r1 online, installed from its bundle alone")

	t.Run("a new bundle replaces the password", func(t *testing.T) {
		stopRobot(pi)
		isOnline("r1 offline once stopped", false)
		if out, err := install(enroll("r1-again.tar.gz")); err != nil {
			t.Fatalf("install-robot.sh again: %v\n%s", err, out)
		}
		if _, err := bootRobot(pi, worldAddr); err != nil {
			t.Fatal(err)
		}
		online("r1 online with its new password")
	})
	t.Run("bad input", func(t *testing.T) {
		junk := filepath.Join(dir, "junk.tar.gz")
		run(t, dir, "tar", "czf", junk, "-C", dir, "world.stdout")
		empty := filepath.Join(dir, "empty-pi")
		if err := newPi(empty, b["robot"]); err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(empty, "usr/local/bin/robot"))
		for _, c := range []struct {
			desc string
			args []string
			want string
		}{
			{"not a bundle", []string{junk, "--root", pi}, "holds no robot.yaml"},
			{"no such bundle", []string{filepath.Join(dir, "nope"), "--root", pi}, "no bundle at"},
			{"no binary anywhere", []string{filepath.Join(home, "r1"), "--root", empty}, "no robot binary"},
			{"a binary that is not one", []string{filepath.Join(home, "r1"), "--root", pi, "--binary", junk}, "not an executable"},
			{"unknown option", []string{"--frobnicate"}, "unknown option"},
		} {
			t.Run(c.desc, func(t *testing.T) {
				out, err := exec.Command("bash", append([]string{filepath.Join(home, "r1/install-robot.sh")}, c.args...)...).CombinedOutput()
				if err == nil || !strings.Contains(string(out), "install-robot: ") || !strings.Contains(string(out), c.want) {
					t.Errorf("install-robot.sh %v: %v\n%s\nwant an error mentioning %q", c.args, err, out, c.want)
				}
			})
		}
	})
}
