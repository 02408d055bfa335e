// Package systemd tells systemd, when the robot runs as a Type=notify
// service, that it has started (READY=1) and, while its control loop and
// its drive keep ticking, that it is alive (WATCHDOG=1). With the unit's
// WatchdogSec, systemd kills a robot whose process hangs (a deadlock, a
// driver call that never returns, SIGSTOP) and its ExecStopPost halts the
// motors, which the kernel's PWM would otherwise keep at their last duty.
// Outside systemd (no NOTIFY_SOCKET) it does nothing.
package systemd

import (
	"context"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/rs/zerolog"
)

// Watch tells systemd that the service is ready, then, every half of the
// unit's watchdog interval, that it is alive if every one of progress has
// advanced since the last time (each is a counter that a loop bumps on
// every turn). When one has not, it sends nothing, logs the stall once,
// and systemd restarts the robot when the interval runs out. It returns
// when ctx ends, after telling systemd that the service is stopping, or at
// once when the process does not run under systemd's notify protocol.
func Watch(ctx context.Context, log zerolog.Logger, progress ...func() uint64) {
	// NOTIFY_SOCKET stays set for the pings; the unit's NotifyAccess=main
	// ignores what processes the robot starts (a camera pipeline) send.
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		log.Error().Err(err).Msg("systemd watchdog: bad WATCHDOG_USEC; not pinging")
	}
	sent, err := daemon.SdNotify(false, daemon.SdNotifyReady)
	if err != nil {
		log.Error().Err(err).Msg("systemd: READY=1")
	}
	if !sent {
		return // not under systemd's notify protocol
	}
	defer func() {
		if _, err := daemon.SdNotify(false, daemon.SdNotifyStopping); err != nil {
			log.Error().Err(err).Msg("systemd: STOPPING=1")
		}
	}()
	if interval <= 0 {
		<-ctx.Done()
		return
	}
	log.Info().Dur("interval", interval).Msg("systemd watchdog: pinging while the control loop and the drive tick")
	last := make([]uint64, len(progress))
	for i, p := range progress {
		last[i] = p()
	}
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	stalled := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		alive := true
		for i, p := range progress {
			n := p()
			if n == last[i] {
				alive = false
			}
			last[i] = n
		}
		switch {
		case alive:
			if stalled {
				log.Warn().Msg("systemd watchdog: ticking again; pinging")
				stalled = false
			}
			if _, err := daemon.SdNotify(false, daemon.SdNotifyWatchdog); err != nil {
				log.Error().Err(err).Msg("systemd watchdog: WATCHDOG=1")
			}
		case !stalled:
			stalled = true
			log.Error().Dur("interval", interval).Msg("systemd watchdog: a loop stopped ticking; not pinging: systemd restarts the robot and halts its motors")
		}
	}
}
