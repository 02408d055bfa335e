package broker

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"collaborate/internal/testkit"
)

// mochi's log reaches ours at the same level, except what the contract
// makes routine: the keepalive warning every robot (3 s) gets at every
// connection is debug; any other warning stays a warning.
func TestMochiLogLevels(t *testing.T) {
	out := &testkit.Buffer{}
	l := slog.New(&slogZero{log: zerolog.New(out).Level(zerolog.InfoLevel)})
	l.Warn("client keepalive is below minimum recommended value and may exhibit connection instability", "client", "", "keepalive", 3, "recommended", 5)
	l.Warn("something else is wrong", "client", "r1")
	got := out.String()
	if strings.Contains(got, "keepalive") {
		t.Errorf("the keepalive warning was logged at info level or above: %s", got)
	}
	if !strings.Contains(got, `"level":"warn"`) || !strings.Contains(got, "something else is wrong") {
		t.Errorf("another warning was not logged as a warning: %q", got)
	}
}
