package drive

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// fakeSysfs makes root/pwmchip0 with an export file, standing for
// /sys/class/pwm. kernel() plays the kernel: it creates the exported
// channels' files.
type fakeSysfs struct {
	t    *testing.T
	root string
}

func newFakeSysfs(t *testing.T) *fakeSysfs {
	t.Helper()
	f := &fakeSysfs{t: t, root: t.TempDir()}
	if err := os.MkdirAll(filepath.Join(f.root, "pwmchip0"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.put("pwmchip0/export", "")
	return f
}

func (f *fakeSysfs) put(rel, v string) {
	f.t.Helper()
	if err := os.WriteFile(filepath.Join(f.root, rel), []byte(v), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeSysfs) get(rel string) string {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join(f.root, rel))
	if err != nil {
		f.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// kernel creates pwmN for every channel written to export.
func (f *fakeSysfs) kernel(time.Duration) {
	ch := f.get("pwmchip0/export")
	if ch == "" {
		return
	}
	dir := filepath.Join("pwmchip0", "pwm"+ch)
	if err := os.MkdirAll(filepath.Join(f.root, dir), 0o755); err != nil {
		f.t.Fatal(err)
	}
	for _, n := range []string{"period", "duty_cycle", "enable"} {
		f.put(filepath.Join(dir, n), "0\n")
	}
}

func TestSysfsPWM(t *testing.T) {
	tests := []struct {
		desc              string
		duty              gpio.Duty
		freq              physic.Frequency
		period, dutyCycle string
	}{
		{"half at 1 kHz", gpio.DutyHalf, physic.KiloHertz, "1000000", "500000"},
		{"full at 20 kHz", gpio.DutyMax, 20 * physic.KiloHertz, "50000", "50000"},
		{"zero at 1 kHz", 0, physic.KiloHertz, "1000000", "0"},
		{"quarter at 100 Hz", gpio.DutyMax / 4, 100 * physic.Hertz, "10000000", "2500000"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			fs := newFakeSysfs(t)
			exports := 0
			p, err := OpenSysfsPWM(fs.root, "pwmchip0", 1, func(d time.Duration) { exports++; fs.kernel(d) })
			if err != nil {
				t.Fatalf("OpenSysfsPWM: %v", err)
			}
			if got := fs.get("pwmchip0/export"); got != "1" || exports == 0 {
				t.Fatalf("export = %q after %d waits, want channel 1 exported", got, exports)
			}
			if err := p.PWM(tc.duty, tc.freq); err != nil {
				t.Fatalf("PWM: %v", err)
			}
			for _, c := range []struct{ file, want string }{
				{"period", tc.period}, {"duty_cycle", tc.dutyCycle}, {"enable", "1"},
			} {
				if got := fs.get("pwmchip0/pwm1/" + c.file); got != c.want {
					t.Errorf("%s = %q, want %q", c.file, got, c.want)
				}
			}
			if err := p.Halt(); err != nil {
				t.Fatalf("Halt: %v", err)
			}
			if d, e := fs.get("pwmchip0/pwm1/duty_cycle"), fs.get("pwmchip0/pwm1/enable"); d != "0" || e != "0" {
				t.Fatalf("after Halt duty_cycle=%s enable=%s, want 0 0", d, e)
			}
		})
	}
}

func TestSysfsPWMAlreadyExported(t *testing.T) {
	fs := newFakeSysfs(t)
	fs.put("pwmchip0/export", "0")
	fs.kernel(0)
	fs.put("pwmchip0/export", "untouched")
	fs.put("pwmchip0/pwm0/period", "1000000\n")
	fs.put("pwmchip0/pwm0/duty_cycle", "700000\n")
	p, err := OpenSysfsPWM(fs.root, "pwmchip0", 0, func(time.Duration) { t.Fatal("waited for an exported channel") })
	if err != nil {
		t.Fatal(err)
	}
	if got := fs.get("pwmchip0/export"); got != "untouched" {
		t.Fatalf("export rewritten: %q", got)
	}
	// A longer period than the old duty: duty 0 first is not needed, but a
	// shorter one needs it; either way the end state is right.
	if err := p.PWM(gpio.DutyHalf, 10*physic.KiloHertz); err != nil {
		t.Fatal(err)
	}
	if got, want := fs.get("pwmchip0/pwm0/period")+"/"+fs.get("pwmchip0/pwm0/duty_cycle"), "100000/50000"; got != want {
		t.Fatalf("period/duty = %s, want %s", got, want)
	}
}

func TestSysfsPWMErrors(t *testing.T) {
	tests := []struct {
		desc string
		run  func(t *testing.T, fs *fakeSysfs) error
		want string
	}{
		{"no such chip", func(t *testing.T, fs *fakeSysfs) error {
			_, err := OpenSysfsPWM(fs.root, "pwmchip9", 0, fs.kernel)
			return err
		}, "dtoverlay=pwm-2chan"},
		{"kernel never creates the channel", func(t *testing.T, fs *fakeSysfs) error {
			_, err := OpenSysfsPWM(fs.root, "pwmchip0", 0, func(time.Duration) {})
			return err
		}, "not ready after export"},
		{"duty out of range", func(t *testing.T, fs *fakeSysfs) error {
			p, err := OpenSysfsPWM(fs.root, "pwmchip0", 0, fs.kernel)
			if err != nil {
				t.Fatal(err)
			}
			return p.PWM(gpio.DutyMax+1, physic.KiloHertz)
		}, "out of [0"},
		{"zero frequency", func(t *testing.T, fs *fakeSysfs) error {
			p, err := OpenSysfsPWM(fs.root, "pwmchip0", 0, fs.kernel)
			if err != nil {
				t.Fatal(err)
			}
			return p.PWM(gpio.DutyHalf, 0)
		}, "must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			err := tc.run(t, newFakeSysfs(t))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestDriveOnSysfs runs the whole drive with sysfs PWM channels.
func TestDriveOnSysfs(t *testing.T) {
	fs := newFakeSysfs(t)
	var pwms [2]*SysfsPWM
	for ch := range pwms {
		p, err := OpenSysfsPWM(fs.root, "pwmchip0", ch, fs.kernel)
		if err != nil {
			t.Fatal(err)
		}
		pwms[ch] = p
	}
	cfg := testConfig()
	clk := newClock()
	_, lIn1, lIn2 := motorPins("L")
	_, rIn1, rIn2 := motorPins("R")
	d, err := New(cfg, Pins{PWM: pwms[0], In1: lIn1, In2: lIn2}, Pins{PWM: pwms[1], In1: rIn1, In2: rIn2}, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if err := d.Set(0.2, 1); err != nil { // wheels 0.1 and 0.3 m/s
			t.Fatal(err)
		}
		clk.Advance(cfg.Tick)
		if err := d.Update(); err != nil {
			t.Fatal(err)
		}
	}
	if l, r := fs.get("pwmchip0/pwm0/duty_cycle"), fs.get("pwmchip0/pwm1/duty_cycle"); l != "200000" || r != "600000" {
		t.Fatalf("duty_cycle left %s right %s, want 200000 600000", l, r)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	for ch := range 2 {
		dir := "pwmchip0/pwm" + string(rune('0'+ch))
		if dc, en := fs.get(dir+"/duty_cycle"), fs.get(dir+"/enable"); dc != "0" || en != "0" {
			t.Fatalf("%s after Close: duty_cycle %s enable %s, want 0 0", dir, dc, en)
		}
	}
}
