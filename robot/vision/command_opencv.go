//go:build opencv

package vision

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"gocv.io/x/gocv"
)

// maxReadFailures in a row ends `robot detect --camera`: the camera is gone.
const maxReadFailures = 10

// DetectCommand is `robot detect`: it prints the markers of an image, or of
// the camera live, as JSON lines on stdout (see Record); notes and frames
// per second go to stderr.
func DetectCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseDetectArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // --help printed the usage
	}
	if err != nil {
		return err
	}
	if o.image != "" {
		return detectImage(o, stdout, stderr)
	}
	return detectCamera(ctx, o, stdout, stderr)
}

func detectImage(o detectOptions, stdout, stderr io.Writer) error {
	img := gocv.IMRead(o.image, gocv.IMReadColor)
	defer img.Close()
	if img.Empty() {
		return fmt.Errorf("detect: read image %s: missing, unreadable or not an image", o.image)
	}
	if img.Cols() != o.cfg.Camera.Width || img.Rows() != o.cfg.Camera.Height {
		fmt.Fprintf(stderr, "note: image is %d×%d, config is %d×%d: intrinsics scaled to the image (same field of view assumed)\n",
			img.Cols(), img.Rows(), o.cfg.Camera.Width, o.cfg.Camera.Height)
	}
	d, err := NewDetector(o.cfg, nil, nil)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	defer d.Close()
	if err := d.SetScale(o.scale); err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	ss, err := d.Look(img)
	if err != nil {
		return fmt.Errorf("detect %s: %w", o.image, err)
	}
	if err := WriteRecords(stdout, 0, ss); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%s: %s\n", o.image, summary(ss))
	return nil
}

func detectCamera(ctx context.Context, o detectOptions, stdout, stderr io.Writer) error {
	cam, err := OpenCamera(o.cfg.Camera)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	defer cam.Close()
	d, err := NewDetector(o.cfg, cam, nil)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	defer d.Close()
	if err := d.SetScale(o.scale); err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	fmt.Fprintf(stderr, "camera %s, %s, %d×%d; Ctrl-C to stop\n", cam, o.cfg.Dictionary, o.cfg.Camera.Width, o.cfg.Camera.Height)

	// Wall time here only paces the frames-per-second line for a person.
	start, last := time.Now(), time.Now()
	var frames, window, failures int
	for o.frames == 0 || frames < o.frames {
		if err := ctx.Err(); err != nil {
			break
		}
		ss, err := d.Sight()
		if err != nil {
			failures++
			fmt.Fprintf(stderr, "frame %d: %v\n", frames, err)
			if failures >= maxReadFailures {
				return fmt.Errorf("detect: %d frames in a row failed: %w", failures, err)
			}
			continue
		}
		failures = 0
		if err := WriteRecords(stdout, frames, ss); err != nil {
			return err
		}
		frames++
		window++
		if now := time.Now(); now.Sub(last) >= time.Second {
			fmt.Fprintf(stderr, "fps %.1f (frame %d: %s)\n", float64(window)/now.Sub(last).Seconds(), frames-1, summary(ss))
			last, window = now, 0
		}
	}
	el := time.Since(start).Seconds()
	st := d.Stats()
	fmt.Fprintf(stderr, "%d frames in %.1f s (%.1f fps), %d markers, %d unranged, %d read errors\n",
		frames, el, float64(frames)/max(el, 1e-9), st.Markers, st.Unranged, st.ReadErrors)
	return nil
}

func summary(ss []Sighting) string {
	var a, f, u int
	for _, s := range ss {
		switch s.Kind {
		case KindArena:
			a++
		case KindFace:
			f++
		default:
			u++
		}
	}
	return fmt.Sprintf("%d markers (%d arena, %d face, %d unknown)", len(ss), a, f, u)
}
