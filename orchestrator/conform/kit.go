package conform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"collaborate/broker"
	"collaborate/robot/sim"
	"collaborate/robot/world"
	"collaborate/topics"
)

// Placeholders in the robot's command, replaced by the kit before it runs.
const (
	PhBroker       = "{broker}"        // tcp://127.0.0.1:PORT, the broker as the robot reaches it
	PhHost         = "{host}"          // 127.0.0.1
	PhPort         = "{port}"          // PORT
	PhID           = "{id}"            // the robot id
	PhPassword     = "{password}"      // the robot's password (random, made per run)
	PhPasswordFile = "{password_file}" // a file holding it, one line
	PhWorld        = "{world}"         // HOST:PORT of the simulated world (robot/world's protocol)
	PhDir          = "{dir}"           // a directory the robot may keep files in (an outbox)
)

// Options configure a run of the kit.
type Options struct {
	RobotID string
	// Command runs the robot, with the placeholders above replaced. The
	// kit starts it in a process group of its own, and signals the group:
	// a wrapper (a shell script, go run) is fine.
	Command []string
	// Addr is where the robot reaches the broker (the kit's proxy in front
	// of it); default 127.0.0.1:0, a port chosen at run time.
	Addr string
	// World serves a simulated world to the robot, at {world}. Default:
	// when the command names {world}.
	World *bool
	// Dir keeps the robot's password file, its directory and its output
	// (robot-N.log per process). Default: a temporary directory, removed
	// after a run that passed.
	Dir string
	// FailFast ends the run after the first part in which a rule failed;
	// the rules it did not reach are skipped.
	FailFast bool
	// Progress, when set, gets one line per step as the run goes.
	Progress io.Writer
	// Log gets the broker's and the world's logs; default: discard.
	Log zerolog.Logger
}

// tick is the control period the contract's bounds add to the silence:
// a robot stops "within one control tick" (50 ms at 20 Hz).
const tick = 50 * time.Millisecond

// haltBound is how long after the cause a robot's motor command may still
// be a drive: the contract's OrchestratorSilence plus a control tick, plus
// 100 ms for measuring it from outside (the world is sampled every 10 ms,
// a heartbeat takes its way through the broker, and a loaded machine runs
// a process's tick late).
const haltBound = topics.OrchestratorSilence + tick + 100*time.Millisecond

// kit is one run.
type kit struct {
	o        Options
	rec      *record
	res      *results
	b        *broker.Broker
	px       *proxy
	w        *sim.World
	tr       *truth // nil without a world
	worldAt  string
	orch     *orch
	password string
	dir      string
	brokerAt string

	robot     *process
	gen       int
	stopWorld func()

	applied    []applied           // directives the robot acknowledged
	lastFleet  topics.FleetCommand // the fleet command in force
	resendFrom time.Time           // the resend phase: checkpoints again
	resendTo   time.Time

	markers []topics.MapMarker
	faces   topics.FaceIDs
	roster  bool
}

// Run checks the robot against the rules and returns the verdicts. An
// error means the kit itself could not run (a port in use, a command that
// does not start); a robot that breaks rules is a Result with failures.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := topics.CheckRobotID(o.RobotID); err != nil {
		return nil, fmt.Errorf("conform: %w", err)
	}
	if len(o.Command) == 0 {
		return nil, errors.New("conform: no robot command")
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	useWorld := strings.Contains(strings.Join(o.Command, " "), PhWorld)
	if o.World != nil {
		useWorld = *o.World
	}
	k := &kit{o: o, rec: newRecord(o.RobotID), res: newResults()}
	var err error
	tmp := o.Dir == ""
	if tmp {
		if k.dir, err = os.MkdirTemp("", "conform-"+o.RobotID+"-"); err != nil {
			return nil, fmt.Errorf("conform: %w", err)
		}
	} else {
		k.dir = o.Dir
		if err := os.MkdirAll(k.dir, 0o700); err != nil {
			return nil, fmt.Errorf("conform: %w", err)
		}
	}
	if err := k.setup(ctx, useWorld); err != nil {
		k.teardown()
		return nil, err
	}
	k.script(ctx)
	k.stopRobot()
	k.teardown()
	k.writeWire()
	res := k.res.result(o.RobotID)
	res.Dir = k.dir
	if tmp && !res.Failed() {
		os.RemoveAll(k.dir)
		res.Dir = ""
	}
	return res, nil
}

// setup starts the broker, the proxy, the world and the orchestrator side.
func (k *kit) setup(ctx context.Context, useWorld bool) error {
	pass, err := broker.RandomPassword()
	if err != nil {
		return err
	}
	k.password = pass
	creds := &broker.Credentials{}
	if err := creds.SetPassword(k.o.RobotID, broker.RoleRobot, []byte(pass)); err != nil {
		return fmt.Errorf("conform: %w", err)
	}
	if err := os.WriteFile(filepath.Join(k.dir, "password"), []byte(pass+"\n"), 0o600); err != nil {
		return fmt.Errorf("conform: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(k.dir, "robot"), 0o700); err != nil {
		return fmt.Errorf("conform: %w", err)
	}
	k.b, err = broker.New(broker.Options{TCPAddr: "127.0.0.1:0", Credentials: creds,
		Logger: k.o.Log.With().Str("component", "broker").Logger()})
	if err != nil {
		return fmt.Errorf("conform: broker: %w", err)
	}
	if k.px, err = newProxy(k.o.Addr, k.b.Addrs().TCP, k.rec); err != nil {
		return fmt.Errorf("conform: %w", err)
	}
	k.brokerAt = k.px.addr()
	err = k.b.Subscribe(topics.Robot(k.o.RobotID, topics.KindStatus), 1, func(_ string, p []byte) {
		k.rec.brokerSaw(time.Now(), p)
	})
	if err != nil {
		return fmt.Errorf("conform: %w", err)
	}

	// The world, and the map: the world's markers where it has them, else a
	// default arena's (a robot alone in its own simulated arena, or a real
	// one set up as the default: 3 m, 12 markers).
	cfg := sim.Config{Seed: 7, Start: time.Now()}
	w, err := sim.New(cfg)
	if err != nil {
		return fmt.Errorf("conform: world: %w", err)
	}
	for _, m := range w.Markers() {
		k.markers = append(k.markers, topics.MapMarker{ID: m.ID, XM: m.XM, YM: m.YM, Samples: 1})
	}
	if useWorld {
		k.w = w
		srv, err := world.NewServer(w, world.Options{Log: k.o.Log.With().Str("component", "world").Logger()})
		if err != nil {
			return fmt.Errorf("conform: world: %w", err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("conform: world: %w", err)
		}
		k.worldAt = ln.Addr().String()
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		k.stopWorld = func() { cancel(); <-done }
		k.tr = &truth{w: w, id: k.o.RobotID}
		go func() {
			defer close(done)
			tdone := make(chan struct{})
			go func() { k.tr.run(wctx.Done()); close(tdone) }()
			_ = srv.Run(wctx, ln)
			<-tdone
		}()
	}
	k.orch = newOrch(k.b, k.o.RobotID)
	k.orch.diameterM = w.Config().DiameterM
	return nil
}

func (k *kit) teardown() {
	if k.orch != nil {
		k.orch.close()
	}
	if k.px != nil {
		k.px.close()
	}
	if k.b != nil {
		_ = k.b.Close()
	}
	if k.stopWorld != nil {
		k.stopWorld()
	}
}

// say reports progress.
func (k *kit) say(format string, args ...any) {
	if k.o.Progress != nil {
		fmt.Fprintf(k.o.Progress, "%s  %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
	}
}

// process is one run of the robot's command.
type process struct {
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error
	gen  int
}

func (k *kit) argv() []string {
	host, port, _ := net.SplitHostPort(k.brokerAt)
	r := strings.NewReplacer(PhBroker, "tcp://"+k.brokerAt, PhHost, host, PhPort, port, PhID, k.o.RobotID,
		PhPasswordFile, filepath.Join(k.dir, "password"), PhPassword, k.password, PhWorld, k.worldAt,
		PhDir, filepath.Join(k.dir, "robot"))
	out := make([]string, len(k.o.Command))
	for i, a := range k.o.Command {
		out[i] = r.Replace(a)
	}
	return out
}

// startRobot starts a new process of the robot.
func (k *kit) startRobot() error {
	k.gen++
	k.rec.setGen(k.gen)
	argv := k.argv()
	f, err := os.Create(filepath.Join(k.dir, "robot-"+strconv.Itoa(k.gen)+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start robot %q: %w", argv[0], err)
	}
	p := &process{cmd: cmd, log: f, done: make(chan struct{}), gen: k.gen}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	k.robot = p
	k.say("robot process %d started: %s", k.gen, strings.Join(argv, " "))
	return nil
}

func (p *process) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// signal sends sig to the robot's process group.
func (p *process) signal(sig syscall.Signal) {
	if p.running() {
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

// wait waits up to timeout for the process to exit.
func (p *process) wait(timeout time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// robotGone says, for a failure, whether the robot's process has exited and
// the last line it wrote.
func (k *kit) robotGone() string {
	p := k.robot
	name := fmt.Sprintf("robot-%d.log", p.gen)
	if p.running() {
		return fmt.Sprintf(" (its output: %s)", name)
	}
	last := ""
	if b, err := os.ReadFile(filepath.Join(k.dir, name)); err == nil {
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		last = lines[len(lines)-1]
	}
	return fmt.Sprintf(": the process exited (%v); the last line of %s: %s", p.err, name, oneLine(last))
}

// stopRobot ends the robot process, if it still runs: SIGTERM, then
// SIGKILL after 5 s.
func (k *kit) stopRobot() {
	if k.robot == nil || !k.robot.running() {
		return
	}
	k.robot.signal(syscall.SIGTERM)
	if !k.robot.wait(5 * time.Second) {
		k.robot.signal(syscall.SIGKILL)
		k.robot.wait(5 * time.Second)
	}
}

// orch plays the orchestrator: its retained status, map and fleet command,
// its heartbeat every 0.2 s, and directives, as orchestrator/core sends
// them (one seq for everything but the heartbeat, which has its own).
type orch struct {
	b         *broker.Broker
	id        string
	epoch     uint64
	diameterM float64

	mu      sync.Mutex
	seq     uint64
	beatSeq uint64

	beating  atomic.Bool
	lastBeat atomic.Int64 // wall time of the last heartbeat sent, unix ns
	stop     chan struct{}
	done     chan struct{}
}

func newOrch(b *broker.Broker, id string) *orch {
	o := &orch{b: b, id: id, epoch: 7, seq: 100, stop: make(chan struct{}), done: make(chan struct{})}
	o.beating.Store(true)
	go o.beat()
	return o
}

func (o *orch) beat() {
	defer close(o.done)
	t := time.NewTicker(topics.OrchestratorHeartbeatPeriod)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
		}
		if !o.beating.Load() {
			continue
		}
		o.mu.Lock()
		o.beatSeq++
		hb := &topics.OrchestratorHeartbeat{Header: topics.Stamp(senderOrch, o.beatSeq, time.Now()), Epoch: o.epoch}
		o.mu.Unlock()
		if o.send(topics.TopicOrchestratorHeartbeat, topics.KindOrchestratorHeartbeat, hb) == nil {
			o.lastBeat.Store(time.Now().UnixNano())
		}
	}
}

func (o *orch) close() {
	select {
	case <-o.stop:
	default:
		close(o.stop)
		<-o.done
	}
}

const senderOrch = "orchestrator"

func (o *orch) send(topic string, kind topics.Kind, m topics.Message) error {
	b, err := topics.Encode(m)
	if err != nil {
		return fmt.Errorf("conform: encode %s: %w", topic, err)
	}
	p := topics.PolicyOf(kind)
	return o.b.Publish(topic, b, p.Retained, p.QoS)
}

func (o *orch) header() topics.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seq++
	return topics.Stamp(senderOrch, o.seq, time.Now())
}

// status publishes orchestrator/status.
func (o *orch) status(state string) error {
	return o.send(topics.TopicOrchestratorStatus, topics.KindOrchestratorStatus,
		&topics.OrchestratorState{Header: o.header(), State: state, Epoch: o.epoch})
}

// fleet publishes fleet/cmd and returns it.
func (o *orch) fleet(kind string) (topics.FleetCommand, error) {
	f := topics.FleetCommand{Header: o.header(), Epoch: o.epoch, Kind: kind}
	return f, o.send(topics.TopicFleetCmd, topics.KindFleetCmd, &f)
}

// directive stamps d with this run's epoch and the next seq, publishes it
// and returns it.
func (o *orch) directive(d topics.Directive) (topics.Directive, error) {
	d.Header = o.header()
	d.Epoch = o.epoch
	return d, o.sendDirective(d)
}

// skip leaves n seqs unused: room for a directive stamped in between.
func (o *orch) skip(n uint64) {
	o.mu.Lock()
	o.seq += n
	o.mu.Unlock()
}

// sendFleetRaw publishes f as it is: one stamped older.
func (o *orch) sendFleetRaw(f topics.FleetCommand) error {
	return o.send(topics.TopicFleetCmd, topics.KindFleetCmd, &f)
}

// sendDirective publishes d as it is: a duplicate, or one stamped older.
func (o *orch) sendDirective(d topics.Directive) error {
	return o.send(topics.Robot(o.id, topics.KindCmd), topics.KindCmd, &d)
}

func (o *orch) fleetMap(markers []topics.MapMarker, roster []topics.RosterEntry) error {
	return o.send(topics.TopicFleetMap, topics.KindFleetMap, &topics.FleetMap{Header: o.header(),
		DiameterM: o.diameterM, MeasuredDiameterM: o.diameterM, Scale: 1, Markers: markers, Roster: roster})
}

// writeWire writes what the robot sent, packet by packet, to wire.log in
// the run's directory: the evidence behind a failure.
func (k *kit) writeWire() {
	f, err := os.Create(filepath.Join(k.dir, "wire.log"))
	if err != nil {
		return
	}
	defer f.Close()
	for _, c := range k.rec.connections() {
		fmt.Fprintf(f, "%s connection %d (process %d) opened", c.Opened.Format("15:04:05.000"), c.N, c.Gen)
		if !c.Closed.IsZero() {
			fmt.Fprintf(f, ", closed %s", c.Closed.Format("15:04:05.000"))
		}
		if c.Connect != nil {
			fmt.Fprintf(f, "; CONNECT %+v", *c.Connect)
		}
		for _, s := range c.Subs {
			fmt.Fprintf(f, "; SUBSCRIBE %s %v", s.At.Format("15:04:05.000"), s.Filters)
		}
		fmt.Fprintf(f, "; refused SUBACKs %v; DISCONNECT %v\n", c.Refused, c.Disconnect)
	}
	for _, m := range k.rec.messages(0, "") {
		fmt.Fprintf(f, "%s c%d p%d %s q%d r%v d%v %s", m.At.Format("15:04:05.000"), m.Conn, m.Gen, m.Topic, m.QoS, m.Retain, m.Dup, m.Payload)
		if m.Err != nil {
			fmt.Fprintf(f, " ERROR %v", m.Err)
		}
		fmt.Fprintln(f)
	}
	for _, s := range k.rec.brokerStatuses() {
		fmt.Fprintf(f, "%s broker delivered status %+v\n", s.At.Format("15:04:05.000"), s.Status)
	}
	if k.tr != nil {
		prev := sample{}
		for _, s := range k.tr.between(time.Time{}, time.Now()) {
			if s.CmdLin != prev.CmdLin || s.CmdAng != prev.CmdAng {
				fmt.Fprintf(f, "%s world: %s at (%.3f, %.3f, %.2f rad) commands lin %.3f ang %.3f\n", s.At.Format("15:04:05.000"),
					k.o.RobotID, s.X, s.Y, s.Th, s.CmdLin, s.CmdAng)
			}
			prev = s
		}
	}
}
