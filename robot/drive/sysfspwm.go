package drive

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// SysfsPWM is one channel of a kernel PWM chip under /sys/class/pwm. It is
// just files: export, pwmN/period, pwmN/duty_cycle and pwmN/enable, in
// nanoseconds. It works without root when the files belong to a group the
// user is in (Raspberry Pi OS gives them to gpio), on the Pi 4 (bcm2835-pwm)
// and on the Pi 5 (RP1), after dtoverlay=pwm-2chan in config.txt.
type SysfsPWM struct {
	mu       sync.Mutex
	dir      string // .../pwmchipX/pwmN
	periodNs int64  // as last written; 0: unknown
	dutyNs   int64
	enabled  bool
}

// SysfsWait is how long OpenSysfsPWM waits for the kernel and udev to create
// and hand over a freshly exported channel's files.
var SysfsWait = 2 * time.Second

// OpenSysfsPWM opens channel of chip under root (normally /sys/class/pwm),
// exporting it if needed. wait is called between polls for the exported files
// (nil: time.Sleep); tests use it to play the kernel.
func OpenSysfsPWM(root, chip string, channel int, wait func(time.Duration)) (*SysfsPWM, error) {
	if wait == nil {
		wait = time.Sleep
	}
	chipDir := filepath.Join(root, chip)
	if _, err := os.Stat(chipDir); err != nil {
		return nil, fmt.Errorf("sysfs pwm %s: %w (is dtoverlay=pwm-2chan in /boot/firmware/config.txt? see ls %s)", chipDir, err, root)
	}
	dir := filepath.Join(chipDir, "pwm"+strconv.Itoa(channel))
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.WriteFile(filepath.Join(chipDir, "export"), []byte(strconv.Itoa(channel)), 0); err != nil {
			return nil, fmt.Errorf("sysfs pwm export %d on %s: %w", channel, chipDir, err)
		}
	}
	// After export the kernel creates the files as root, and udev then
	// changes their group; writing before that fails with permission denied.
	const step = 20 * time.Millisecond
	var err error
	for waited := time.Duration(0); ; waited += step {
		if err = writable(filepath.Join(dir, "enable")); err == nil {
			break
		}
		if waited >= SysfsWait {
			return nil, fmt.Errorf("sysfs pwm %s not ready after export: %w", dir, err)
		}
		wait(step)
	}
	p := &SysfsPWM{dir: dir}
	if v, err := p.read("period"); err == nil {
		p.periodNs = v
	}
	if v, err := p.read("duty_cycle"); err == nil {
		p.dutyNs = v
	}
	if v, err := p.read("enable"); err == nil {
		p.enabled = v == 1
	}
	return p, nil
}

func writable(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	return f.Close()
}

// String names the channel.
func (p *SysfsPWM) String() string { return p.dir }

// PWM sets the duty (0..gpio.DutyMax) at frequency f and enables the output.
// The kernel refuses a duty_cycle above the period, so when the period
// changes the duty goes to 0 first.
func (p *SysfsPWM) PWM(duty gpio.Duty, f physic.Frequency) error {
	if f <= 0 {
		return fmt.Errorf("sysfs pwm %s: frequency %v must be positive", p.dir, f)
	}
	if duty < 0 || duty > gpio.DutyMax {
		return fmt.Errorf("sysfs pwm %s: duty %d out of [0, %d]", p.dir, duty, gpio.DutyMax)
	}
	period := f.Period().Nanoseconds()
	dutyNs := int64(math.Round(float64(period) * float64(duty) / float64(gpio.DutyMax)))
	p.mu.Lock()
	defer p.mu.Unlock()
	if period != p.periodNs {
		if p.dutyNs != 0 {
			if err := p.write("duty_cycle", 0); err != nil {
				return err
			}
			p.dutyNs = 0
		}
		if err := p.write("period", period); err != nil {
			return err
		}
		p.periodNs = period
	}
	if dutyNs != p.dutyNs {
		if err := p.write("duty_cycle", dutyNs); err != nil {
			return err
		}
		p.dutyNs = dutyNs
	}
	if !p.enabled {
		if err := p.write("enable", 1); err != nil {
			return err
		}
		p.enabled = true
	}
	return nil
}

// Halt sets the duty to 0 and disables the output. It always writes.
func (p *SysfsPWM) Halt() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	errD := p.write("duty_cycle", 0)
	if errD == nil {
		p.dutyNs = 0
	}
	errE := p.write("enable", 0)
	if errE == nil {
		p.enabled = false
	}
	return errors.Join(errD, errE)
}

func (p *SysfsPWM) write(name string, v int64) error {
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, []byte(strconv.FormatInt(v, 10)), 0); err != nil {
		return fmt.Errorf("sysfs pwm write %d to %s: %w", v, path, err)
	}
	return nil
}

func (p *SysfsPWM) read(name string) (int64, error) {
	b, err := os.ReadFile(filepath.Join(p.dir, name))
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}
