package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"collaborate/broker"
)

const (
	collaborate   = "collaborate"
	mosquittoName = "mosquitto"
	observerName  = "watch" // an observer in both brokers' accounts (deploy/mosquitto/acl)
	startTimeout  = time.Minute
)

type brokerKind struct {
	name  string
	start func(ctx context.Context, dir string) (*server, error)
	// only, when set, is the one load (its id) this broker runs.
	only string
}

// server is a broker process started by loadbench.
type server struct {
	name   string
	url    string // tcp://127.0.0.1:PORT
	cmd    *exec.Cmd
	exited chan error
	log    string // its log file
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stop interrupts the process and waits for it, killing it after 10 s.
func (s *server) stop() error {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
		return nil
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("%s did not stop within 10 s of an interrupt; killed (log: %s)", s.name, s.log)
	}
}

// alive reports an error if the process has exited.
func (s *server) alive() error {
	select {
	case err := <-s.exited:
		s.exited <- err
		return fmt.Errorf("%s exited: %v (log: %s)", s.name, err, s.log)
	default:
		return nil
	}
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go runs on.
const clockTicks = 100

// cpu returns the CPU time the process has used, user and system.
func (s *server) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid()))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: fields count from
	// after its closing parenthesis, where field 3 (state) starts.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", s.pid())
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", s.pid(), len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", s.pid(), err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// rss returns the process's resident set size, in bytes.
func (s *server) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid()))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", s.pid())
}

// accounts are the same users in both brokers: robots r1..rN and the
// observer, all with one password.
type accounts struct {
	robots      int
	password    string
	credentials string // the orchestrator's credentials file
	passwd      string // mosquitto's password file
}

func robotID(i int) string { return "r" + strconv.Itoa(i) }

// makeAccounts creates the observer and r1 with "orchestrator passwd",
// then gives r2..rN r1's hash: they share its password, and one bcrypt per
// robot would take a quarter of a minute for 200. mosquitto_passwd -U
// hashes a whole file of user:password lines at once.
func makeAccounts(ctx context.Context, dir, orch string, robots int) (*accounts, error) {
	pw, err := broker.RandomPassword()
	if err != nil {
		return nil, err
	}
	a := &accounts{robots: robots, password: pw,
		credentials: filepath.Join(dir, "credentials.yaml"), passwd: filepath.Join(dir, "mosquitto.passwd")}
	for _, u := range []struct{ role, name string }{{"observer", observerName}, {"robot", robotID(1)}} {
		cmd := exec.CommandContext(ctx, orch, "passwd", "--credentials", a.credentials, "--role", u.role, u.name)
		cmd.Stdin = strings.NewReader(pw + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("orchestrator passwd %s: %v\n%s", u.name, err, out)
		}
	}
	creds, err := broker.LoadCredentials(a.credentials)
	if err != nil {
		return nil, err
	}
	r1, ok := creds.Lookup(robotID(1))
	if !ok {
		return nil, errors.New("orchestrator passwd did not add r1")
	}
	for i := 2; i <= robots; i++ {
		creds.Users = append(creds.Users, broker.User{Name: robotID(i), Role: broker.RoleRobot, Hash: r1.Hash})
	}
	if err := creds.Save(a.credentials); err != nil {
		return nil, err
	}
	if _, err := broker.LoadCredentials(a.credentials); err != nil {
		return nil, fmt.Errorf("credentials for %d robots: %w", robots, err)
	}

	var lines strings.Builder
	fmt.Fprintf(&lines, "%s:%s\n", observerName, pw)
	for i := 1; i <= robots; i++ {
		fmt.Fprintf(&lines, "%s:%s\n", robotID(i), pw)
	}
	if err := os.WriteFile(a.passwd, []byte(lines.String()), 0o600); err != nil {
		return nil, err
	}
	if out, err := exec.CommandContext(ctx, "mosquitto_passwd", "-U", a.passwd).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("mosquitto_passwd -U: %v\n%s", err, out)
	}
	return a, nil
}

// startOrchestrator runs the orchestrator with its embedded broker on
// loopback ports it picks, and waits for "ready".
func startOrchestrator(ctx context.Context, dir, bin, credentials string) (*server, error) {
	logPath := filepath.Join(dir, "orchestrator.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(bin, "--state-dir", filepath.Join(dir, "state"), "--credentials", credentials,
		"--mqtt-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-format", "json")
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{name: collaborate, cmd: cmd, exited: make(chan error, 1), log: logPath}
	lines := make(chan string, 64) // the few lines it prints before "ready"
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // nobody reads any more: drain
			}
		}
		close(lines)
		s.exited <- cmd.Wait()
	}()
	timeout := time.After(startTimeout)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				return nil, fmt.Errorf("orchestrator exited before it was ready: %v (log: %s)", <-s.exited, logPath)
			}
			if addr, ok := strings.CutPrefix(line, "mqtt listening on "); ok {
				s.url = "tcp://" + addr
			}
			if line == "ready" {
				if s.url == "" {
					_ = s.stop()
					return nil, errors.New("orchestrator ready without an mqtt listener")
				}
				return s, nil
			}
		case <-timeout:
			_ = s.stop()
			return nil, fmt.Errorf("orchestrator not ready within %v (log: %s)", startTimeout, logPath)
		case <-ctx.Done():
			_ = s.stop()
			return nil, ctx.Err()
		}
	}
}

// startMosquitto runs mosquitto with deploy/mosquitto's configuration,
// moved to a loopback port chosen now; lossless lifts its bound on each
// client's queue (max_queued_messages 0), so that it drops no QoS 0
// message to a slow subscriber.
func startMosquitto(ctx context.Context, dir, bin, root, passwd string, lossless bool) (*server, error) {
	data := filepath.Join(dir, "mosquitto-data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	return startOnPort(ctx, dir, mosquittoName, func(port int) (*exec.Cmd, error) {
		conf, err := mosquittoConf(root, port, passwd, data, lossless)
		if err != nil {
			return nil, err
		}
		confPath := filepath.Join(dir, "mosquitto.conf")
		if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
			return nil, err
		}
		return exec.Command(bin, "-c", confPath), nil
	})
}

// startOnPort starts the command that cmdFor makes for a loopback port
// chosen now, its output in a log file, and waits until it listens.
// Another process may take the port between the choice and the bind:
// then it tries another, three times in all.
func startOnPort(ctx context.Context, dir, name string, cmdFor func(port int) (*exec.Cmd, error)) (*server, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		cmd, err := cmdFor(port)
		if err != nil {
			return nil, err
		}
		logPath := filepath.Join(dir, fmt.Sprintf("%s-%d.log", name, attempt))
		logf, err := os.Create(logPath)
		if err != nil {
			return nil, err
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		err = cmd.Start()
		logf.Close()
		if err != nil {
			return nil, err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		s := &server{name: name, url: "tcp://" + addr, cmd: cmd, exited: make(chan error, 1), log: logPath}
		go func() { s.exited <- cmd.Wait() }()
		if lastErr = s.waitListening(ctx, addr); lastErr == nil {
			return s, nil
		}
		_ = s.stop()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return nil, fmt.Errorf("%s did not start in 3 attempts: %w", name, lastErr)
}

func (s *server) waitListening(ctx context.Context, addr string) error {
	deadline := time.Now().Add(startTimeout)
	for {
		if err := s.alive(); err != nil {
			return err
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening on %s within %v (log: %s)", s.name, addr, startTimeout, s.log)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// mosquittoConf rewrites deploy/mosquitto/mosquitto.conf: the listener on
// 127.0.0.1:port, the password file, the ACL of deploy/mosquitto and the
// persistence directory; with lossless, no bound on a client's queue.
// Every other line is kept.
func mosquittoConf(root string, port int, passwd, data string, lossless bool) (string, error) {
	src, err := os.ReadFile(filepath.Join(root, "deploy", "mosquitto", "mosquitto.conf"))
	if err != nil {
		return "", err
	}
	replace := map[string]string{
		"listener":             fmt.Sprintf("listener %d 127.0.0.1", port),
		"password_file":        "password_file " + passwd,
		"acl_file":             "acl_file " + filepath.Join(root, "deploy", "mosquitto", "acl"),
		"persistence_location": "persistence_location " + data + "/",
	}
	if lossless {
		replace["max_queued_messages"] = "max_queued_messages 0"
	}
	seen := map[string]bool{}
	var out strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		key, _, _ := strings.Cut(line, " ")
		if r, ok := replace[key]; ok && !strings.HasPrefix(line, "#") {
			if seen[key] {
				return "", fmt.Errorf("deploy/mosquitto/mosquitto.conf: %s given twice", key)
			}
			seen[key] = true
			line = r
		}
		out.WriteString(line + "\n")
	}
	for key := range replace {
		if !seen[key] {
			return "", fmt.Errorf("deploy/mosquitto/mosquitto.conf has no %s line", key)
		}
	}
	if os.Geteuid() == 0 {
		// As root, mosquitto would switch to its own user, which cannot
		// read our temporary files.
		out.WriteString("user root\n")
	}
	return out.String(), nil
}
