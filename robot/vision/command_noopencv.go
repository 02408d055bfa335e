//go:build !opencv

package vision

import (
	"context"
	"fmt"
	"io"
)

// DetectCommand is `robot detect`. This build has no OpenCV: it checks the
// arguments and then says how to get a build that can see.
func DetectCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if _, err := parseDetectArgs(args, stderr); err != nil {
		return err
	}
	return fmt.Errorf("detect: %w", ErrNoOpenCV)
}
