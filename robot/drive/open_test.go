package drive

import (
	"strings"
	"sync"
	"testing"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// Fake pins registered in periph's global registry under Pi names that no
// real driver on a CI machine provides, so Open runs its real lookup path.
var (
	registerOnce sync.Once
	regPins      = map[string]*gpiotest.Pin{}
)

func registered(t *testing.T) map[string]*gpiotest.Pin {
	t.Helper()
	registerOnce.Do(func() {
		for _, n := range []string{"TESTGPIO5", "TESTGPIO6", "TESTGPIO12", "TESTGPIO13", "TESTGPIO20", "TESTGPIO21", "TESTGPIO25"} {
			p := &gpiotest.Pin{N: n, Num: -1}
			if err := gpioreg.Register(p); err != nil {
				t.Fatalf("register %s: %v", n, err)
			}
			regPins[n] = p
		}
	})
	return regPins
}

func TestOpen(t *testing.T) {
	pins := registered(t)
	fs := newFakeSysfs(t)
	// Pre-export both channels, as the kernel would after an earlier run.
	for _, ch := range []string{"0", "1"} {
		fs.put("pwmchip0/export", ch)
		fs.kernel(0)
	}
	cfg := Defaults()
	cfg.PWM.SysfsRoot = fs.root
	cfg.StandbyPin = "TESTGPIO25"
	cfg.Left = Motor{PWMChannel: 0, In1: "TESTGPIO5", In2: "TESTGPIO6"}
	cfg.Right = Motor{PWMChannel: 1, In1: "TESTGPIO20", In2: "TESTGPIO21", Invert: true}
	d, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if pins["TESTGPIO25"].Read() != gpio.High {
		t.Fatal("standby not raised on Open")
	}
	if err := d.Set(-0.25, 0); err != nil {
		t.Fatal(err)
	}
	// Right is inverted: backward on the robot is forward on its pins.
	// (Update needs time to pass; the real clock is fine, the levels do not
	// depend on how much.)
	for d.Wheels().LeftMps == 0 {
		if err := d.Update(); err != nil {
			t.Fatal(err)
		}
	}
	if pins["TESTGPIO5"].Read() != gpio.Low || pins["TESTGPIO6"].Read() != gpio.High {
		t.Fatal("left not backward")
	}
	if pins["TESTGPIO20"].Read() != gpio.High || pins["TESTGPIO21"].Read() != gpio.Low {
		t.Fatal("inverted right not forward on its pins")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if pins["TESTGPIO25"].Read() != gpio.Low {
		t.Fatal("standby not lowered on Close")
	}
	if en := fs.get("pwmchip0/pwm0/enable"); en != "0" {
		t.Fatalf("pwm0 enable = %s after Close", en)
	}
	// Off (robot halt) on the same config: everything ends stopped.
	if err := Off(cfg); err != nil {
		t.Fatalf("Off: %v", err)
	}
	for _, n := range []string{"TESTGPIO5", "TESTGPIO6", "TESTGPIO20", "TESTGPIO21"} {
		if pins[n].Read() != gpio.High {
			t.Fatalf("%s not braking after Off", n)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	registered(t)
	fs := newFakeSysfs(t)
	tests := []struct {
		desc   string
		mutate func(*Config)
		want   string
	}{
		{"unknown pin", func(c *Config) { c.Left.In1 = "GPIO99" }, `drive.left.in1: no GPIO pin "GPIO99"`},
		{"no pwm chip", func(c *Config) { c.PWM.Chip = "pwmchip7" }, "pwmchip7"},
		{"unknown gpio pwm pin", func(c *Config) { c.PWM.Backend = BackendGPIO; c.Right.PWMPin = "NOPE" }, "drive.right.pwm_pin"},
		{"invalid config", func(c *Config) { c.Tick = 0 }, "drive.tick"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			cfg := Defaults()
			cfg.PWM.SysfsRoot = fs.root
			cfg.Left = Motor{PWMPin: "TESTGPIO12", PWMChannel: 0, In1: "TESTGPIO5", In2: "TESTGPIO6"}
			cfg.Right = Motor{PWMPin: "TESTGPIO13", PWMChannel: 1, In1: "TESTGPIO20", In2: "TESTGPIO21"}
			tc.mutate(&cfg)
			_, err := Open(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
