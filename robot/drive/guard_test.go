package drive

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestGuardHalts(t *testing.T) {
	boom := errors.New("pilot failed")
	tests := []struct {
		desc      string
		fn        func(r *rig) error
		wantErr   error
		wantPanic any
	}{
		{desc: "normal return", fn: func(*rig) error { return nil }},
		{desc: "error return", fn: func(*rig) error { return boom }, wantErr: boom},
		{desc: "panic", fn: func(*rig) error { panic("pilot bug") }, wantPanic: "pilot bug"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			r := newRig(t, testConfig())
			var err error
			panicked := func() (p any) {
				defer func() { p = recover() }()
				err = Guard(r.d, func() error {
					r.drive(t, 0.25, 0, time.Second)
					if l, _ := r.state(); l.Duty == 0 {
						t.Fatal("not moving before the exit")
					}
					return tc.fn(r)
				})
				return nil
			}()
			if panicked != tc.wantPanic {
				t.Fatalf("panic = %v, want %v (Guard must not swallow it)", panicked, tc.wantPanic)
			}
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			l, rt := r.state()
			if !sameState(l, brake) || !sameState(rt, brake) {
				t.Fatalf("after Guard: left %+v right %+v, want halted", l, rt)
			}
		})
	}
}

type haltErr struct{ calls int }

func (h *haltErr) Halt() error { h.calls++; return errors.New("gpio gone") }

func TestGuardReportsHaltError(t *testing.T) {
	h := &haltErr{}
	boom := errors.New("boom")
	err := Guard(h, func() error { return boom })
	if !errors.Is(err, boom) || err == nil || h.calls != 1 {
		t.Fatalf("Guard = %v (halts %d), want boom joined with the halt error", err, h.calls)
	}
	if got := err.Error(); got != "boom\ngpio gone" {
		t.Fatalf("Guard error = %q", got)
	}
}

// TestRun drives the real ticker loop in a synctest bubble: time advances
// only when every goroutine is blocked, so the watchdog fires exactly.
func TestRun(t *testing.T) {
	tests := []struct {
		desc string
		// act runs while Run ticks; it returns after leaving the drive in
		// the state to check.
		act          func(t *testing.T, r *rig, cancel func())
		wantWatchdog uint64
	}{
		{desc: "watchdog halts a silent pilot", wantWatchdog: 1, act: func(t *testing.T, r *rig, cancel func()) {
			time.Sleep(r.d.cfg.Watchdog + 2*r.d.cfg.Tick)
		}},
		{desc: "context cancel (SIGINT, SIGTERM) halts", act: func(t *testing.T, r *rig, cancel func()) {
			cancel()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := testConfig()
				r := newRig(t, cfg)
				r.d.now = time.Now // the bubble's fake clock
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				done := make(chan error, 1)
				go func() { done <- r.d.Run(ctx) }()
				// A pilot commanding every 100 ms for half a second.
				for range 5 {
					if err := r.d.Set(0.25, 0); err != nil {
						t.Fatal(err)
					}
					time.Sleep(100 * time.Millisecond)
				}
				synctest.Wait()
				if l, _ := r.state(); !sameState(l, fwd(duty(0.5))) {
					t.Fatalf("while commanded: left %+v, want forward at duty 0.5", l)
				}
				tc.act(t, r, cancel)
				synctest.Wait()
				l, rt := r.state()
				if !sameState(l, brake) || !sameState(rt, brake) {
					t.Fatalf("left %+v right %+v, want halted", l, rt)
				}
				if got := r.d.Stats().WatchdogHalts; got != tc.wantWatchdog {
					t.Fatalf("WatchdogHalts = %d, want %d", got, tc.wantWatchdog)
				}
				cancel()
				if err := <-done; err != nil {
					t.Fatalf("Run: %v", err)
				}
			})
		})
	}
}
