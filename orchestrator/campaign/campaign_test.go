package campaign

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

var (
	seeds     = flag.Int("seeds", 0, "seeds of the safety campaign (0: the small CI version)")
	firstSeed = flag.Int64("first-seed", 1, "first seed of the campaign")
)

func TestOneRun(t *testing.T) {
	res, err := Run(Config{Seed: 1, Robots: 4, Traffic: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	_ = fmt.Sprint
	_ = os.Stdout
	_ = strings.Join
	_ = tabwriter.NewWriter
	_ = time.Second
}
