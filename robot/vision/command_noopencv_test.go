//go:build !opencv

package vision

import (
	"context"
	"errors"
	"io"
	"testing"
)

func TestDetectCommandWithoutOpenCV(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		noCV    bool // the arguments are fine: the build is what fails
		wantErr bool
	}{
		{"image", []string{"--image", "x.jpg"}, true, true},
		{"camera", []string{"--camera", "--pipeline", "videotestsrc ! appsink"}, true, true},
		{"neither", nil, false, true},
		{"both", []string{"--image", "x.jpg", "--camera"}, false, true},
		{"bad dictionary", []string{"--image", "x.jpg", "--dict", "DICT_3X3"}, false, true},
		{"bad scale", []string{"--camera", "--scale", "0"}, false, true},
		{"stray argument", []string{"--camera", "extra"}, false, true},
		{"missing config", []string{"--camera", "--config", "/nonexistent/vision.yaml"}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := DetectCommand(context.Background(), tc.args, io.Discard, io.Discard)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if got := errors.Is(err, ErrNoOpenCV); got != tc.noCV {
				t.Fatalf("err = %v; want ErrNoOpenCV %v", err, tc.noCV)
			}
		})
	}
	if ErrNoOpenCV.Error() != "built without OpenCV: rebuild with -tags opencv" {
		t.Fatalf("message %q", ErrNoOpenCV)
	}
}

func TestOpenLiveWithoutOpenCV(t *testing.T) {
	l, err := OpenLive(DefaultConfig(), nil)
	if l != nil || !errors.Is(err, ErrNoOpenCV) {
		t.Fatalf("OpenLive = %v, %v; want ErrNoOpenCV", l, err)
	}
}
