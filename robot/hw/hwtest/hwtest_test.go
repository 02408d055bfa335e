package hwtest_test

import (
	"errors"
	"testing"
	"time"

	"collaborate/robot/hw"
	"collaborate/robot/hw/hwtest"
)

func TestDetectorPlaysScriptThenEmpty(t *testing.T) {
	var d hwtest.Detector
	d.Queue([]hw.Detection{{MarkerID: 3, DistanceM: 1}}, nil)
	tests := []struct {
		desc string
		want int
	}{
		{"first scripted frame", 1},
		{"second scripted frame is empty", 0},
		{"after the script", 0},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			f, err := d.Detect()
			if err != nil || len(f) != tc.want {
				t.Fatalf("Detect() = %v, %v; want %d detections", f, err, tc.want)
			}
		})
	}
	boom := errors.New("camera unplugged")
	d.Fail(boom)
	if _, err := d.Detect(); !errors.Is(err, boom) {
		t.Fatalf("Detect() error = %v, want %v", err, boom)
	}
	if d.Calls() != 4 {
		t.Fatalf("Calls() = %d, want 4", d.Calls())
	}
}

func TestDriveRecords(t *testing.T) {
	var d hwtest.Drive
	if !d.Last().Halted {
		t.Fatal("a fresh drive must read as halted")
	}
	if err := d.Set(0.2, -0.5); err != nil {
		t.Fatal(err)
	}
	if got := d.Last(); got != (hwtest.Command{LinearMps: 0.2, AngularRps: -0.5}) {
		t.Fatalf("Last() = %+v", got)
	}
	_ = d.Halt()
	_ = d.Halt()
	if got := d.Last(); !got.Halted || got.LinearMps != 0 || d.Halts() != 2 || d.Sets() != 1 {
		t.Fatalf("after two halts: %+v halts=%d sets=%d", got, d.Halts(), d.Sets())
	}
	d.Fail(errors.New("bridge fault"))
	if d.Set(0.1, 0) == nil {
		t.Fatal("Set must fail after Fail")
	}
	if d.Halt() != nil {
		t.Fatal("Halt must never fail")
	}
}

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)
	c := hwtest.NewClock(t0)
	if got := c.Advance(150 * time.Millisecond); !got.Equal(t0.Add(150 * time.Millisecond)) {
		t.Fatalf("Advance = %v", got)
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Fatalf("Now = %v after Set", c.Now())
	}
}
