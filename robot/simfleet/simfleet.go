package simfleet

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"collaborate/robot/control"
	"collaborate/robot/link"
	"collaborate/robot/pilot"
	"collaborate/robot/sim"
	"collaborate/topics"
)

// Options configure a simulated fleet.
type Options struct {
	N         int
	BrokerURL string // the broker the robots connect to, e.g. tcp://127.0.0.1:1883
	// Credential creates (or replaces) robot id's broker credentials and
	// returns its password.
	Credential func(id string) (string, error)
	// PublishTruth publishes a sim/world payload (the orchestrator's own
	// in-process connection). Nil: no ground truth is published.
	PublishTruth func(payload []byte) error
	World        sim.Config // zero fields take sim's defaults
	TimeScale    float64    // sim seconds per wall second; 0 means 1
	ControlHz    float64    // pilots' tick rate in sim time; 0 means 20
	StoreDir     string     // each robot's QoS 1 outbox lives below it
	Log          zerolog.Logger
}

// Fleet is a running simulated fleet.
type Fleet struct {
	World *sim.World
	IDs   []string
	links []*link.Link
	loops []*control.Loop
	mu    sync.Mutex // serialises the world hook with Close
}

// ID is the name of robot k (from 0).
func ID(k int) string { return fmt.Sprintf("r%d", k+1) }

// Start builds the world and connects every robot. Run steps it.
func Start(o Options) (*Fleet, error) {
	if o.N < 1 || o.N > 64 {
		return nil, fmt.Errorf("sim: robot count must be within [1, 64], got %d", o.N)
	}
	if o.ControlHz == 0 {
		o.ControlHz = 20
	}
	wc := o.World
	if wc.Start.IsZero() {
		wc.Start = time.Now()
	}
	if wc.Seed == 0 {
		wc.Seed = time.Now().UnixNano()
	}
	w, err := sim.New(wc)
	if err != nil {
		return nil, err
	}
	f := &Fleet{World: w}
	for k := 0; k < o.N; k++ {
		f.IDs = append(f.IDs, ID(k))
	}
	robots, err := w.AddRobots(f.IDs...)
	if err != nil {
		return nil, err
	}
	for _, r := range robots {
		pass, err := o.Credential(r.ID())
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("sim: credentials for %s: %w", r.ID(), err)
		}
		faces := r.FaceIDs()
		log := o.Log.With().Str("robot", r.ID()).Logger()
		store := ""
		if o.StoreDir != "" {
			store = filepath.Join(o.StoreDir, r.ID())
		}
		l, err := link.Dial(link.Options{
			BrokerURL: o.BrokerURL, RobotID: r.ID(), Password: pass, StoreDir: store,
			Version: "sim", Faces: &faces, Logger: &log,
		})
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("sim: connect %s: %w", r.ID(), err)
		}
		f.links = append(f.links, l)
		pc := pilot.DefaultConfig(r.ID(), faces)
		pc.Version = "sim"
		pc.FaceBase = w.Config().FaceBase
		p, err := pilot.New(pc)
		if err != nil {
			f.Close()
			return nil, err
		}
		f.loops = append(f.loops, &control.Loop{
			Pilot: p, Detector: r.Detector(), Drive: r.Drive(), Link: l, Clock: w.Clock(), Log: log,
		})
	}
	period := time.Duration(float64(time.Second) / o.ControlHz)
	if err := w.Every(period, func(time.Time) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, l := range f.loops {
			l.Tick()
		}
	}); err != nil {
		f.Close()
		return nil, err
	}
	if o.PublishTruth != nil {
		err := w.TruthEvery(100*time.Millisecond, func(t topics.World) {
			b, err := topics.Encode(&t)
			if err == nil {
				err = o.PublishTruth(b)
			}
			if err != nil {
				o.Log.Warn().Err(err).Msg("sim/world not published")
			}
		})
		if err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// Run steps the world in real time until ctx ends, then halts every robot.
func (f *Fleet) Run(ctx context.Context, timeScale float64) error {
	err := f.World.Run(ctx, sim.RunConfig{TimeScale: timeScale})
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.loops {
		_ = l.Drive.Halt()
	}
	return err
}

// Close disconnects every robot: each leaves its last will (offline).
func (f *Fleet) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	for _, l := range f.links {
		errs = append(errs, l.Close())
	}
	f.links = nil
	return errors.Join(errs...)
}
