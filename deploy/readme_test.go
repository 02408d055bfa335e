package deploy_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"collaborate/internal/testkit"
	"collaborate/robot/world"
)

// readmeBlocks returns the ```sh blocks of the README's section titled
// title, in order.
func readmeBlocks(t *testing.T, readme, title string) []string {
	t.Helper()
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n## "+title+"\n")
	if i < 0 {
		t.Fatalf("README has no section %q", title)
	}
	s = s[i+1:]
	if j := strings.Index(s[3:], "\n## "); j >= 0 {
		s = s[:j+3]
	}
	var blocks []string
	for {
		i := strings.Index(s, "```sh\n")
		if i < 0 {
			return blocks
		}
		s = s[i+len("```sh\n"):]
		j := strings.Index(s, "```\n")
		if j < 0 {
			t.Fatalf("README section %q: an unclosed ```sh block", title)
		}
		blocks = append(blocks, s[:j])
		s = s[j:]
	}
}

// The shims the README's commands find on PATH: docker is the test
// binary (the fake engine); scp copies to the Pi's home; ssh runs the
// command there, then boots the Pi's robot unit if one is enabled and not
// running (install-robot.sh starts it on a real Pi); sudo runs its command
// (the test runs as root), giving install-robot.sh the Pi's root.
const (
	scpShim = `#!/usr/bin/env bash
set -euo pipefail
args=("$@")
dst=${args[-1]}
case "$dst" in *@*:*) ;; *) echo "scp (test shim): the last argument must be USER@HOST:[DIR]" >&2; exit 2 ;; esac
cp -- "${args[@]:0:${#args[@]}-1}" "$PI_ROOT/home/pi/${dst#*:}"
`
	sshShim = `#!/usr/bin/env bash
set -euo pipefail
case "${1:-}" in *@*) shift ;; *) echo "ssh (test shim): want USER@HOST COMMAND" >&2; exit 2 ;; esac
cd "$PI_ROOT/home/pi"
bash -euo pipefail -c "$*"
pi-boot
`
	sudoShim = `#!/usr/bin/env bash
set -euo pipefail
case "$(basename "$1")" in
install-robot.sh) cmd=$1; shift; exec "$cmd" --root "$PI_ROOT" "$@" ;;
*) exec "$@" ;;
esac
`
)

var assigned = regexp.MustCompile(`(?m)^([A-Z_][A-Z0-9_]*)=`)

// TestReadmeLaptop runs the README's section "The laptop with docker
// compose", command by command, in a fresh clone: docker compose up with
// nothing before it, the passwords and the CA, mosquitto_sub and curl over
// TLS, enrolling r1, installing its bundle on a Pi and the robot coming
// online, a route through the API, driven to its end (mapping sweep
// first), the simulated demo fleet, and down. Only these change: the host
// ports (1883, 8883, 8080, 1884, 8081) become free ones, LAPTOP is
// 127.0.0.1, and docker, ssh, scp and sudo are the shims above; the Pi is
// a directory (pi_test.go) whose robot drives a body in a `robot world`.
func TestReadmeLaptop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the image and drives a mission")
	}
	needRoot(t)
	for _, tool := range [][2]string{{"mosquitto_sub", "mosquitto-clients"}, {"curl", "curl"}} {
		testkit.RequireTool(t, tool[0], tool[1])
	}
	root, err := testkit.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(t, filepath.Join(root, "README.md"), "The laptop with docker compose")
	if len(blocks) < 6 {
		t.Fatalf("%d command blocks in the README's laptop section, want the whole walkthrough", len(blocks))
	}
	b := bins(t)
	project := freshClone(t)
	dir := t.TempDir()

	ports := map[string]int{}
	for _, p := range []string{"1883", "8883", "8080", "1884", "8081"} {
		ports[p] = testkit.FreePort(t)
	}
	engineDir := filepath.Join(dir, "engine")
	pi := filepath.Join(dir, "pi")
	if err := newPi(pi, b["robot"]); err != nil {
		t.Fatal(err)
	}
	w := testkit.Start(t, dir, "world", b["robot"], "world", "--addr", "127.0.0.1:0", "--robots", "1",
		"--speed", "2", "--seed", "3", "--log-format", "json")
	w.WaitOutput(t, 10*time.Second, "ready")
	worldAddr := w.Field("world listening on ")
	truth := &truthLog{}
	go func() { _ = world.Watch(worldAddr, truth.add) }()

	shims := filepath.Join(dir, "bin")
	if err := os.MkdirAll(shims, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"docker", "pi-boot"} {
		if err := os.Symlink(self, filepath.Join(shims, name)); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range map[string]string{"scp": scpShim, "ssh": sshShim, "sudo": sudoShim} {
		if err := os.WriteFile(filepath.Join(shims, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e := newEngine(engineDir, project, nil)
	t.Cleanup(func() {
		stopRobot(pi)
		if t.Failed() {
			for _, s := range []string{"orchestrator", "sim"} {
				if l, err := e.logs(s); err == nil {
					t.Logf("docker compose logs %s:\n%s", s, testkit.Tail(l, 30))
				}
			}
			l, _ := os.ReadFile(filepath.Join(pi, "var/log/robot.log"))
			t.Logf("the Pi's robot log:\n%s", testkit.Tail(string(l), 30))
		}
		e.down(true)
	})
	env := append(os.Environ(), "PATH="+shims+":"+os.Getenv("PATH"), "FAKE_DOCKER_ENGINE="+engineDir,
		"PI_ROOT="+pi, "PI_WORLD="+worldAddr,
		fmt.Sprintf("MQTT_PORT=%d", ports["1883"]), fmt.Sprintf("TLS_PORT=%d", ports["8883"]), fmt.Sprintf("HTTP_PORT=%d", ports["8080"]),
		fmt.Sprintf("SIM_MQTT_PORT=%d", ports["1884"]), fmt.Sprintf("SIM_HTTP_PORT=%d", ports["8081"]))
	vars := filepath.Join(dir, "vars.sh")
	if err := os.WriteFile(vars, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	portRE := regexp.MustCompile(`\b(1883|8883|8080|1884|8081)\b`)
	runBlock := func(i int) string {
		t.Helper()
		block := blocks[i]
		script := portRE.ReplaceAllStringFunc(block, func(p string) string { return strconv.Itoa(ports[p]) })
		script = regexp.MustCompile(`(?m)^LAPTOP=\S+`).ReplaceAllString(script, "LAPTOP=127.0.0.1")
		var save strings.Builder
		for _, m := range assigned.FindAllStringSubmatch(script, -1) {
			fmt.Fprintf(&save, "declare -p %s >> %q\n", m[1], vars)
		}
		cmd := exec.Command("bash", "-c", "set -euo pipefail\nsource "+vars+"\n"+script+"\n"+save.String())
		cmd.Dir, cmd.Env = project, env
		out, err := cmd.CombinedOutput()
		t.Logf("README block %d:\n%s\n--- output:\n%s", i+1, strings.TrimSpace(block), testkit.Tail(string(out), 15))
		if err != nil {
			t.Fatalf("README block %d failed: %v\n%s", i+1, err, out)
		}
		return string(out)
	}

	var outs []string
	for i := range blocks[:len(blocks)-1] {
		outs = append(outs, runBlock(i))
	}
	all := strings.Join(outs, "\n")
	for _, want := range []string{
		"their passwords are in /state/initial-passwords.txt", // docker compose logs
		`"state":"online"`,             // mosquitto_sub: the orchestrator's status
		`"robots":`,                    // curl: the fleet, read as watch
		`"robot":"r1","route":[3,9,5]`, // the route PUT
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the README's commands did not print %q", want)
		}
	}
	if !strings.Contains(all, `"sender":"r1"`) {
		t.Errorf("mosquitto_sub did not print r1's status: the robot never came online")
	}

	// The mission, driven to its end: r1 maps the arena, then drives its
	// route and parks.
	varsOut, _ := exec.Command("bash", "-c", "source "+vars+"; echo \"$WATCH_PW\"").Output()
	watchPW := strings.TrimSpace(string(varsOut))
	ca, err := os.ReadFile(filepath.Join(project, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	c := httpsClient(t, ca, "localhost")
	base := fmt.Sprintf("https://127.0.0.1:%d", ports["8080"])
	var last string
	testkit.Eventually(t, 5*time.Minute, "r1 to map the arena and finish its route", func() bool {
		r, body := fleetRobot(c, base, "watch", watchPW, "r1")
		last = body
		return r != nil && r["done"] == true
	}, func() string { return "GET /api/fleet: " + last + "\ntruth: " + truth.summary() })
	if n := truth.collisions(); n != 0 {
		t.Errorf("%d collisions", n)
	}
	t.Logf("r1 done at %s", truth.summary())

	runBlock(len(blocks) - 1) // docker compose down
	for _, s := range []string{"orchestrator", "sim"} {
		if e.pid(s) != 0 {
			t.Errorf("%s still runs after the README's down", s)
		}
	}
}

// truthLog keeps the world's latest ground truth.
type truthLog struct {
	mu   sync.Mutex
	last world.Truth
}

func (l *truthLog) add(t world.Truth) bool {
	l.mu.Lock()
	l.last = t
	l.mu.Unlock()
	return true
}

func (l *truthLog) collisions() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last.World.Collisions
}

func (l *truthLog) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := fmt.Sprintf("sim %.1f s, %d collisions;", l.last.World.SimTimeS, l.last.World.Collisions)
	for _, r := range l.last.World.Robots {
		s += fmt.Sprintf(" %s at (%.2f, %.2f)", r.Robot, r.XM, r.YM)
	}
	return s
}
