package conform_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"collaborate/internal/testkit"
	"collaborate/orchestrator/conform"
)

// The kit runs the real robot processes: the Go robot's binary, built
// once, and the Python example robot.
var (
	robotBin string
	root     string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "conform-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins, err := testkit.Build(dir, "./robot")
	if err == nil {
		root, err = testkit.ModuleRoot()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "conform:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	robotBin = bins["./robot"]
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs the kit against command and logs its report.
func run(t *testing.T, o conform.Options) *conform.Result {
	t.Helper()
	o.Dir = t.TempDir()
	progress := &testkit.Buffer{}
	o.Progress = progress
	res, err := conform.Run(context.Background(), o)
	if err != nil {
		t.Fatalf("the kit could not run: %v", err)
	}
	var b strings.Builder
	res.Print(&b, false)
	t.Logf("kit report:\n%s", b.String())
	if t.Failed() || res.Failed() {
		t.Logf("kit progress:\n%s", progress.String())
		for _, f := range []string{"robot-1.log", "robot-2.log"} {
			if out, err := os.ReadFile(filepath.Join(o.Dir, f)); err == nil {
				t.Logf("%s (tail):\n%s", f, testkit.Tail(string(out), 30))
			}
		}
	}
	return res
}

// mustPass fails the test for every rule that failed, and for the rules
// the kit can check that were not checked.
func mustPass(t *testing.T, res *conform.Result) {
	t.Helper()
	for _, r := range res.Rules {
		switch {
		case r.Verdict == conform.Fail:
			t.Errorf("rule %s failed: %s", r.Rule.ID, strings.Join(r.Failures, "; "))
		case r.Verdict == conform.Skip && r.Rule.ID != "reflex":
			t.Errorf("rule %s was not checked: %s", r.Rule.ID, strings.Join(r.Skipped, "; "))
		}
	}
}

// The project's own robot, a body in the kit's world (robot --hw sitl),
// follows every rule the kit checks.
func TestGoRobotConforms(t *testing.T) {
	res := run(t, conform.Options{RobotID: "r1", Command: []string{robotBin, "--hw", "sitl", "--world", "{world}",
		"--id", "{id}", "--broker", "{broker}", "--password-file", "{password_file}", "--store-dir", "{dir}"}})
	mustPass(t, res)
}

func pythonRobot(t *testing.T, extra ...string) []string {
	py := testkit.PythonWithPaho(t)
	return append([]string{py, filepath.Join(root, "examples/python-robot/robot.py"), "--id", "{id}",
		"--broker", "{broker}", "--password-file", "{password_file}", "--world", "{world}"}, extra...)
}

// The Python example robot, written from the contract alone, follows every
// rule the kit checks.
func TestPythonRobotConforms(t *testing.T) {
	res := run(t, conform.Options{RobotID: "py1", Command: pythonRobot(t)})
	mustPass(t, res)
}

// The kit can fail: the Python robot told to ignore holds (it acknowledges
// them and drives on) breaks the latches rule, and the kit says so and
// what it saw.
func TestBrokenRobotFails(t *testing.T) {
	res := run(t, conform.Options{RobotID: "py1", Command: pythonRobot(t, "--ignore-holds"), FailFast: true})
	if !res.Failed() {
		t.Fatal("the kit passed a robot that ignores holds")
	}
	r, _ := res.Rule("latches")
	if r.Verdict != conform.Fail || !strings.Contains(strings.Join(r.Failures, "\n"), "a route does not lift a hold") {
		t.Errorf("latches: %s %v, want FAIL saying a route does not lift a hold", r.Verdict, r.Failures)
	}
	for _, id := range []string{"connect", "header"} {
		if r, _ := res.Rule(id); r.Verdict != conform.Pass {
			t.Errorf("rule %s: %s %v, want PASS: the robot breaks only the hold", id, r.Verdict, r.Failures)
		}
	}
}
