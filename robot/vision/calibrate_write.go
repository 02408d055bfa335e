package vision

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// writeCalibration writes c into the config file (unless --dry-run, or no
// --config), scaled to the config's capture size, after checking it.
func writeCalibration(o calibrateOptions, c Calibration, stdout, stderr io.Writer) error {
	in, err := c.At(o.cfg.Camera.Width, o.cfg.Camera.Height)
	if err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	if c.Width != o.cfg.Camera.Width {
		fmt.Fprintf(stderr, "note: scaled from %d×%d to the config's %d×%d\n", c.Width, c.Height, o.cfg.Camera.Width, o.cfg.Camera.Height)
	}
	fmt.Fprintf(stdout, "intrinsics: %s\n", intrinsicsFlow(in))
	switch {
	case o.config == "":
		fmt.Fprintln(stderr, "no --config: nothing written")
		return nil
	case o.dryRun:
		fmt.Fprintf(stderr, "--dry-run: %s not written\n", o.config)
		return nil
	case c.RMSPx > o.maxRMS:
		return fmt.Errorf("calibrate: RMS error %.3f px exceeds --max-rms %.3g: %s not written (blurred or bent board, or too few angles?)", c.RMSPx, o.maxRMS, o.config)
	}
	note := fmt.Sprintf("robot calibrate %s: RMS %.2f px, %d views", time.Now().Format("2006-01-02"), c.RMSPx, len(c.ViewRMSPx))
	if err := writeIntrinsics(o.config, in, note); err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	if prev := o.cfg.Camera.Intrinsics; prev != nil {
		fmt.Fprintf(stderr, "replaced the intrinsics %s\n", intrinsicsFlow(*prev))
	}
	fmt.Fprintf(stderr, "wrote the intrinsics into %s\n", o.config)
	return nil
}

// writeIntrinsics sets in in the config file at path, atomically (a
// temporary file renamed over it, with the old file's permissions), and
// checks that the result loads with exactly those intrinsics.
func writeIntrinsics(path string, in Intrinsics, note string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	doc, err := SetIntrinsics(old, in, note)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	cfg, err := ParseConfig(doc)
	if err != nil {
		return fmt.Errorf("%s: the edited config does not load (%w); not written", path, err)
	}
	if got, _ := cfg.Intrinsics(); got != roundTrip(in) {
		return errors.New(path + ": the edited config does not read back the intrinsics written; not written")
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(doc); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(st.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
