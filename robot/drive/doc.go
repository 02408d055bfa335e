// Package drive is the real motor drive of a robot: a differential drive on an
// H-bridge (L298N, TB6612FNG, DRV8833 in PWM/IN mode, ...), one PWM pin and two
// direction pins per motor, driven through periph.io.
//
// Units: linear speeds in metres per second (positive forward), angular speeds
// in radians per second (positive counter-clockwise, i.e. turning left), wheel
// base in metres, accelerations in metres per second squared at the wheel.
// Duty cycles are fractions of full power in [0, 1] in the config and
// gpio.Duty at the pins.
//
// Concepts:
//   - Ramp is the pure core: commands and time in, wheel speeds out. It clamps
//     commands to the configured limits (keeping the turning radius), ramps
//     both wheels together so that acceleration never exceeds MaxAccelMps2, and
//     trips a watchdog when no command has arrived for Watchdog.
//   - Drive owns the pins. Set records a command, Update advances the ramp to
//     the clock's now and writes the pins, Run calls Update every Tick and
//     halts when its context ends, Halt makes the motors inert at once.
//   - Motors are PWMOut (a periph gpio.PinIO, or SysfsPWM for the kernel's
//     /sys/class/pwm, which works unprivileged on the Pi 4 and on the Pi 5)
//     plus two gpio.PinOut direction pins.
//
// Contract: the motors are off on every way out. Halt is idempotent and always
// writes the pins. Wrap the pilot in Guard so that a return or a panic halts;
// cancel Run's context on SIGINT/SIGTERM (signal.NotifyContext) so that it
// halts; the watchdog halts a drive whose commander went silent; Close halts
// and refuses later commands. Hardware PWM keeps running after the process
// dies (SIGKILL, power loss of the Pi only), so the systemd unit runs
// `robot halt` (Off) after the service stops.
package drive
