package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"collaborate/topics"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Metrics, as the table names them.
const (
	mSent        = "sent msg/s"
	mDelivered   = "delivered msg/s"
	mLost        = "messages lost"
	mCPUPerMsg   = "broker CPU µs/msg sent"
	mCPU         = "broker CPU % of a core"
	mRSS         = "broker RSS MiB (max)"
	mP50         = "latency p50 ms"
	mP99         = "latency p99 ms"
	mDisconnects = "robots disconnected"
)

// measures are one run's figures, by metric.
type measures map[string]float64

func (m measures) summary(l load) string {
	s := ""
	for _, k := range l.metrics {
		s += fmt.Sprintf("  %s %s", k, format(m[k]))
	}
	return s
}

// A load is one kind of traffic, run against a fresh broker.
type load struct {
	id, name string
	metrics  []string
	run      func(ctx context.Context, srv *server, acc *accounts) (measures, error)
}

const (
	settle       = 2 * time.Second // no delivery for this long: the rest is lost
	connectLimit = 16              // robots connecting at once
)

// fleet is the clients of one run: the observer and the robots.
type fleet struct {
	observer paho.Client
	robots   []paho.Client

	received atomic.Int64
	lastAt   atomic.Int64 // unix ns of the last delivery
	corrupt  atomic.Int64 // deliveries that are not a valid pose
	lost     atomic.Int64 // connection-lost callbacks, robots and observer

	mu  sync.Mutex
	lat []time.Duration // publish (header ts) to observer
}

func (f *fleet) newClient(url, user, password string) paho.Client {
	o := paho.NewClientOptions().AddBroker(url).SetClientID(user).SetUsername(user).SetPassword(password).
		SetCleanSession(true).SetKeepAlive(30 * time.Second).SetConnectTimeout(time.Minute).
		SetAutoReconnect(true).SetMaxReconnectInterval(time.Second).
		SetConnectionLostHandler(func(paho.Client, error) { f.lost.Add(1) })
	return paho.NewClient(o)
}

func wait(t paho.Token, what string) error {
	if !t.WaitTimeout(2 * time.Minute) {
		return fmt.Errorf("%s: no answer within 2 minutes", what)
	}
	if err := t.Error(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// connectFleet connects the observer, subscribed to every robot's poses,
// then robots r1..rN.
func connectFleet(ctx context.Context, srv *server, acc *accounts, robots int) (*fleet, error) {
	f := &fleet{}
	f.observer = f.newClient(srv.url, observerName, acc.password)
	if err := wait(f.observer.Connect(), "observer connect"); err != nil {
		return nil, err
	}
	if err := wait(f.observer.Subscribe(topics.RobotFilter(topics.KindPose), 0, f.take), "observer subscribe"); err != nil {
		f.close()
		return nil, err
	}
	f.robots = make([]paho.Client, robots)
	errs := make([]error, robots)
	sem := make(chan struct{}, connectLimit)
	var wg sync.WaitGroup
	for i := range robots {
		f.robots[i] = f.newClient(srv.url, robotID(i+1), acc.password)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() == nil {
				errs[i] = wait(f.robots[i].Connect(), robotID(i+1)+" connect")
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

func (f *fleet) take(_ paho.Client, m paho.Message) {
	now := time.Now()
	p, err := topics.DecodePose(m.Payload())
	if err != nil {
		f.corrupt.Add(1)
	} else {
		f.mu.Lock()
		f.lat = append(f.lat, now.Sub(p.TS))
		f.mu.Unlock()
	}
	f.received.Add(1)
	f.lastAt.Store(now.UnixNano())
}

func (f *fleet) close() {
	for _, c := range append([]paho.Client{f.observer}, f.robots...) {
		if c != nil && c.IsConnected() {
			c.Disconnect(100)
		}
	}
}

// drain waits until want messages have arrived, or none for settle.
func (f *fleet) drain(ctx context.Context, want int64) {
	last, since := f.received.Load(), time.Now()
	for f.received.Load() < want && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
		if n := f.received.Load(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > settle {
			return
		}
	}
}

func (f *fleet) check() error {
	if n := f.corrupt.Load(); n > 0 {
		return fmt.Errorf("%d deliveries are not the valid poses sent", n)
	}
	return nil
}

// pose is what every robot sends: a valid pose, as a robot driving to a
// marker sends it.
func pose(id string, seq uint64, now time.Time) []byte {
	t, d, x, y, th := 5, 1.25, 0.5, -0.25, 1.5
	b, err := topics.Encode(&topics.Pose{Header: topics.Stamp(id, seq, now), State: topics.StateMoving,
		Target: &t, DistanceM: &d, XM: &x, YM: &y, ThetaRad: &th, SpeedMps: 0.2, Step: 1})
	if err != nil {
		panic(err) // a constant pose that does not encode is a bug here
	}
	return b
}

// faninLoad: robots burst poses at one observer as fast as they can.
func faninLoad(cfg config) load {
	return load{
		id:      "fanin",
		name:    fmt.Sprintf("fan-in %d×%d", cfg.faninRobots, cfg.faninEach),
		metrics: []string{mDelivered, mLost, mCPUPerMsg},
		run: func(ctx context.Context, srv *server, acc *accounts) (measures, error) {
			f, err := connectFleet(ctx, srv, acc, cfg.faninRobots)
			if err != nil {
				return nil, err
			}
			defer f.close()
			payloads := make([][][]byte, cfg.faninRobots)
			now := time.Now()
			for i := range payloads {
				for j := range cfg.faninEach {
					payloads[i] = append(payloads[i], pose(robotID(i+1), uint64(j+1), now))
				}
			}
			cpu0, err := srv.cpu()
			if err != nil {
				return nil, err
			}
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i, c := range f.robots {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					topic := topics.Robot(robotID(i+1), topics.KindPose)
					var last paho.Token
					for _, p := range payloads[i] {
						last = c.Publish(topic, 0, false, p)
					}
					last.WaitTimeout(time.Minute)
				}()
			}
			t0 := time.Now()
			close(start)
			wg.Wait()
			sent := int64(cfg.faninRobots * cfg.faninEach)
			f.drain(ctx, sent)
			cpu1, err := srv.cpu()
			if err != nil {
				return nil, err
			}
			got := f.received.Load()
			m := measures{mLost: float64(sent - got), mCPUPerMsg: float64((cpu1 - cpu0).Microseconds()) / float64(sent)}
			if got > 0 {
				m[mDelivered] = float64(got) / time.Unix(0, f.lastAt.Load()).Sub(t0).Seconds()
			}
			return m, errors.Join(f.check(), srv.alive(), ctx.Err())
		},
	}
}

// idleLoad: the robots of the rate loads connected, publishing nothing:
// what the broker spends on a fleet before any message, over a third of
// the rate loads' duration.
func idleLoad(cfg config) load {
	return load{
		id:      "idle",
		name:    fmt.Sprintf("%d robots idle", cfg.robots),
		metrics: []string{mCPU, mRSS, mDisconnects},
		run: func(ctx context.Context, srv *server, acc *accounts) (measures, error) {
			f, err := connectFleet(ctx, srv, acc, cfg.robots)
			if err != nil {
				return nil, err
			}
			defer f.close()
			cpu0, err := srv.cpu()
			if err != nil {
				return nil, err
			}
			t0 := time.Now()
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(max(cfg.duration/3, time.Second)):
			}
			cpu1, err := srv.cpu()
			if err != nil {
				return nil, err
			}
			rss, err := srv.rss()
			if err != nil {
				return nil, err
			}
			return measures{
				mCPU:         100 * (cpu1 - cpu0).Seconds() / time.Since(t0).Seconds(),
				mRSS:         float64(rss) / (1 << 20),
				mDisconnects: float64(f.lost.Load()),
			}, errors.Join(srv.alive(), ctx.Err())
		},
	}
}

// rateLoad: every robot publishes at hz for the configured duration, its
// phase spread over the period.
func rateLoad(cfg config, hz int) load {
	return load{
		id:      fmt.Sprintf("rate%d", hz),
		name:    fmt.Sprintf("%d robots × %d Hz", cfg.robots, hz),
		metrics: []string{mSent, mDelivered, mLost, mCPU, mCPUPerMsg, mRSS, mP50, mP99, mDisconnects},
		run: func(ctx context.Context, srv *server, acc *accounts) (measures, error) {
			f, err := connectFleet(ctx, srv, acc, cfg.robots)
			if err != nil {
				return nil, err
			}
			defer f.close()
			period := time.Second / time.Duration(hz)

			var maxRSS atomic.Int64
			sample := func() {
				if r, err := srv.rss(); err == nil && r > maxRSS.Load() {
					maxRSS.Store(r)
				}
			}
			done := make(chan struct{})
			go func() {
				tick := time.NewTicker(250 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-done:
						return
					case <-tick.C:
						sample()
					}
				}
			}()

			cpu0, err := srv.cpu()
			if err != nil {
				close(done)
				return nil, err
			}
			t0 := time.Now()
			end := t0.Add(cfg.duration)
			var sent atomic.Int64
			var wg sync.WaitGroup
			for i, c := range f.robots {
				wg.Add(1)
				go func() {
					defer wg.Done()
					id := robotID(i + 1)
					topic := topics.Robot(id, topics.KindPose)
					time.Sleep(period * time.Duration(i) / time.Duration(len(f.robots)))
					tick := time.NewTicker(period)
					defer tick.Stop()
					for seq := uint64(1); ; seq++ {
						now := time.Now()
						if now.After(end) || ctx.Err() != nil {
							return
						}
						c.Publish(topic, 0, false, pose(id, seq, now))
						sent.Add(1)
						<-tick.C
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(t0)
			cpu1, err := srv.cpu()
			sample()
			close(done)
			if err != nil {
				return nil, err
			}
			f.drain(ctx, sent.Load())

			got := f.received.Load()
			m := measures{
				mSent:        float64(sent.Load()) / elapsed.Seconds(),
				mDelivered:   float64(got) / elapsed.Seconds(),
				mLost:        float64(sent.Load() - got),
				mCPU:         100 * (cpu1 - cpu0).Seconds() / elapsed.Seconds(),
				mCPUPerMsg:   float64((cpu1 - cpu0).Microseconds()) / max(1, float64(sent.Load())),
				mRSS:         float64(maxRSS.Load()) / (1 << 20),
				mDisconnects: float64(f.lost.Load()),
			}
			f.mu.Lock()
			lat := slices.Clone(f.lat)
			f.mu.Unlock()
			if len(lat) > 0 {
				slices.Sort(lat)
				q := func(p float64) float64 {
					return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
				}
				m[mP50], m[mP99] = q(0.50), q(0.99)
			}
			return m, errors.Join(f.check(), srv.alive(), ctx.Err())
		},
	}
}
