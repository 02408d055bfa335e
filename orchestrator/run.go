package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"collaborate/broker"
	"collaborate/orchestrator/certs"
	"collaborate/orchestrator/core"
	"collaborate/orchestrator/extbus"
	"collaborate/orchestrator/ingest"
	"collaborate/orchestrator/metrics"
	"collaborate/orchestrator/mission"
	"collaborate/orchestrator/store"
	"collaborate/orchestrator/traffic"
	"collaborate/orchestrator/web"
	"collaborate/robot/sim"
	"collaborate/robot/simfleet"
	"collaborate/topics"

	"github.com/mattn/go-isatty"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// defaultDiameterM is the arena diameter when neither --diameter nor a
// missions file gives one.
const defaultDiameterM = 3.0

// senderID is the orchestrator's sender in every header it stamps.
const senderID = "orchestrator"

// environ is what main takes from the environment: defaults of flags.
type environ struct {
	stateDir  string // COLLABORATE_STATE_DIR
	configDir string // COLLABORATE_CONFIG_DIR
}

func defaultStateDir(env environ) string {
	if env.stateDir != "" {
		return env.stateDir
	}
	return "./state"
}

// stateFlags adds the flags that find the orchestrator's files, shared by
// the subcommands that read them: --state-dir, --config-dir and, with
// credentials, --credentials.
func stateFlags(fs *flag.FlagSet, env environ, cfg *config, credentials bool) {
	fs.StringVar(&cfg.stateDir, "state-dir", defaultStateDir(env), "the orchestrator's state directory")
	fs.StringVar(&cfg.configDir, "config-dir", env.configDir, "your read-only configuration (credentials.yaml, tls/): its files win")
	if credentials {
		fs.StringVar(&cfg.credentials, "credentials", "", "the orchestrator's own credentials file (default STATE_DIR/credentials.yaml)")
	}
}

// config is the parsed command line.
type config struct {
	credentials         string
	configDir           string   // the user's read-only configuration: credentials.yaml, tls/
	tlsHosts            []string // more names and addresses for the generated certificate
	mqttAddr            string
	tlsAddr             string
	tlsCert, tlsKey     string
	wsAddr              string
	stateDir            string
	httpAddr            string
	logFormat           string
	allowAnonymousWatch bool

	missions  string  // missions YAML file
	diameterM float64 // overrides the missions file's arena.diameter_m
	mapper    string  // robot that runs the mapping sweep

	sim      int     // simulated robots run inside this process
	simSpeed float64 // sim seconds per wall second
	simSeed  int64
	simPass  string // external broker: file holding the sim robots' password

	sitl       int    // robot processes started (or taken over) beside this one
	sitlWorld  string // their world server's address
	sitlCamera string // geometric or render
	robotBin   string // the robot binary they run

	brokerURL    string // external broker(s) instead of the embedded one, comma-separated
	username     string
	passwordFile string
	tlsCA        string
}

func parseFlags(args []string, env environ, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("orchestrator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.credentials, "credentials", "", "the orchestrator's own credentials file, written on the first run (default STATE_DIR/credentials.yaml)")
	fs.StringVar(&c.configDir, "config-dir", env.configDir, "your read-only configuration: credentials.yaml and tls/server.{crt,key} there win over the orchestrator's own")
	fs.StringVar(&c.mqttAddr, "mqtt-addr", ":1883", "MQTT TCP listen address (empty: none)")
	fs.StringVar(&c.tlsAddr, "tls-addr", "", "MQTT TLS listen address, also turning the dashboard to HTTPS (default :8883 when --tls-cert is given; empty: no TLS)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "TLS certificate PEM file (default: CONFIG_DIR/tls/server.crt, else one the orchestrator makes in STATE_DIR/tls)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "TLS private key PEM file")
	fs.Var(listFlag{&c.tlsHosts, certs.CheckHost}, "tls-host", "a DNS name robots dial, for the certificate the orchestrator makes (repeatable, comma-separated)")
	fs.Var(listFlag{&c.tlsHosts, checkIP}, "tls-ip", "an IP address robots dial, for the certificate the orchestrator makes (repeatable, comma-separated)")
	fs.StringVar(&c.wsAddr, "ws-addr", "", "MQTT over WebSocket listen address (empty: none)")
	fs.StringVar(&c.stateDir, "state-dir", defaultStateDir(env), "directory for the broker store, the epoch, first-run passwords and TLS files")
	fs.StringVar(&c.httpAddr, "http-addr", ":8080", "HTTP listen address: dashboard, API, /metrics, /healthz (HTTPS with TLS)")
	fs.StringVar(&c.logFormat, "log-format", "", "console or json (default console on a terminal, else json)")
	fs.BoolVar(&c.allowAnonymousWatch, "allow-anonymous-watch", false, "let clients without credentials read every topic and watch the dashboard (never control)")
	fs.StringVar(&c.missions, "missions", "", "missions YAML file (arena diameter and each robot's route)")
	fs.Float64Var(&c.diameterM, "diameter", 0, "arena diameter in metres (overrides the missions file's arena.diameter_m)")
	fs.StringVar(&c.mapper, "mapper", "", "robot that maps the arena from its centre (default: the missions file's, else the first online)")
	fs.IntVar(&c.sim, "sim", 0, "run N simulated robots (r1..rN) in one simulated arena inside this process")
	fs.Float64Var(&c.simSpeed, "sim-speed", 1, "simulated seconds per wall second")
	fs.Int64Var(&c.simSeed, "sim-seed", 0, "seed of the simulated world (0: from the clock)")
	fs.StringVar(&c.simPass, "sim-password-file", "", "with --broker: file holding the password of the simulated robots r1..rN")
	fs.IntVar(&c.sitl, "sitl", 0, "start N robot processes (r1..rN, robot --hw sitl) and their world server (robot world), or take over those a crashed run left")
	fs.StringVar(&c.sitlWorld, "sitl-world", "127.0.0.1:7400", "with --sitl: the world server's address")
	fs.StringVar(&c.sitlCamera, "sitl-camera", "geometric", "with --sitl: geometric (the world's detections) or render (rendered frames, the Pi's ArUco pipeline: a robot built with -tags opencv)")
	fs.StringVar(&c.robotBin, "robot-bin", "", "with --sitl: the robot binary (default: robot beside this executable, else on the PATH)")
	fs.StringVar(&c.brokerURL, "broker", "", "use this external MQTT broker (tcp://host:1883 or tls://host:8883; a comma-separated list for a cluster) instead of the embedded one")
	fs.StringVar(&c.username, "username", "orchestrator", "with --broker: MQTT username")
	fs.StringVar(&c.passwordFile, "password-file", "", "with --broker: file holding the MQTT password")
	fs.StringVar(&c.tlsCA, "tls-ca", "", "with --broker tls://: CA certificate that signed the broker's")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (subcommands: %s)", fs.Arg(0), strings.Join(subcommands, ", "))
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return c, errors.New("--tls-cert and --tls-key go together")
	}
	if c.tlsCert != "" && c.tlsAddr == "" {
		c.tlsAddr = ":8883"
	}
	if len(c.tlsHosts) > 0 && c.tlsAddr == "" {
		return c, errors.New("--tls-host and --tls-ip name the TLS certificate: they need --tls-addr")
	}
	switch c.logFormat {
	case "", "console", "json":
	default:
		return c, fmt.Errorf("--log-format must be console or json, got %q", c.logFormat)
	}
	if c.credentials == "" {
		c.credentials = filepath.Join(c.stateDir, "credentials.yaml")
	}
	if c.sim < 0 || c.sim > 64 {
		return c, fmt.Errorf("--sim must be within [0, 64], got %d", c.sim)
	}
	if c.sitl < 0 || c.sitl > 64 {
		return c, fmt.Errorf("--sitl must be within [0, 64], got %d", c.sitl)
	}
	if c.sim > 0 && c.sitl > 0 {
		return c, errors.New("--sim and --sitl exclude each other: robots in this process, or robot processes")
	}
	if c.sitlCamera != "geometric" && c.sitlCamera != "render" {
		return c, fmt.Errorf("--sitl-camera must be geometric or render, got %q", c.sitlCamera)
	}
	if !(c.simSpeed > 0 && c.simSpeed <= 100) {
		return c, fmt.Errorf("--sim-speed must be within (0, 100], got %v", c.simSpeed)
	}
	if c.diameterM < 0 || math.IsNaN(c.diameterM) || math.IsInf(c.diameterM, 0) {
		return c, fmt.Errorf("--diameter must be a positive number of metres, got %v", c.diameterM)
	}
	if c.brokerURL != "" {
		urls := splitList(c.brokerURL)
		if len(urls) == 0 {
			return c, fmt.Errorf("--broker: no URL in %q", c.brokerURL)
		}
		for _, u := range urls {
			if !strings.HasPrefix(u, "tcp://") && !strings.HasPrefix(u, "tls://") {
				return c, fmt.Errorf("--broker must be tcp://host:port or tls://host:port (or a comma-separated list of them), got %q", u)
			}
		}
		if c.sim > 0 && c.simPass == "" {
			return c, errors.New("--sim with --broker needs --sim-password-file: the external broker holds the robots' credentials")
		}
	}
	return c, nil
}

func newLogger(format string, w io.Writer) zerolog.Logger {
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			format = "console"
		}
	}
	if format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(zerolog.InfoLevel).With().Timestamp().Logger()
}

// app holds what run wires together.
type app struct {
	cfg      config
	log      zerolog.Logger
	broker   *broker.Broker // nil with an external broker
	ext      *extbus.Bus    // nil with the embedded broker
	bus      publisher      // the one of the two in use
	metrics  *prometheus.Registry
	m        *metrics.Metrics
	runner   *core.Runner
	inbox    *ingest.Queue // robot messages on their way to the core
	web      *web.Server
	missions *mission.File // nil without --missions
	epoch    uint64
	ready    atomic.Bool

	files credentialFiles
	creds atomic.Pointer[broker.Credentials] // what the broker and the dashboard check
	// simCreds are the simulated robots' accounts, made at start and kept
	// in memory only. credMu serialises changes to them with whole reloads:
	// the file watcher and the simulated fleet's start both reload, and a
	// reload that read fewer accounts must not be stored after one that
	// read more.
	credMu   sync.Mutex
	simCreds *broker.Credentials

	mu       sync.Mutex
	poseAt   map[string]time.Time // when each robot's last pose arrived, for hold latency
	holdSeen int                  // finished holds already counted in metrics
}

// subcommands are run's first-argument commands.
var subcommands = []string{"passwd", "passwords", "ca", "enroll", "nats-auth", "conform"}

// run is the whole program; main only adds signals, the environment and
// the exit code.
func run(ctx context.Context, args []string, env environ, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "passwd":
			return runPasswd(args[1:], stdin, stdout, stderr)
		case "passwords":
			return runPasswords(args[1:], env, stdout, stderr)
		case "ca":
			return runCA(args[1:], env, stdout, stderr)
		case "enroll":
			return runEnroll(args[1:], env, stdout, stderr)
		case "nats-auth":
			return runNATSAuth(args[1:], env, stdout, stderr)
		case "conform":
			return runConform(ctx, args[1:], stdout, stderr)
		}
	}
	cfg, err := parseFlags(args, env, stderr)
	if err != nil {
		return err
	}
	a := &app{cfg: cfg, log: newLogger(cfg.logFormat, stderr), metrics: prometheus.NewRegistry(),
		poseAt: map[string]time.Time{}, files: filesOf(cfg), simCreds: &broker.Credentials{}}
	if err := os.MkdirAll(cfg.stateDir, 0o700); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	if err := ensureAccounts(cfg, a.files, stdout); err != nil {
		return err
	}
	creds, err := a.files.load()
	if err != nil {
		return err
	}
	a.creds.Store(creds)
	describeAccounts(creds, a.files, stdout)
	var tlsConf *tls.Config
	if cfg.tlsAddr != "" {
		src, err := prepareTLS(cfg, stdout)
		if err != nil {
			return err
		}
		r, err := certs.NewReloader(src.cert, src.key)
		if err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		tlsConf = r.Config()
	}
	if a.m, err = metrics.NewOn(a.metrics); err != nil {
		return err
	}
	a.m.SetRobots(creds.RobotIDs())

	// The decision core, its store and its missions.
	var mf *mission.File
	if cfg.missions != "" {
		if mf, err = mission.Load(cfg.missions); err != nil {
			return err
		}
	}
	if cfg.diameterM == 0 && (mf == nil || mf.Arena.DiameterM == 0) {
		cfg.diameterM = defaultDiameterM
		a.cfg.diameterM = cfg.diameterM
		a.log.Warn().Float64("diameter_m", cfg.diameterM).Msg("no arena diameter given (--diameter or a missions file): assuming the default")
	}
	st, err := store.Open(filepath.Join(cfg.stateDir, "orchestrator.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	coreLog := a.log.With().Str("component", "core").Logger()
	c, err := core.New(core.Config{DiameterM: cfg.diameterM, Missions: mf, Mapper: cfg.mapper,
		Planner: traffic.NewReserver(traffic.ReserverConfig{}), Log: &coreLog}, st)
	if err != nil {
		return err
	}
	a.epoch = c.Epoch()
	a.missions = mf
	a.runner = core.NewRunner(c, a.publishOut, time.Now)
	a.web, err = web.New(web.Options{Source: a.runner, Log: a.log.With().Str("component", "web").Logger(),
		Rejects: a.m.Reject, Verifier: web.CredentialsVerifier(a.creds.Load), AnonymousRead: cfg.allowAnonymousWatch})
	if err != nil {
		return err
	}

	// The inbox, between the broker's door and the core: it runs until the
	// broker has closed (deferred before the broker's Close, so after it).
	a.inbox = ingest.New(ingest.Options{Handle: a.take, OnShed: a.m.Shed, OnLag: a.m.Lag})
	inboxCtx, stopInbox := context.WithCancel(context.Background())
	inboxDone := make(chan struct{})
	go func() { a.inbox.Run(inboxCtx); close(inboxDone) }()
	defer func() { stopInbox(); <-inboxDone }()

	// The broker: embedded, or an external one.
	brokerURL := cfg.brokerURL
	if cfg.brokerURL == "" {
		a.broker, err = broker.New(broker.Options{
			TCPAddr:             cfg.mqttAddr,
			TLSAddr:             cfg.tlsAddr,
			TLSConfig:           tlsConf,
			WSAddr:              cfg.wsAddr,
			StateDir:            cfg.stateDir,
			Credentials:         creds,
			AllowAnonymousWatch: cfg.allowAnonymousWatch,
			Logger:              a.log.With().Str("component", "broker").Logger(),
			Registerer:          a.metrics,
			OnClientOnline:      func(id string) { a.log.Info().Str("robot", id).Msg("robot connected") },
			OnClientOffline:     func(id string) { a.log.Info().Str("robot", id).Msg("robot disconnected") },
			Accept:              a.accept,
		})
		if err != nil {
			return err
		}
		defer func() {
			if err := a.broker.Close(); err != nil {
				a.log.Error().Err(err).Msg("broker close")
			}
		}()
		brokerURL = "tcp://" + loopback(a.broker.Addrs().TCP)
		a.bus = a.broker
	} else {
		if err := a.dialExternal(); err != nil {
			return err
		}
		defer a.ext.Close()
	}
	a.runner.Announce()

	// The simulated fleet, each robot on its own MQTT connection.
	var fleet *simfleet.Fleet
	if cfg.sim > 0 {
		if fleet, err = a.startSim(brokerURL); err != nil {
			a.runner.Shutdown()
			return err
		}
		defer fleet.Close()
		// The simulated robots' accounts were added since (startSim hands
		// them to the broker): their series.
		a.m.SetRobots(a.creds.Load().RobotIDs())
	}

	// Robot processes beside this one.
	sitlCtx, stopMirror := context.WithCancel(ctx)
	defer stopMirror()
	if cfg.sitl > 0 {
		sf, err := a.startSITL(sitlCtx, brokerURL)
		if err != nil {
			a.runner.Shutdown()
			return err
		}
		defer sf.stop()
	}

	ln, err := net.Listen("tcp", cfg.httpAddr)
	if err != nil {
		a.runner.Shutdown()
		return fmt.Errorf("http listen %s: %w", cfg.httpAddr, err)
	}
	scheme := "http"
	if tlsConf != nil {
		// The dashboard's passwords and sessions never cross the Wi-Fi in
		// clear: same certificate as the broker's.
		ln, scheme = tls.NewListener(ln, tlsConf), "https"
	}
	srv := &http.Server{Handler: newMux(a), ReadHeaderTimeout: 10 * time.Second}
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Serve(ln) }()

	loops, cancelLoops := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(4)
	go func() { defer wg.Done(); a.runner.Run(loops, 100*time.Millisecond, topics.OrchestratorHeartbeatPeriod) }()
	go func() { defer wg.Done(); a.web.Hub().Run(loops) }()
	go func() { defer wg.Done(); a.watchStats(loops) }()
	go func() { defer wg.Done(); a.watchCredentials(loops, 2*time.Second) }()
	if fleet != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fleet.Run(loops, cfg.simSpeed); err != nil {
				a.log.Error().Err(err).Msg("simulated world stopped")
			}
		}()
	}

	if a.broker != nil {
		addrs := a.broker.Addrs()
		for _, l := range []struct{ name, addr string }{
			{"mqtt", addrs.TCP}, {"mqtt-tls", addrs.TLS}, {"mqtt-ws", addrs.WS},
		} {
			if l.addr != "" {
				fmt.Fprintf(stdout, "%s listening on %s\n", l.name, l.addr)
			}
		}
	}
	fmt.Fprintf(stdout, "%s listening on %s\n", scheme, ln.Addr().String())
	fmt.Fprintf(stdout, "dashboard: %s://%s/\n", scheme, loopback(ln.Addr().String()))
	a.ready.Store(true)
	fmt.Fprintln(stdout, "ready")
	a.log.Info().Uint64("epoch", a.epoch).Str("mqtt", brokerURL).Str("http", ln.Addr().String()).
		Int("sim", cfg.sim).Msg("orchestrator running")

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-httpDone:
		runErr = fmt.Errorf("http server: %w", err)
	}

	// Shutdown: tell the robots first, then stop serving. Everything below
	// is bounded so that the process exits within 5 s.
	a.ready.Store(false)
	a.log.Info().Msg("shutting down")
	cancelLoops()
	wg.Wait()
	a.runner.Shutdown() // orchestrator/status offline: robots stop
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	return runErr
}

// publisher publishes as the orchestrator: the embedded broker's inline
// client (*broker.Broker) or the connection to an external one
// (*extbus.Bus).
type publisher interface {
	Publish(topic string, payload []byte, retain bool, qos byte) error
}

var (
	_ publisher = (*broker.Broker)(nil)
	_ publisher = (*extbus.Bus)(nil)
)

// reloadCredentials reads the credentials files again and hands the result
// to the broker and the dashboard: accounts added while running (robot
// enrollment, orchestrator passwd) work at once, without a restart. A
// user of the files wins over a simulated robot of the same name.
func (a *app) reloadCredentials() error {
	a.credMu.Lock()
	defer a.credMu.Unlock()
	return a.reloadLocked()
}

func (a *app) reloadLocked() error {
	c, err := a.files.load(a.simCreds)
	if err != nil {
		return err
	}
	if a.broker != nil {
		if err := a.broker.SetCredentials(c); err != nil {
			return err
		}
	}
	a.creds.Store(c)
	return nil
}

// watchCredentials reloads the credentials when either file changes,
// checking every period. A file that fails to load keeps the previous
// accounts, and says why.
func (a *app) watchCredentials(ctx context.Context, period time.Duration) {
	stamp := func() string {
		var s []string
		for _, f := range []string{a.files.user, a.files.own} {
			if f == "" {
				continue
			}
			if fi, err := os.Stat(f); err == nil {
				s = append(s, fmt.Sprint(fi.ModTime().UnixNano(), fi.Size()))
			} else {
				s = append(s, "-")
			}
		}
		return strings.Join(s, "/")
	}
	last := stamp()
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := stamp()
		if now == last {
			continue
		}
		last = now
		if err := a.reloadCredentials(); err != nil {
			a.log.Error().Err(err).Msg("credentials changed but do not load: keeping the previous accounts")
			continue
		}
		c := a.creds.Load()
		a.log.Info().Int("users", len(c.Users)).Strs("robots", byRole(c, broker.RoleRobot)).Msg("credentials reloaded")
	}
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// loopback turns a wildcard listen address into one a local client can dial.
func loopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// accept takes one robot message from the embedded broker, decoded once at
// its door, into the inbox: a QoS 1 message returns once the core took it
// (a checkpoint is then on disk), a QoS 0 one at once.
func (a *app) accept(in broker.Inbound) error {
	return a.inbox.Put(context.Background(), ingest.Item{Topic: in.Topic, Msg: in.Msg, Payload: in.Payload})
}

// acceptWire takes one robot message from an external broker: it is
// decoded here, once. A retained message that the broker sends on
// subscribing is an old one: only a status is retained by the contract
// (the robot's last word, its will included); any other kind that a robot
// published retained would be replayed at every start and reconnect (a
// head-on long over, a checkpoint, a pose from another day), so it is
// refused, counted and logged. The embedded broker never retains them.
func (a *app) acceptWire(topic string, payload []byte, retained bool) error {
	t, msg, err := topics.DecodeTopic(topic, payload)
	if err != nil {
		kind := string(t.Kind)
		if kind == "" {
			kind = "topic"
		}
		a.m.Reject("invalid_" + kind)
		a.log.Warn().Err(err).Str("topic", topic).Msg("rejected")
		return nil // acknowledge: it will never become good
	}
	if retained && !topics.PolicyOf(t.Kind).Retained {
		a.m.RejectRobot(metrics.StaleRetained, t.Robot)
		a.log.Warn().Str("topic", topic).Str("reason", metrics.StaleRetained).
			Msg("rejected: a retained message the broker replayed; the contract does not retain this kind (the robot set the retain flag)")
		return nil
	}
	return a.inbox.Put(context.Background(), ingest.Item{Topic: t, Msg: msg, Payload: payload})
}

// take is the inbox's handler: the core first (a checkpoint is on disk when
// it returns), then the dashboard and the metrics, all with the message as
// decoded at the door.
func (a *app) take(it ingest.Item) error {
	err := a.runner.Take(it.Topic, it.Msg)
	if err != nil && !errors.Is(err, core.ErrRejected) {
		return err // the store failed: leave it unacknowledged
	}
	if err != nil {
		a.m.RejectRobot(metrics.CoreReason(it.Topic.Kind), it.Topic.Robot)
	} else if it.Topic.Kind == topics.KindPose {
		a.mu.Lock()
		a.poseAt[it.Topic.Robot] = it.At
		a.mu.Unlock()
	}
	a.m.Observe(it.Topic.Kind, it.Msg)
	if it.Topic.Kind != topics.KindHeartbeat {
		a.web.Take(it.Topic, it.Msg)
	}
	return nil
}

// publishOut sends one message of the core. It runs under the runner's
// lock: it must not call back into the runner.
func (a *app) publishOut(o core.Out) {
	b, err := o.Bytes()
	if err != nil {
		a.log.Error().Err(err).Str("topic", o.Topic).Msg("core produced an invalid message: not sent")
		a.m.Reject("invalid_outgoing")
		return
	}
	err = a.bus.Publish(o.Topic, b, o.Retain, o.QoS)
	if err != nil {
		a.log.Error().Err(err).Str("topic", o.Topic).Msg("publish failed")
		return
	}
	a.m.MessageOut(metrics.KindOf(o.Topic))
	if o.Topic == topics.TopicOrchestratorHeartbeat {
		return // liveness only: nothing for the dashboard
	}
	if d, ok := o.Payload.(*topics.Directive); ok && d.Kind == topics.DirHold {
		a.m.HoldStarted()
		if t, err := topics.Parse(o.Topic); err == nil {
			a.mu.Lock()
			at, seen := a.poseAt[t.Robot]
			a.mu.Unlock()
			if seen {
				a.m.HoldLatency(time.Since(at))
			}
		}
	}
	if t, err := topics.Parse(o.Topic); err == nil {
		a.web.Take(t, o.Payload)
	}
}

// watchStats mirrors the core's counters into the metrics once a second.
func (a *app) watchStats(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	checkpoints := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st := a.runner.Stats()
		for ; checkpoints < st.Checkpoints; checkpoints++ {
			a.m.Checkpoint()
		}
		if n := st.HoldsFinished - a.holdSeen; n > 0 {
			recent := st.RecentHolds
			for _, h := range recent[max(0, len(recent)-n):] {
				a.m.HoldEnded(h.End.Sub(h.Start))
			}
			a.holdSeen = st.HoldsFinished
		}
		online := 0
		for _, r := range a.runner.Fleet().Robots {
			if r.Online {
				online++
			}
		}
		a.m.SetOnline(online)
	}
}

// dialExternal connects to --broker, with a last will that tells the robots
// the orchestrator is gone.
func (a *app) dialExternal() error {
	pass := ""
	if a.cfg.passwordFile != "" {
		b, err := os.ReadFile(a.cfg.passwordFile)
		if err != nil {
			return fmt.Errorf("password file: %w", err)
		}
		pass = strings.TrimSpace(string(b))
	}
	will, err := topics.Encode(&topics.OrchestratorState{Header: topics.Stamp(senderID, 0, time.Now()),
		State: topics.OrchOffline, Epoch: a.epoch})
	if err != nil {
		return err
	}
	a.ext, err = extbus.Dial(extbus.Options{URL: a.cfg.brokerURL, Username: a.cfg.username, Password: pass,
		CAFile: a.cfg.tlsCA, WillTopic: topics.TopicOrchestratorStatus, WillPayload: will,
		Log: a.log.With().Str("component", "extbus").Logger(),
		// A broker that restarted may have lost the retained status, map
		// and fleet command, or published the will: say them again.
		OnReconnect: a.runner.Announce})
	if err != nil {
		return fmt.Errorf("external broker: %w", err)
	}
	a.bus = a.ext // before the subscriptions: a message may make the core publish
	for _, k := range topics.RobotPublishes {
		if err := a.ext.Subscribe(topics.RobotFilter(k), a.acceptWire); err != nil {
			a.ext.Close()
			return fmt.Errorf("external broker: %w", err)
		}
	}
	return nil
}

// startSim connects N simulated robots, each under credentials of its own.
func (a *app) startSim(brokerURL string) (*simfleet.Fleet, error) {
	credential := func(id string) (string, error) {
		pass, err := broker.RandomPassword()
		if err != nil {
			return "", err
		}
		a.credMu.Lock()
		defer a.credMu.Unlock()
		if err := a.simCreds.SetPassword(id, broker.RoleRobot, []byte(pass)); err != nil {
			return "", err
		}
		return pass, a.reloadLocked()
	}
	if a.cfg.brokerURL != "" {
		b, err := os.ReadFile(a.cfg.simPass)
		if err != nil {
			return nil, fmt.Errorf("sim password file: %w", err)
		}
		pass := strings.TrimSpace(string(b))
		credential = func(string) (string, error) { return pass, nil }
	}
	publishTruth := func(p []byte) error {
		err := a.bus.Publish(topics.TopicSimWorld, p, false, 0)
		if w, derr := topics.DecodeWorld(p); derr == nil { // the sim's own message, encoded by it
			a.m.Observe(topics.KindSimWorld, w)
			a.web.Take(topics.Topic{Kind: topics.KindSimWorld}, w)
		}
		return err
	}
	wc := sim.Config{Seed: a.cfg.simSeed}
	if d := a.runnerDiameter(); d > 0 {
		wc.DiameterM = d
	}
	f, err := simfleet.Start(simfleet.Options{N: a.cfg.sim, BrokerURL: brokerURL, Credential: credential,
		PublishTruth: publishTruth, World: wc, StoreDir: filepath.Join(a.cfg.stateDir, "sim-outbox"),
		Log: a.log.With().Str("component", "sim").Logger()})
	if err != nil {
		return nil, err
	}
	a.log.Info().Int("robots", a.cfg.sim).Float64("speed", a.cfg.simSpeed).Msg("simulated fleet connected")
	return f, nil
}

// runnerDiameter is the configured arena diameter, for the simulated world.
func (a *app) runnerDiameter() float64 {
	if a.cfg.diameterM > 0 {
		return a.cfg.diameterM
	}
	if a.missions != nil {
		return a.missions.Arena.DiameterM
	}
	return 0
}
