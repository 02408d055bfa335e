package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/rs/zerolog"

	"collaborate/robot/control"
	"collaborate/robot/drive"
	"collaborate/robot/hw"
	"collaborate/robot/link"
	"collaborate/robot/pilot"
	"collaborate/robot/sim"
	"collaborate/robot/systemd"
	"collaborate/robot/vision"
	"collaborate/robot/world"
	"collaborate/topics"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// backend is a robot's hardware: a detector, a drive, a clock, and what must
// run beside the control loop (the simulated world).
type backend struct {
	detector hw.Detector
	drive    hw.Drive
	clock    hw.Clock
	run      func(ctx context.Context) error // nil when nothing runs beside the loop
	// progress counts the turns of what runs beside the loop, nil when
	// nothing does: the systemd watchdog pings only while it advances.
	progress func() uint64
	close    func() error
	scale    float64 // sim seconds per wall second of the clock; 0 means 1
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "detect" {
		return vision.DetectCommand(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "calibrate" {
		return vision.CalibrateCommand(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "halt" {
		return halt(args[1:], stderr)
	}
	if len(args) > 0 && args[0] == "world" {
		return runWorld(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("robot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		configPath = fs.String("config", "", "robot config file (YAML)")
		hwKind     = fs.String("hw", "sim", "hardware backend: sim (alone in a simulated arena), sitl (a body in a `robot world` server) or pi")
		worldAddr  = fs.String("world", "127.0.0.1:7400", "with --hw sitl: the world server's address")
		camera     = fs.String("camera", "geometric", "with --hw sitl: geometric (the world's detections) or render (rendered frames through the Pi's ArUco pipeline; needs -tags opencv)")
		cameraFPS  = fs.Float64("camera-fps", 15, "with --camera render: frames per second of the world's time")
		camStats   = fs.String("camera-stats", "", "with --camera render: write the camera's figures (fps, detection time, ranging error) to this JSON file at exit")
		id         = fs.String("id", "", "robot id (overrides the config)")
		broker     = fs.String("broker", "", "broker URL, e.g. tcp://laptop:1883, or a comma-separated list of a cluster's nodes (overrides the config)")
		passFile   = fs.String("password-file", "", "file holding this robot's MQTT password (overrides the config)")
		tlsCA      = fs.String("tls-ca", "", "CA certificate for a tls:// broker (overrides the config)")
		storeDir   = fs.String("store-dir", "", "on-disk outbox for QoS 1 messages (overrides the config)")
		faceBase   = fs.Int("face-base", 0, "first of this robot's four face marker ids (overrides the config)")
		logFormat  = fs.String("log-format", "", "console or json (default: console on a terminal)")
	)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: robot --config FILE --hw sim|sitl|pi [flags]\n       robot world [flags]\n       robot detect --image FILE | --camera [--config FILE]\n       robot halt --config FILE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	for v, dst := range map[string]*string{*id: &cfg.ID, *broker: &cfg.Broker, *passFile: &cfg.PasswordFile, *tlsCA: &cfg.TLSCA, *storeDir: &cfg.StoreDir} {
		if v != "" {
			*dst = v
		}
	}
	if *faceBase > 0 {
		cfg.FaceBase = *faceBase
	}
	var body *world.Body
	if *hwKind == "sitl" {
		// The world places the body and knows its faces: claim it first,
		// so that a robot configured without faces takes the world's.
		if err := topics.CheckRobotID(cfg.ID); err != nil {
			return fmt.Errorf("config: id: %w", err)
		}
		if body, err = world.Dial(*worldAddr, cfg.ID, world.DialOptions{Faces: cfg.faces()}); err != nil {
			return err
		}
		defer body.Close()
		if cfg.faces() == (topics.FaceIDs{}) {
			cfg.FaceBase = body.Faces().Front
		}
	}
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	log := newLogger(*logFormat, stderr).With().Str("robot", cfg.ID).Logger()
	password, err := readPassword(cfg.PasswordFile)
	if err != nil {
		return err
	}

	var be backend
	switch *hwKind {
	case "sim":
		be, err = simBackend(cfg)
	case "sitl":
		be = backend{detector: body, drive: body, clock: body, scale: body.Scale()}
		switch *camera {
		case "geometric":
		case "render":
			if !(*cameraFPS > 0 && *cameraFPS <= 100) {
				return fmt.Errorf("--camera-fps must be within (0, 100], got %v", *cameraFPS)
			}
			stats := &cameraStats{}
			det, closeCam, cerr := sitlCamera(cfg, body, *cameraFPS, stats)
			if cerr != nil {
				return cerr
			}
			be.detector, be.close = det, closeCam
			if *camStats != "" {
				began := time.Now()
				defer func() {
					if err := stats.write(*camStats, time.Since(began)); err != nil {
						log.Error().Err(err).Msg("camera stats")
					}
				}()
			}
		default:
			return fmt.Errorf("--camera must be geometric or render, got %q", *camera)
		}
	case "pi":
		be, err = piBackend(cfg, log)
	default:
		return fmt.Errorf("--hw must be sim, sitl or pi, got %q", *hwKind)
	}
	if err != nil {
		return err
	}
	defer func() {
		if be.close != nil {
			if err := be.close(); err != nil {
				log.Error().Err(err).Msg("close hardware")
			}
		}
	}()
	defer be.drive.Halt() // on every way out, panics included

	p, err := pilot.New(pilotConfig(cfg))
	if err != nil {
		return err
	}
	faces := cfg.faces()
	l, err := link.Dial(link.Options{
		BrokerURL: cfg.Broker, RobotID: cfg.ID, Password: password, CAFile: cfg.TLSCA,
		StoreDir: cfg.StoreDir, Version: version, Faces: &faces, Logger: &log,
	})
	if err != nil {
		return err
	}
	defer l.Close()
	log.Info().Str("broker", cfg.Broker).Str("hw", *hwKind).Msg("robot started")

	loop := &control.Loop{Pilot: p, Detector: be.detector, Drive: be.drive, Link: l, Clock: be.clock, Log: log}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	if be.run != nil {
		go func() { errc <- be.run(ctx) }()
	}
	// The control period is in the clock's time: a world that runs faster
	// than real time ticks its robots faster too.
	period := time.Duration(float64(time.Second) / cfg.ControlHz)
	if be.scale > 0 {
		period = time.Duration(float64(period) / be.scale)
	}
	progress := []func() uint64{loop.Ticks}
	if be.progress != nil {
		progress = append(progress, be.progress)
	}
	watched := make(chan struct{})
	go func() { systemd.Watch(ctx, log, progress...); close(watched) }()
	defer func() { cancel(); <-watched }() // STOPPING=1 before the process ends
	loopErr := loop.Run(ctx, period)
	cancel()
	if be.run != nil {
		if err := <-errc; err != nil && loopErr == nil {
			loopErr = err
		}
	}
	log.Info().Msg("robot stopped, motors halted")
	return loopErr
}

// halt stops the motors named in the config and releases them: systemd runs
// it after every stop, in case the robot died without halting (hardware PWM
// keeps running after its process exits).
func halt(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("robot halt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "robot config file (YAML)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	return drive.Off(cfg.Drive)
}

func pilotConfig(c Config) pilot.Config {
	pc := pilot.DefaultConfig(c.ID, c.faces())
	pc.Version = version
	set := func(dst *float64, v float64) {
		if v > 0 {
			*dst = v
		}
	}
	set(&pc.MaxSpeedMps, c.Pilot.MaxSpeedMps)
	set(&pc.MaxTurnRps, c.Pilot.MaxTurnRps)
	set(&pc.StopDistanceM, c.Pilot.StopDistanceM)
	set(&pc.ParkDistanceM, c.Pilot.ParkDistanceM)
	set(&pc.FaceStopDistanceM, c.Pilot.FaceStopDistanceM)
	set(&pc.ReflexHalfWidthM, c.Pilot.ReflexHalfWidthM)
	if c.Pilot.PoseIdleEvery > 0 {
		pc.PoseIdleEvery = c.Pilot.PoseIdleEvery
	}
	if c.Pilot.StatusEvery > 0 {
		pc.StatusEvery = c.Pilot.StatusEvery
	}
	if c.Pilot.ForwardConeDeg > 0 {
		pc.ForwardConeRad = c.Pilot.ForwardConeDeg * math.Pi / 180
	}
	return pc
}

// simBackend puts the robot alone at the centre of a default simulated
// arena, stepped in real time.
func simBackend(c Config) (backend, error) {
	scfg := sim.DefaultConfig()
	scfg.Start = time.Now()
	scfg.Seed = time.Now().UnixNano()
	scfg.FaceBase = c.faces().Front
	w, err := sim.New(scfg)
	if err != nil {
		return backend{}, err
	}
	starts, err := w.DefaultStarts(1)
	if err != nil {
		return backend{}, err
	}
	r, err := w.AddRobot(c.ID, starts[0])
	if err != nil {
		return backend{}, err
	}
	return backend{
		detector: r.Detector(), drive: r.Drive(), clock: w.Clock(),
		run: func(ctx context.Context) error { return w.Run(ctx, sim.RunConfig{}) },
	}, nil
}

func newLogger(format string, w io.Writer) zerolog.Logger {
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "console"
			}
		}
	}
	if format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).With().Timestamp().Logger()
}
