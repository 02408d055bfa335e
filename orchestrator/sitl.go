package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"collaborate/broker"
	"collaborate/robot/world"
	"collaborate/topics"
)

// sitlFleet is a simulated fleet of robot processes: a `robot world` server
// and one `robot --hw sitl` process per robot. They are processes of their
// own: a crash of the orchestrator leaves them running, and a restarted
// orchestrator that finds the world still serving takes them over instead
// of starting others.
type sitlFleet struct {
	dir   string
	addr  string
	procs []*exec.Cmd // started by this run; nil when taken over
	wg    sync.WaitGroup
	// taken are the processes of an earlier run, taken over: their pids,
	// from STATE_DIR/sitl/pids.
	taken []int
}

// findRobotBin is --robot-bin, else `robot` beside this executable, else on
// the PATH.
func findRobotBin(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "robot")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath("robot"); err == nil {
		return p, nil
	}
	return "", errors.New("--sitl needs the robot binary: build it (go build -tags opencv -o bin/robot ./robot) and pass --robot-bin bin/robot")
}

// startSITL starts (or takes over) the world at --sitl-world and the
// robots r1..rN, each with an account of its own whose password is kept in
// STATE_DIR/sitl, so that robots that outlived the orchestrator still log
// in after its restart.
func (a *app) startSITL(ctx context.Context, brokerURL string) (*sitlFleet, error) {
	f := &sitlFleet{dir: filepath.Join(a.cfg.stateDir, "sitl"), addr: a.cfg.sitlWorld}
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return nil, fmt.Errorf("sitl: %w", err)
	}
	var ids []string
	for k := 1; k <= a.cfg.sitl; k++ {
		ids = append(ids, fmt.Sprintf("r%d", k))
	}
	passwords := map[string]string{}
	for _, id := range ids {
		pf := filepath.Join(f.dir, id+".password")
		b, err := os.ReadFile(pf)
		pass := strings.TrimSpace(string(b))
		if err != nil || pass == "" {
			if pass, err = broker.RandomPassword(); err != nil {
				return nil, err
			}
			if err := broker.WriteFileAtomic(pf, []byte(pass+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("sitl: %w", err)
			}
		}
		passwords[id] = pass
		if a.cfg.brokerURL == "" {
			a.credMu.Lock()
			err := a.simCreds.SetPassword(id, broker.RoleRobot, []byte(pass))
			a.credMu.Unlock()
			if err != nil {
				return nil, err
			}
		}
	}
	if a.cfg.brokerURL == "" {
		// In memory beside the simulated robots' accounts, so that a reload
		// of the credentials files keeps them.
		if err := a.reloadCredentials(); err != nil {
			return nil, err
		}
		a.m.SetRobots(a.creds.Load().RobotIDs())
	}
	if a.cfg.brokerURL != "" {
		a.log.Warn().Str("dir", f.dir).Msg("--sitl with --broker: give the external broker the robots' accounts, passwords in this directory")
	}
	go a.mirrorTruth(ctx, f.addr)
	if c, err := net.DialTimeout("tcp", f.addr, 500*time.Millisecond); err == nil {
		c.Close()
		f.taken = readPids(filepath.Join(f.dir, "pids"))
		a.log.Warn().Str("world", f.addr).Ints("pids", f.taken).Msg("a world already serves there: its robots, still running, are taken over")
		return f, nil
	}
	bin, err := findRobotBin(a.cfg.robotBin)
	if err != nil {
		return nil, err
	}
	world := exec.Command(bin, "world", "--addr", f.addr, "--robots", strconv.Itoa(a.cfg.sitl),
		"--seed", strconv.FormatInt(a.cfg.simSeed, 10), "--speed", strconv.FormatFloat(a.cfg.simSpeed, 'g', -1, 64),
		"--log-format", "json")
	if err := f.start(world, "world", "world listening on "); err != nil {
		return nil, err
	}
	for _, id := range ids {
		cmd := exec.Command(bin, "--hw", "sitl", "--world", f.addr, "--id", id, "--broker", brokerURL,
			"--password-file", filepath.Join(f.dir, id+".password"), "--store-dir", filepath.Join(f.dir, "outbox-"+id),
			"--camera", a.cfg.sitlCamera, "--log-format", "json")
		if err := f.start(cmd, id, ""); err != nil {
			f.stop()
			return nil, err
		}
	}
	var pids strings.Builder
	for _, p := range f.procs {
		fmt.Fprintln(&pids, p.Process.Pid)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "pids"), []byte(pids.String()), 0o600); err != nil {
		a.log.Warn().Err(err).Msg("sitl: pids not saved: a restarted orchestrator will not stop these processes")
	}
	a.log.Info().Int("robots", a.cfg.sitl).Str("world", f.addr).Str("logs", f.dir).Str("camera", a.cfg.sitlCamera).
		Msg("robot processes started")
	return f, nil
}

// readPids reads the pids a run saved, keeping those that still run the
// robot binary (a pid may have been reused since).
func readPids(path string) []int {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !strings.Contains(string(cmd), "robot") {
			continue
		}
		out = append(out, pid)
	}
	return out
}

// start runs cmd, its output in dir/name.log; with ready, it waits for
// that line on stdout.
func (f *sitlFleet) start(cmd *exec.Cmd, name, ready string) error {
	logf, err := os.Create(filepath.Join(f.dir, name+".log"))
	if err != nil {
		return fmt.Errorf("sitl: %w", err)
	}
	cmd.Stderr = logf
	var lines chan string
	if ready != "" {
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		lines = make(chan string, 16)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				select {
				case lines <- sc.Text():
				default:
				}
			}
			close(lines)
		}()
	} else {
		cmd.Stdout = logf
	}
	// Their own process group: a Ctrl-C in the terminal goes to the
	// orchestrator, which stops them itself, robots first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("sitl: start %s: %w", name, err)
	}
	f.procs = append(f.procs, cmd)
	f.wg.Add(1)
	go func() { defer f.wg.Done(); _ = cmd.Wait(); logf.Close() }()
	if ready == "" {
		return nil
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return fmt.Errorf("sitl: %s exited before it was ready (log: %s)", name, logf.Name())
			}
			if strings.HasPrefix(l, ready) {
				return nil
			}
		case <-deadline:
			return fmt.Errorf("sitl: %s not ready within 10 s (log: %s)", name, logf.Name())
		}
	}
}

// stop interrupts the processes this run started, robots before the world,
// and waits for them (at most 5 s); processes taken over are interrupted
// too.
func (f *sitlFleet) stop() {
	for i := len(f.taken) - 1; i >= 0; i-- {
		if p, err := os.FindProcess(f.taken[i]); err == nil {
			_ = p.Signal(os.Interrupt)
		}
	}
	for i := len(f.procs) - 1; i >= 0; i-- {
		_ = f.procs[i].Process.Signal(os.Interrupt)
		if i == 1 { // the robots first: they halt in the world
			time.Sleep(200 * time.Millisecond)
		}
	}
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		for _, p := range f.procs {
			_ = p.Process.Kill()
		}
	}
}

// mirrorTruth publishes the world's ground truth on sim/world, for the
// dashboard and watchers, as --sim does; it redials a world that restarts.
func (a *app) mirrorTruth(ctx context.Context, addr string) {
	for ctx.Err() == nil {
		_ = world.Watch(addr, func(t world.Truth) bool {
			if ctx.Err() != nil {
				return false
			}
			b, err := topics.Encode(&t.World)
			if err != nil {
				return true
			}
			if err = a.bus.Publish(topics.TopicSimWorld, b, false, 0); err == nil {
				w := t.World
				a.m.Observe(topics.KindSimWorld, &w)
				a.web.Take(topics.Topic{Kind: topics.KindSimWorld}, &w)
			}
			return true
		})
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
