package drive

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Config is the drive section of the robot config (YAML).
type Config struct {
	// WheelBaseM is the distance between the two wheels' contact points.
	WheelBaseM float64 `yaml:"wheel_base_m"`
	// MaxWheelMps is the wheel surface speed at full duty. A wheel speed v
	// maps to duty MinDuty + (1-MinDuty)*|v|/MaxWheelMps, and commands are
	// clamped to it.
	MaxWheelMps float64 `yaml:"max_wheel_mps"`
	// MaxLinearMps and MaxAngularRps clamp commands further; 0 means no limit
	// beyond MaxWheelMps.
	MaxLinearMps  float64 `yaml:"max_linear_mps"`
	MaxAngularRps float64 `yaml:"max_angular_rps"`
	// MaxAccelMps2 is the largest change of a wheel's speed per second, both
	// speeding up and slowing down. Halt is not ramped.
	MaxAccelMps2 float64 `yaml:"max_accel_mps2"`
	// MinDuty is the duty at which the motors start to turn (dead band). A
	// non-zero speed never gets less than this; zero gets zero.
	MinDuty float64 `yaml:"min_duty"`
	// Tick is the period of Run's ramp updates, e.g. "20ms".
	Tick time.Duration `yaml:"tick"`
	// Watchdog halts the motors when no Set has arrived for this long, e.g.
	// "300ms". It must be longer than the pilot's command period.
	Watchdog time.Duration `yaml:"watchdog"`
	// Stop is what a stopped motor's direction pins do: "brake" (both high:
	// the bridge shorts the motor) or "coast" (both low: it spins freely).
	Stop string `yaml:"stop"`
	// StandbyPin is the TB6612FNG's STBY pin, or "" (L298N, DRV8833). It is
	// driven high while the drive is open and low on Close.
	StandbyPin string    `yaml:"standby_pin"`
	PWM        PWMConfig `yaml:"pwm"`
	Left       Motor     `yaml:"left"`
	Right      Motor     `yaml:"right"`
}

// PWMConfig chooses how the PWM pins are driven.
type PWMConfig struct {
	// Backend is "sysfs" (the kernel's /sys/class/pwm: Pi 4 and Pi 5,
	// unprivileged, needs dtoverlay=pwm-2chan) or "gpio" (periph's pin.PWM:
	// bcm283x on a Pi 4, needs root).
	Backend string `yaml:"backend"`
	// Chip is the sysfs PWM chip, e.g. "pwmchip0" (see ls /sys/class/pwm).
	Chip string `yaml:"chip"`
	// FrequencyHz is the PWM frequency.
	FrequencyHz int `yaml:"frequency_hz"`
	// SysfsRoot is where the PWM chips live; tests point it at a temp dir.
	SysfsRoot string `yaml:"sysfs_root"`
}

// Motor names one motor's pins. Pin names are periph gpioreg names, e.g.
// "GPIO18" (BCM numbering), on both the Pi 4 and the Pi 5.
type Motor struct {
	// PWMPin is the enable/PWM input (L298N ENA/ENB, TB6612 PWMA/PWMB) for the
	// gpio backend.
	PWMPin string `yaml:"pwm_pin"`
	// PWMChannel is the sysfs PWM channel (pwmN) for the sysfs backend.
	PWMChannel int `yaml:"pwm_channel"`
	// In1 and In2 are the direction inputs; forward is In1 high, In2 low.
	In1 string `yaml:"in1"`
	In2 string `yaml:"in2"`
	// Invert swaps forward and backward, for a motor wired or mounted the
	// other way round.
	Invert bool `yaml:"invert"`
}

// Backends and stop modes.
const (
	BackendSysfs = "sysfs"
	BackendGPIO  = "gpio"
	StopBrake    = "brake"
	StopCoast    = "coast"
)

// Defaults is a small robot with TT gear motors on an L298N, PWM through
// sysfs on GPIO18/GPIO19 (dtoverlay=pwm-2chan).
func Defaults() Config {
	return Config{
		WheelBaseM:    0.14,
		MaxWheelMps:   0.5,
		MaxLinearMps:  0.3,
		MaxAngularRps: 2.0,
		MaxAccelMps2:  1.0,
		MinDuty:       0,
		Tick:          20 * time.Millisecond,
		Watchdog:      300 * time.Millisecond,
		Stop:          StopBrake,
		PWM: PWMConfig{
			Backend:     BackendSysfs,
			Chip:        "pwmchip0",
			FrequencyHz: 1000,
			SysfsRoot:   "/sys/class/pwm",
		},
		Left:  Motor{PWMPin: "GPIO18", PWMChannel: 0, In1: "GPIO23", In2: "GPIO24"},
		Right: Motor{PWMPin: "GPIO19", PWMChannel: 1, In1: "GPIO27", In2: "GPIO22"},
	}
}

// Validate reports every problem of c at once, each naming its yaml field.
func (c Config) Validate() error {
	var errs []error
	bad := func(field string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("drive.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	positive := func(field string, v float64) {
		if !(v > 0) || math.IsInf(v, 0) {
			bad(field, "must be a positive number, got %v", v)
		}
	}
	nonNegative := func(field string, v float64) {
		if !(v >= 0) || math.IsInf(v, 0) {
			bad(field, "must be zero or positive, got %v", v)
		}
	}
	positive("wheel_base_m", c.WheelBaseM)
	positive("max_wheel_mps", c.MaxWheelMps)
	nonNegative("max_linear_mps", c.MaxLinearMps)
	nonNegative("max_angular_rps", c.MaxAngularRps)
	positive("max_accel_mps2", c.MaxAccelMps2)
	if !(c.MinDuty >= 0 && c.MinDuty < 1) {
		bad("min_duty", "must be in [0, 1), got %v", c.MinDuty)
	}
	if c.Tick <= 0 {
		bad("tick", "must be positive, got %v", c.Tick)
	}
	if c.Watchdog <= 0 {
		bad("watchdog", "must be positive, got %v", c.Watchdog)
	} else if c.Watchdog < c.Tick {
		bad("watchdog", "%v is shorter than tick %v", c.Watchdog, c.Tick)
	}
	if c.Stop != StopBrake && c.Stop != StopCoast {
		bad("stop", "must be %q or %q, got %q", StopBrake, StopCoast, c.Stop)
	}
	if c.PWM.FrequencyHz <= 0 {
		bad("pwm.frequency_hz", "must be positive, got %d", c.PWM.FrequencyHz)
	}
	switch c.PWM.Backend {
	case BackendSysfs:
		if c.PWM.Chip == "" {
			bad("pwm.chip", "is required for the sysfs backend (e.g. pwmchip0)")
		}
		if c.Left.PWMChannel < 0 || c.Right.PWMChannel < 0 {
			bad("pwm_channel", "must be zero or positive")
		} else if c.Left.PWMChannel == c.Right.PWMChannel {
			bad("right.pwm_channel", "is the same as left.pwm_channel (%d)", c.Left.PWMChannel)
		}
	case BackendGPIO:
		if c.Left.PWMPin == "" || c.Right.PWMPin == "" {
			bad("pwm_pin", "left and right pwm_pin are required for the gpio backend")
		}
	default:
		bad("pwm.backend", "must be %q or %q, got %q", BackendSysfs, BackendGPIO, c.PWM.Backend)
	}
	for _, sm := range []struct {
		side string
		m    Motor
	}{{"left", c.Left}, {"right", c.Right}} {
		side, m := sm.side, sm.m
		if m.In1 == "" || m.In2 == "" {
			bad(side, "in1 and in2 are required")
		} else if m.In1 == m.In2 {
			bad(side, "in1 and in2 are the same pin %q", m.In1)
		}
	}
	return errors.Join(errs...)
}
