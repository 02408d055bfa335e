//go:build !opencv

package vision

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// DetectCommand is `robot detect`. This build has no OpenCV: it checks the
// arguments and then says how to get a build that can see.
func DetectCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if _, err := parseDetectArgs(args, stderr); errors.Is(err, flag.ErrHelp) {
		return nil // --help printed the usage
	} else if err != nil {
		return err
	}
	return fmt.Errorf("detect: %w", ErrNoOpenCV)
}

// CalibrateCommand is `robot calibrate`. This build has no OpenCV: it
// checks the arguments and then says how to get a build that can
// calibrate.
func CalibrateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if _, err := parseCalibrateArgs(args, stderr); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	return fmt.Errorf("calibrate: %w", ErrNoOpenCV)
}
