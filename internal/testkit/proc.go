package testkit

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Build compiles the module's main packages (e.g. "./orchestrator") into
// dir and returns the binaries' paths, by package. Run it once, from
// TestMain: a build takes seconds.
func Build(dir string, pkgs ...string) (map[string]string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, pkg := range pkgs {
		bin := filepath.Join(dir, filepath.Base(pkg))
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
		}
		out[pkg] = bin
	}
	return out, nil
}

// BuildWith compiles one main package into out with more go build flags
// (e.g. "-tags", "opencv").
func BuildWith(out, pkg string, flags ...string) error {
	root, err := ModuleRoot()
	if err != nil {
		return err
	}
	cmd := exec.Command("go", append(append([]string{"build", "-o", out}, flags...), pkg)...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %v %s: %v\n%s", flags, pkg, err, b)
	}
	return nil
}

// ModuleRoot is the directory of the module's go.mod.
func ModuleRoot() (string, error) {
	b, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(b))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the module")
	}
	return filepath.Dir(mod), nil
}

// Proc is a process started by Start. Its stdout and stderr go to
// files (kept for a failing test's log) and to buffers.
type Proc struct {
	Name   string
	Cmd    *exec.Cmd
	Out    *Buffer // stdout
	Err    *Buffer // stderr
	done   chan struct{}
	mu     sync.Mutex
	exit   error
	exited bool
}

// Start runs bin with args, logging to dir/name.stdout and name.stderr. The
// process is killed when the test ends, if it still runs.
func Start(t testing.TB, dir, name, bin string, args ...string) *Proc {
	t.Helper()
	p := &Proc{Name: name, Out: &Buffer{}, Err: &Buffer{}, done: make(chan struct{})}
	fo, err := os.Create(filepath.Join(dir, name+".stdout"))
	if err != nil {
		t.Fatal(err)
	}
	fe, err := os.Create(filepath.Join(dir, name+".stderr"))
	if err != nil {
		t.Fatal(err)
	}
	p.Cmd = exec.Command(bin, args...)
	p.Cmd.Stdout = io.MultiWriter(fo, p.Out)
	p.Cmd.Stderr = io.MultiWriter(fe, p.Err)
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		err := p.Cmd.Wait()
		fo.Close()
		fe.Close()
		p.mu.Lock()
		p.exit, p.exited = err, true
		p.mu.Unlock()
		close(p.done)
	}()
	t.Cleanup(func() { p.Kill() })
	return p
}

// WaitOutput waits until stdout holds line (a readiness line such as
// "ready"), or fails with the process's output if it exits or times out.
func (p *Proc) WaitOutput(t testing.TB, timeout time.Duration, line string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !p.Out.Contains(line) {
		select {
		case <-p.done:
			t.Fatalf("%s exited before printing %q: %v\nstdout:\n%s\nstderr:\n%s", p.Name, line, p.ExitErr(),
				Tail(p.Out.String(), 20), Tail(p.Err.String(), 40))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not print %q within %v\nstderr:\n%s", p.Name, line, timeout, Tail(p.Err.String(), 40))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Field returns the rest of the first stdout line that starts with prefix
// (e.g. "http listening on "), trimmed.
func (p *Proc) Field(prefix string) string {
	sc := bufio.NewScanner(strings.NewReader(p.Out.String()))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Running reports whether the process has not exited.
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.exited
}

// ExitErr is the process's exit error, once it exited.
func (p *Proc) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exit
}

// Kill sends SIGKILL (kill -9) and waits for the process to go.
func (p *Proc) Kill() {
	if p.Running() {
		_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// Interrupt sends SIGINT and waits up to timeout for a clean exit; it
// returns the exit error, or an error when it had to kill the process.
func (p *Proc) Interrupt(timeout time.Duration) error {
	if !p.Running() {
		return p.ExitErr()
	}
	_ = p.Cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
		return p.ExitErr()
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("%s did not exit within %v of SIGINT: killed", p.Name, timeout)
	}
}

// Stop sends SIGSTOP: the process freezes, its sockets stay open.
func (p *Proc) Stop() error { return p.Cmd.Process.Signal(syscall.SIGSTOP) }

// Cont sends SIGCONT to a stopped process.
func (p *Proc) Cont() error { return p.Cmd.Process.Signal(syscall.SIGCONT) }
