package drive

import (
	"errors"
	"fmt"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
)

// Open initialises periph's host drivers and opens the pins named in cfg: on
// a Pi 4 GPIO through bcm283x (or the GPIO character device), on a Pi 5
// through the GPIO character device (periph's gpioioctl, lines GPIO0..27 of
// the RP1). PWM goes through sysfs or, on a Pi 4 as root, periph's bcm283x.
// The motors start stopped.
func Open(cfg Config, opts ...Option) (*Drive, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("drive config: %w", err)
	}
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("drive: periph host init: %w", err)
	}
	left, err := openMotor(cfg, "left", cfg.Left)
	if err != nil {
		return nil, err
	}
	right, err := openMotor(cfg, "right", cfg.Right)
	if err != nil {
		_ = left.PWM.Halt()
		return nil, err
	}
	if cfg.StandbyPin != "" {
		p, err := pinByName("standby_pin", cfg.StandbyPin)
		if err != nil {
			return nil, err
		}
		opts = append(opts, WithStandby(p))
	}
	return New(cfg, left, right, opts...)
}

// Off stops the motors named in cfg and releases them: what `robot halt`
// runs after the service stopped, in case the robot process died without
// halting (hardware PWM keeps running after its process exits).
func Off(cfg Config) error {
	d, err := Open(cfg)
	if err != nil {
		return fmt.Errorf("drive off: %w", err)
	}
	return d.Close()
}

func openMotor(cfg Config, side string, m Motor) (Pins, error) {
	var p Pins
	var err error
	if p.In1, err = pinByName(side+".in1", m.In1); err != nil {
		return p, err
	}
	if p.In2, err = pinByName(side+".in2", m.In2); err != nil {
		return p, err
	}
	switch cfg.PWM.Backend {
	case BackendSysfs:
		pwm, err := OpenSysfsPWM(cfg.PWM.SysfsRoot, cfg.PWM.Chip, m.PWMChannel, nil)
		if err != nil {
			return p, fmt.Errorf("drive: %s motor: %w", side, err)
		}
		p.PWM = pwm
	case BackendGPIO:
		pin, err := pinByName(side+".pwm_pin", m.PWMPin)
		if err != nil {
			return p, err
		}
		p.PWM = pin
	default:
		return p, errors.New("drive: unknown pwm backend " + cfg.PWM.Backend)
	}
	p.Invert = m.Invert
	return p, nil
}

func pinByName(field, name string) (gpio.PinIO, error) {
	p := gpioreg.ByName(name)
	if p == nil {
		return nil, fmt.Errorf("drive.%s: no GPIO pin %q on this machine (names are BCM numbers like GPIO17; is this a Raspberry Pi, and is the user in group gpio?)", field, name)
	}
	return p, nil
}
