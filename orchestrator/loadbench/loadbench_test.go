package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"collaborate/internal/testkit"
)

// TestMain lets the test binary be the bare mochi broker that -mochi
// starts (loadbench starts its own executable for it).
func TestMain(m *testing.M) {
	if addr := os.Getenv(bareMochiEnv); addr != "" {
		if err := serveBareMochi(addr); err != nil {
			fmt.Fprintln(os.Stderr, "bare mochi:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestQuick runs the whole benchmark in quick mode, small: both brokers
// really started, real paho clients. It checks the table, and that nothing
// is lost or disconnected at this low load. It asserts no time.
func TestQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the orchestrator and runs both brokers; skipped with -short")
	}
	for _, tool := range []string{"mosquitto", "mosquitto_passwd"} {
		testkit.RequireTool(t, tool, "mosquitto")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out, log bytes.Buffer
	err := run(ctx, []string{"-quick", "-mochi", "-robots", "5", "-fanin-robots", "5", "-fanin-each", "100", "-duration", "2s"}, &out, &log)
	t.Logf("progress:\n%s", log.String())
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	t.Logf("table:\n%s", out.String())
	rows := checkTable(t, out.String(), collaborate, mosquittoName, mosquittoName+"-lossless", mochiName)
	for _, r := range rows {
		// The lossless mosquitto runs the fan-in only.
		lossless := r.values[6:9]
		if ran := !math.IsNaN(lossless[1]); ran != strings.HasPrefix(r.load, "fan-in") {
			t.Errorf("%s, %s: lossless mosquitto %v, want figures for the fan-in only", r.load, r.metric, lossless)
		}
	}
	wantRows := map[string]int{"fan-in 5×100": 3, "5 robots idle": 3, "5 robots × 20 Hz": 9, "5 robots × 50 Hz": 9}
	seen := map[string]int{}
	for _, r := range rows {
		seen[r.load]++
		switch r.metric {
		case mLost, mDisconnects:
			for i, v := range r.values {
				if v != 0 && !math.IsNaN(v) {
					t.Errorf("%s, %s: %v (cell %d), want 0 at this load", r.load, r.metric, r.values, i)
				}
			}
		case mDelivered, mSent:
			for _, v := range r.values {
				if v <= 0 { // NaN, a broker that skips the load, passes
					t.Errorf("%s, %s: %v, want > 0", r.load, r.metric, r.values)
				}
			}
		}
	}
	for l, n := range wantRows {
		if seen[l] != n {
			t.Errorf("load %q: %d rows, want %d (rows by load: %v)", l, seen[l], n, seen)
		}
	}
	if len(seen) != len(wantRows) {
		t.Errorf("loads %v, want %v", seen, wantRows)
	}
}

type row struct {
	load, metric string
	values       []float64 // min, median, max of each broker
	ratios       []string  // the first broker's median over each other's
}

var cells = regexp.MustCompile(` {2,}`)

// checkTable parses the table: a header, then rows of a load, a metric,
// min/median/max for each broker and the ratios of the first broker's
// median to the others'.
func checkTable(t *testing.T, table string, brokers ...string) []row {
	t.Helper()
	lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
	head := "load  metric"
	for _, b := range brokers {
		head += "  " + b + " min  median  max"
	}
	for _, b := range brokers[1:] {
		head += "  " + brokers[0] + "/" + b
	}
	n := len(brokers)
	if len(lines) < 2 || cells.ReplaceAllString(strings.TrimSpace(lines[0]), "  ") != head {
		t.Fatalf("table header %q, want the columns %q", lines[0], head)
	}
	var rows []row
	for _, line := range lines[1:] {
		c := cells.Split(strings.TrimSpace(line), -1)
		if len(c) != 2+3*n+n-1 {
			t.Fatalf("row %q has %d cells, want %d", line, len(c), 2+3*n+n-1)
		}
		r := row{load: c[0], metric: c[1], ratios: c[2+3*n:]}
		for _, s := range c[2 : 2+3*n] {
			v, err := strconv.ParseFloat(s, 64)
			if s == "-" { // a broker that does not run this load
				v, err = math.NaN(), nil
			}
			if err != nil {
				t.Fatalf("row %q: %q is not a number", line, s)
			}
			r.values = append(r.values, v)
		}
		for b := 0; b < n; b++ {
			if lo, mid, hi := r.values[3*b], r.values[3*b+1], r.values[3*b+2]; lo > mid || mid > hi || math.IsNaN(lo) != math.IsNaN(hi) {
				t.Errorf("row %q: min %v, median %v, max %v out of order", line, lo, mid, hi)
			}
		}
		for _, ratio := range r.ratios {
			if ratio != "-" {
				if _, err := strconv.ParseFloat(ratio, 64); err != nil {
					t.Errorf("row %q: ratio %q", line, ratio)
				}
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// The table of known results, and its checks failing on a broken one.
func TestTable(t *testing.T) {
	l := load{name: "fan-in 2×2", metrics: []string{mDelivered, mLost}}
	r := &results{brokers: []string{collaborate, mosquittoName}, loads: []load{l}}
	for i, v := range []float64{300, 100, 200} {
		r.add(l.name, collaborate, measures{mDelivered: v, mLost: float64(i)})
		r.add(l.name, mosquittoName, measures{mDelivered: 2 * v, mLost: 0})
	}
	var out bytes.Buffer
	r.print(&out)
	rows := checkTable(t, out.String(), collaborate, mosquittoName)
	want := []row{
		{load: "fan-in 2×2", metric: mDelivered, values: []float64{100, 200, 300, 200, 400, 600}, ratios: []string{"0.50"}},
		{load: "fan-in 2×2", metric: mLost, values: []float64{0, 1, 2, 0, 0, 0}, ratios: []string{"-"}},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v, want %+v\n%s", rows, want, out.String())
	}
	for i := range want {
		if rows[i].load != want[i].load || rows[i].metric != want[i].metric || !slices.Equal(rows[i].ratios, want[i].ratios) ||
			!slices.Equal(rows[i].values, want[i].values) {
			t.Errorf("row %d: %+v, want %+v", i, rows[i], want[i])
		}
	}
}
