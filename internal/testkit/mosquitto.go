package testkit

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Mosquitto is a real mosquitto broker run with the project's
// deploy/mosquitto/ configuration, on a loopback port.
type Mosquitto struct {
	Addr    string // 127.0.0.1:PORT
	URL     string // tcp://127.0.0.1:PORT
	DataDir string // its persistence directory
	Logs    *Buffer
	t       testing.TB
	bin     string
	conf    string
	proc    *exec.Cmd
	done    chan struct{}
}

// MosquittoPasswd writes a mosquitto password file with each user's
// password.
func MosquittoPasswd(t testing.TB, path string, users map[string]string) {
	t.Helper()
	bin := RequireTool(t, "mosquitto_passwd", "mosquitto")
	first := true
	for user, pass := range users {
		args := []string{"-b", path, user, pass}
		if first {
			args = append([]string{"-c"}, args...)
			first = false
		}
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd %s: %v\n%s", user, err, out)
		}
	}
}

// MosquittoConf rewrites the deploy/mosquitto/mosquitto.conf at src for a
// test: the listener on 127.0.0.1:port, the password file, the ACL file and
// the persistence directory; every other line is kept, and the lines the
// tests rely on must be there. It adds the information log, where mosquitto
// says it runs.
func MosquittoConf(t testing.TB, src string, port int, passwd, acl, dataDir string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	replace := map[string]string{
		"listener":             fmt.Sprintf("listener %d 127.0.0.1", port),
		"password_file":        "password_file " + passwd,
		"acl_file":             "acl_file " + acl,
		"persistence_location": "persistence_location " + dataDir + "/",
	}
	required := map[string]string{
		"allow_anonymous":          "allow_anonymous false",
		"use_username_as_clientid": "use_username_as_clientid true",
		"persistence":              "persistence true",
	}
	seen := map[string]bool{}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		key, _, _ := strings.Cut(line, " ")
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case replace[key] != "":
			if seen[key] {
				t.Fatalf("mosquitto.conf: %s given twice", key)
			}
			seen[key] = true
			line = replace[key]
		case required[key] != "":
			seen[key] = true
			if line != required[key] {
				t.Errorf("mosquitto.conf: %q, want %q", line, required[key])
			}
		}
		out.WriteString(line + "\n")
	}
	for _, m := range []map[string]string{replace, required} {
		for key := range m {
			if !seen[key] {
				t.Errorf("mosquitto.conf lacks %s", key)
			}
		}
	}
	// Its "running" line, which says it has bound its port, is
	// information: StartMosquitto waits for it.
	out.WriteString("log_type information\n")
	if os.Geteuid() == 0 {
		// As root, mosquitto would switch to its own user, which cannot
		// read the test's temporary files.
		out.WriteString("user root\n")
	}
	return out.String()
}

// StartMosquitto runs mosquitto with the project's configuration (deploy
// files under root), the password file passwd and its data under dir. addr
// may name the port (to restart on the same one); empty picks one, and
// picks another when mosquitto exits at start (another process took the
// port between the choice and mosquitto's bind), up to three times. It is
// stopped when the test ends.
func StartMosquitto(t testing.TB, root, dir, passwd, addr string) *Mosquitto {
	t.Helper()
	m := &Mosquitto{t: t, bin: RequireTool(t, "mosquitto", "mosquitto"), DataDir: filepath.Join(dir, "mosquitto-data")}
	if err := os.MkdirAll(m.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	attempts := 1
	if addr == "" {
		attempts = 3
	}
	t.Cleanup(func() {
		m.Stop()
		if t.Failed() && m.Logs != nil {
			t.Logf("mosquitto log:\n%s", Tail(m.Logs.String(), 40))
		}
	})
	m.conf = filepath.Join(dir, "mosquitto.conf")
	var errs []string
	for range attempts {
		a := addr
		if a == "" {
			a = FreeAddr(t)
		}
		_, portS, err := net.SplitHostPort(a)
		if err != nil {
			t.Fatalf("mosquitto address %q: %v", a, err)
		}
		port, err := strconv.Atoi(portS)
		if err != nil {
			t.Fatalf("mosquitto address %q: %v", a, err)
		}
		conf := MosquittoConf(t, filepath.Join(root, "deploy/mosquitto/mosquitto.conf"), port, passwd,
			filepath.Join(root, "deploy/mosquitto/acl"), m.DataDir)
		if err := os.WriteFile(m.conf, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		m.Addr, m.URL = a, "tcp://"+a
		m.Logs = &Buffer{}
		if err := m.tryStart(); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		return m
	}
	t.Fatalf("mosquitto did not start in %d attempts:\n%s", attempts, strings.Join(errs, "\n"))
	return nil
}

func (m *Mosquitto) start() {
	m.t.Helper()
	if err := m.tryStart(); err != nil {
		m.t.Fatal(err)
	}
}

// tryStart starts mosquitto and waits until it says it runs (it has bound
// its port) and answers on its address. It returns an error when mosquitto
// exits first (another process took the port, say: a connection to the
// address would reach that process), and fails the test when mosquitto
// neither runs nor exits.
func (m *Mosquitto) tryStart() error {
	m.t.Helper()
	if m.Logs == nil {
		m.Logs = &Buffer{}
	}
	before := len(m.Logs.String()) // a restart appends to the same log
	m.proc = exec.Command(m.bin, "-c", m.conf)
	m.proc.Stdout, m.proc.Stderr = m.Logs, m.Logs
	if err := m.proc.Start(); err != nil {
		m.t.Fatalf("start mosquitto: %v", err)
	}
	done := make(chan struct{})
	m.done = done
	var exit error
	go func(c *exec.Cmd) { exit = c.Wait(); close(done) }(m.proc)
	exited := false
	Eventually(m.t, 10*time.Second, "mosquitto to run and listen on "+m.Addr, func() bool {
		select {
		case <-done:
			exited = true
			return true
		default:
		}
		if !strings.Contains(m.Logs.String()[before:], " running") {
			return false
		}
		c, err := net.Dial("tcp", m.Addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, func() string { return Tail(m.Logs.String(), 40) })
	if exited {
		m.proc = nil
		return fmt.Errorf("mosquitto on %s exited: %v\n%s", m.Addr, exit, Tail(m.Logs.String(), 40))
	}
	return nil
}

// Kill is kill -9: nothing saved since the last autosave survives.
func (m *Mosquitto) Kill() {
	if m.proc != nil {
		_ = m.proc.Process.Kill()
		<-m.done
		m.proc = nil
	}
}

// Stop stops it cleanly (SIGINT): it saves its state.
func (m *Mosquitto) Stop() {
	if m.proc != nil {
		_ = m.proc.Process.Signal(os.Interrupt)
		select {
		case <-m.done:
		case <-time.After(10 * time.Second):
			_ = m.proc.Process.Kill()
			<-m.done
		}
		m.proc = nil
	}
}

// Freeze stops the process (SIGSTOP), its sockets open: a broker host
// that hangs. Thaw (SIGCONT) lets it run on.
func (m *Mosquitto) Freeze() error {
	if m.proc == nil {
		return fmt.Errorf("mosquitto is not running")
	}
	return m.proc.Process.Signal(syscall.SIGSTOP)
}

// Thaw lets a frozen mosquitto run on.
func (m *Mosquitto) Thaw() error {
	if m.proc == nil {
		return fmt.Errorf("mosquitto is not running")
	}
	return m.proc.Process.Signal(syscall.SIGCONT)
}

// SetACL points its configuration at the ACL file acl and has it reload
// (SIGHUP), its connections open: mosquitto checks the new rules on every
// later delivery and subscription.
func (m *Mosquitto) SetACL(acl string) error {
	if m.proc == nil {
		return fmt.Errorf("mosquitto is not running")
	}
	b, err := os.ReadFile(m.conf)
	if err != nil {
		return err
	}
	lines := strings.Split(string(b), "\n")
	found := false
	for i, l := range lines {
		if strings.HasPrefix(l, "acl_file ") {
			lines[i], found = "acl_file "+acl, true
		}
	}
	if !found {
		return fmt.Errorf("%s has no acl_file", m.conf)
	}
	if err := os.WriteFile(m.conf, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		return err
	}
	return m.proc.Process.Signal(syscall.SIGHUP)
}

// Restart starts it again on the same port with the same data.
func (m *Mosquitto) Restart() { m.start() }

// Save asks mosquitto to write its state now (SIGUSR1 in mosquitto 2: write
// the persistence file), as its autosave would.
func (m *Mosquitto) Save() error {
	if m.proc == nil {
		return fmt.Errorf("mosquitto is not running")
	}
	return m.proc.Process.Signal(syscallUSR1)
}
