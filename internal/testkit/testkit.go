package testkit

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Eventually polls cond every 10 ms until it holds, or fails the test after
// timeout with what it waited for and, when detail is given, what it saw.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool, detail ...func() string) {
	t.Helper()
	EventuallyEvery(t, timeout, 10*time.Millisecond, what, cond, detail...)
}

// EventuallyEvery is Eventually polling every interval, for a cond that
// costs the system under test something (an HTTP request, say), where
// polling every 10 ms would load it.
func EventuallyEvery(t testing.TB, timeout, interval time.Duration, what string, cond func() bool, detail ...func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			msg := ""
			for _, d := range detail {
				msg += "\n" + d()
			}
			t.Fatalf("timed out after %v waiting for %s%s", timeout, what, msg)
		}
		time.Sleep(interval) // polling interval, not synchronisation
	}
}

// FreeAddr returns a loopback address whose port was free a moment ago,
// for a server that must be started (or restarted) on a known port.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// FreePort is FreeAddr's port, for a configuration that takes the port
// alone (the host is 127.0.0.1).
func FreePort(t testing.TB) int {
	t.Helper()
	_, p, err := net.SplitHostPort(FreeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Buffer is a bytes.Buffer safe for concurrent writers and readers.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Contains reports whether what was written so far contains sub.
func (s *Buffer) Contains(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Contains(s.b.Bytes(), []byte(sub))
}

// RequireTools reports whether a missing real peer fails the test instead
// of skipping it: COLLABORATE_REQUIRE_TOOLS=1.
func RequireTools() bool { return os.Getenv("COLLABORATE_REQUIRE_TOOLS") == "1" }

// Missing skips the test with msg, which says what real peer is missing
// and how to get it, or fails it under RequireTools.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if RequireTools() {
		t.Fatalf("%s, and COLLABORATE_REQUIRE_TOOLS=1", msg)
	}
	t.Skip(msg)
}

// RequireTool returns the path of program name, or skips the test saying
// which Debian package provides it (fails under RequireTools).
func RequireTool(t testing.TB, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	Missing(t, name+" not installed (apt-get install "+debianPackage+")")
	return ""
}

// Tail returns the last n lines of s, for failure messages.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// PythonWithPaho returns /usr/bin/python3 when it imports paho-mqtt
// (Debian's python3-paho-mqtt), or skips the test saying what to install
// (fails under RequireTools). The python3 first on PATH may be another one
// without Debian's packages.
func PythonWithPaho(t testing.TB) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import paho.mqtt.client").Run(); err == nil {
		return py
	}
	Missing(t, py+" cannot import paho.mqtt (apt-get install python3-paho-mqtt)")
	return ""
}
