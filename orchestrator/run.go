package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"collaborate/broker"
	"collaborate/topics"

	"github.com/mattn/go-isatty"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// senderID is the orchestrator's sender in every header it stamps.
const senderID = "orchestrator"

// config is the parsed command line.
type config struct {
	credentials         string
	mqttAddr            string
	tlsAddr             string
	tlsCert, tlsKey     string
	wsAddr              string
	stateDir            string
	httpAddr            string
	logFormat           string
	allowAnonymousWatch bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("orchestrator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.credentials, "credentials", "", "credentials YAML file (default STATE_DIR/credentials.yaml, created on first run)")
	fs.StringVar(&c.mqttAddr, "mqtt-addr", ":1883", "MQTT TCP listen address (empty: none)")
	fs.StringVar(&c.tlsAddr, "tls-addr", "", "MQTT TLS listen address (default :8883 when --tls-cert is given)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "TLS certificate PEM file")
	fs.StringVar(&c.tlsKey, "tls-key", "", "TLS private key PEM file")
	fs.StringVar(&c.wsAddr, "ws-addr", "", "MQTT over WebSocket listen address (empty: none)")
	fs.StringVar(&c.stateDir, "state-dir", "./state", "directory for the broker store, the epoch and first-run passwords")
	fs.StringVar(&c.httpAddr, "http-addr", ":8080", "HTTP listen address (healthz, metrics)")
	fs.StringVar(&c.logFormat, "log-format", "", "console or json (default console on a terminal, else json)")
	fs.BoolVar(&c.allowAnonymousWatch, "allow-anonymous-watch", false, "let clients without credentials read every topic")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (subcommands: passwd)", fs.Arg(0))
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return c, errors.New("--tls-cert and --tls-key go together")
	}
	if c.tlsCert != "" && c.tlsAddr == "" {
		c.tlsAddr = ":8883"
	}
	if c.tlsAddr != "" && c.tlsCert == "" {
		return c, errors.New("--tls-addr needs --tls-cert and --tls-key")
	}
	switch c.logFormat {
	case "", "console", "json":
	default:
		return c, fmt.Errorf("--log-format must be console or json, got %q", c.logFormat)
	}
	if c.credentials == "" {
		c.credentials = filepath.Join(c.stateDir, "credentials.yaml")
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

// app holds what run wires together. Later parts (the fleet core, the JSON
// API, the dashboard, the simulator) hang off it and add routes in newMux.
type app struct {
	cfg     config
	log     zerolog.Logger
	broker  *broker.Broker
	metrics *prometheus.Registry
	epoch   uint64
	seq     atomic.Uint64 // of orchestrator/status
	ready   atomic.Bool
}

// run is the whole program; main only adds signals and the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "passwd" {
		return runPasswd(args[1:], stdin, stdout, stderr)
	}
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	a := &app{cfg: cfg, log: newLogger(cfg.logFormat, stderr), metrics: prometheus.NewRegistry()}
	if err := os.MkdirAll(cfg.stateDir, 0o700); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	if err := bootstrapCredentials(cfg, stdout); err != nil {
		return err
	}
	creds, err := broker.LoadCredentials(cfg.credentials)
	if err != nil {
		return err
	}
	if a.epoch, err = nextEpoch(cfg.stateDir); err != nil {
		return err
	}
	a.broker, err = broker.New(broker.Options{
		TCPAddr:             cfg.mqttAddr,
		TLSAddr:             cfg.tlsAddr,
		TLSCert:             cfg.tlsCert,
		TLSKey:              cfg.tlsKey,
		WSAddr:              cfg.wsAddr,
		StateDir:            cfg.stateDir,
		Credentials:         creds,
		AllowAnonymousWatch: cfg.allowAnonymousWatch,
		Logger:              a.log.With().Str("component", "broker").Logger(),
		Registerer:          a.metrics,
		OnClientOnline:      func(id string) { a.log.Info().Str("robot", id).Msg("robot connected") },
		OnClientOffline:     func(id string) { a.log.Info().Str("robot", id).Msg("robot disconnected") },
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := a.broker.Close(); err != nil {
			a.log.Error().Err(err).Msg("broker close")
		}
	}()
	if err := a.publishState(topics.OrchOnline); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.httpAddr)
	if err != nil {
		return fmt.Errorf("http listen %s: %w", cfg.httpAddr, err)
	}
	srv := &http.Server{Handler: newMux(a), ReadHeaderTimeout: 10 * time.Second}
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Serve(ln) }()

	addrs := a.broker.Addrs()
	for _, l := range []struct{ name, addr string }{
		{"mqtt", addrs.TCP}, {"mqtt-tls", addrs.TLS}, {"mqtt-ws", addrs.WS}, {"http", ln.Addr().String()},
	} {
		if l.addr != "" {
			fmt.Fprintf(stdout, "%s listening on %s\n", l.name, l.addr)
		}
	}
	a.ready.Store(true)
	fmt.Fprintln(stdout, "ready")
	a.log.Info().Uint64("epoch", a.epoch).Str("mqtt", addrs.TCP).Str("http", ln.Addr().String()).Msg("orchestrator running")

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
	if err := a.publishState(topics.OrchOffline); err != nil {
		a.log.Error().Err(err).Msg("publish offline")
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	return runErr
}

// publishState publishes orchestrator/status, retained.
func (a *app) publishState(state string) error {
	m := &topics.OrchestratorState{
		Header: topics.Stamp(senderID, a.seq.Add(1), time.Now()),
		State:  state,
		Epoch:  a.epoch,
	}
	b, err := topics.Encode(m)
	if err != nil {
		return fmt.Errorf("encode orchestrator status: %w", err)
	}
	p := topics.PolicyOf(topics.KindOrchestratorStatus)
	return a.broker.Publish(topics.TopicOrchestratorStatus, b, p.Retained, p.QoS)
}

// nextEpoch increments and returns the epoch kept in stateDir/epoch.
func nextEpoch(stateDir string) (uint64, error) {
	path := filepath.Join(stateDir, "epoch")
	var e uint64
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		e, err = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("epoch file %s: %w", path, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return 0, fmt.Errorf("epoch file: %w", err)
	}
	e++
	if err := broker.WriteFileAtomic(path, []byte(strconv.FormatUint(e, 10)+"\n"), 0o600); err != nil {
		return 0, fmt.Errorf("epoch file: %w", err)
	}
	return e, nil
}
