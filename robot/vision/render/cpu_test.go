//go:build unix

package render

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system time so far: on a machine
// shared with other work, wall time per frame swings with the load, CPU
// time much less.
func cpuTime(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
