package drive

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestConfigYAML(t *testing.T) {
	const doc = `
wheel_base_m: 0.16
max_wheel_mps: 0.6
max_linear_mps: 0.25
max_angular_rps: 1.5
max_accel_mps2: 0.8
min_duty: 0.2
tick: 25ms
watchdog: 400ms
stop: coast
standby_pin: GPIO25
pwm:
  backend: gpio
  chip: pwmchip2
  frequency_hz: 20000
  sysfs_root: /tmp/pwm
left:  {pwm_pin: GPIO12, pwm_channel: 0, in1: GPIO5, in2: GPIO6, invert: true}
right: {pwm_pin: GPIO13, pwm_channel: 1, in1: GPIO20, in2: GPIO21}
`
	got := Defaults()
	if err := yaml.Unmarshal([]byte(doc), &got); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	want := Config{
		WheelBaseM: 0.16, MaxWheelMps: 0.6, MaxLinearMps: 0.25, MaxAngularRps: 1.5,
		MaxAccelMps2: 0.8, MinDuty: 0.2, Tick: 25 * time.Millisecond, Watchdog: 400 * time.Millisecond,
		Stop: StopCoast, StandbyPin: "GPIO25",
		PWM:   PWMConfig{Backend: BackendGPIO, Chip: "pwmchip2", FrequencyHz: 20000, SysfsRoot: "/tmp/pwm"},
		Left:  Motor{PWMPin: "GPIO12", PWMChannel: 0, In1: "GPIO5", In2: "GPIO6", Invert: true},
		Right: Motor{PWMPin: "GPIO13", PWMChannel: 1, In1: "GPIO20", In2: "GPIO21"},
	}
	if got != want {
		t.Fatalf("decoded\n %+v\nwant\n %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		desc   string
		mutate func(*Config)
		want   []string // substrings of the error; none: valid
	}{
		{desc: "defaults are valid", mutate: func(*Config) {}},
		{desc: "zero wheel base", mutate: func(c *Config) { c.WheelBaseM = 0 }, want: []string{"drive.wheel_base_m"}},
		{desc: "negative accel and bad stop, both reported", mutate: func(c *Config) { c.MaxAccelMps2 = -1; c.Stop = "float" },
			want: []string{"drive.max_accel_mps2", "drive.stop"}},
		{desc: "min duty 1", mutate: func(c *Config) { c.MinDuty = 1 }, want: []string{"drive.min_duty"}},
		{desc: "watchdog shorter than tick", mutate: func(c *Config) { c.Watchdog = 10 * time.Millisecond }, want: []string{"drive.watchdog"}},
		{desc: "unknown backend", mutate: func(c *Config) { c.PWM.Backend = "pigpio" }, want: []string{"drive.pwm.backend"}},
		{desc: "sysfs without chip", mutate: func(c *Config) { c.PWM.Chip = "" }, want: []string{"drive.pwm.chip"}},
		{desc: "same channel twice", mutate: func(c *Config) { c.Right.PWMChannel = 0 }, want: []string{"drive.right.pwm_channel"}},
		{desc: "gpio backend without pins", mutate: func(c *Config) { c.PWM.Backend = BackendGPIO; c.Left.PWMPin = "" }, want: []string{"drive.pwm_pin"}},
		{desc: "missing in2", mutate: func(c *Config) { c.Left.In2 = "" }, want: []string{"drive.left"}},
		{desc: "in1 equals in2", mutate: func(c *Config) { c.Right.In2 = c.Right.In1 }, want: []string{"drive.right", "same pin"}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			c := Defaults()
			tc.mutate(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want errors about %v", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %v, want it to mention %q", err, w)
				}
			}
		})
	}
}
