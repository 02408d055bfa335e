package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"collaborate/robot/sim"
	"collaborate/robot/world"
)

// runWorld is `robot world`: the simulated world as a server that robot
// processes (`robot --hw sitl`) drive and see through, and observers watch.
func runWorld(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("robot world", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		addr      = fs.String("addr", "127.0.0.1:7400", "listen address (host:port; port 0 picks one)")
		robots    = fs.Int("robots", 0, "place robots r1..rN now, at the default starts (r1 at the centre); others are placed as they connect")
		diameter  = fs.Float64("diameter", 3, "arena diameter in metres")
		markers   = fs.Int("markers", 12, "arena markers, ids 0..N-1, counter-clockwise from +x")
		seed      = fs.Int64("seed", 0, "seed of the camera noise (0: from the clock)")
		speed     = fs.Float64("speed", 1, "sim seconds per wall second")
		noiseless = fs.Bool("noiseless", false, "cameras without noise")
		logFormat = fs.String("log-format", "", "console or json (default: console on a terminal)")
	)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: robot world [flags]\nServes a simulated arena to `robot --hw sitl --world ADDR` processes.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("robot world: unexpected argument %q", fs.Arg(0))
	}
	if *robots < 0 || *robots > 64 {
		return fmt.Errorf("--robots must be within [0, 64], got %d", *robots)
	}
	if *seed == 0 {
		*seed = time.Now().UnixNano()
	}
	cfg := sim.Config{DiameterM: *diameter, MarkerCount: *markers, Seed: *seed, Start: time.Now()}
	cfg.Camera.Noiseless = *noiseless
	w, err := sim.New(cfg)
	if err != nil {
		return err
	}
	for k := 0; k < *robots; k++ {
		if _, err := w.AddRobots(fmt.Sprintf("r%d", k+1)); err != nil {
			return err
		}
	}
	log := newLogger(*logFormat, stderr).With().Str("component", "world").Logger()
	srv, err := world.NewServer(w, world.Options{Scale: *speed, Log: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("robot world: listen %s: %w", *addr, err)
	}
	fmt.Fprintf(stdout, "world listening on %s\nready\n", ln.Addr())
	log.Info().Str("addr", ln.Addr().String()).Int("robots", *robots).Float64("speed", *speed).Int64("seed", *seed).Msg("world running")
	err = srv.Run(ctx, ln)
	st := srv.Stats()
	log.Info().Uint64("sessions", st.Sessions).Uint64("frames", st.Frames).Uint64("bad_requests", st.BadRequests).
		Int("collisions", w.CollisionCount()).Msg("world stopped")
	return err
}
