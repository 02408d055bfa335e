package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

type config struct {
	rounds      int
	duration    time.Duration // of each rate load
	robots      int           // in the rate loads
	rates       []int         // Hz, one load each
	faninRobots int
	faninEach   int
	orch        string // orchestrator binary; empty: build it
	mosquitto   string
	keep        bool // keep the work directory
	mochi       bool // a third broker: bare mochi, the floor of collaborate's
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("loadbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	quick := fs.Bool("quick", false, "a smoke run: 1 round, 10 robots, 2 s loads, fan-in 10×200 (other flags still apply)")
	fs.IntVar(&c.rounds, "rounds", 3, "rounds per broker and load")
	fs.DurationVar(&c.duration, "duration", 30*time.Second, "length of each rate load")
	fs.IntVar(&c.robots, "robots", 200, "robots in the rate loads")
	rates := fs.String("rates", "20,50", "publish rates of the rate loads, Hz, comma-separated")
	fs.IntVar(&c.faninRobots, "fanin-robots", 50, "robots in the fan-in load")
	fs.IntVar(&c.faninEach, "fanin-each", 2000, "poses each robot bursts in the fan-in load")
	fs.StringVar(&c.orch, "orchestrator", "", "orchestrator binary (default: go build collaborate/orchestrator)")
	fs.StringVar(&c.mosquitto, "mosquitto", "mosquitto", "mosquitto binary")
	fs.BoolVar(&c.mochi, "mochi", false, "also run a bare mochi broker (no accounts, no ACL, no orchestrator): what the embedded broker costs before collaborate's work")
	fs.BoolVar(&c.keep, "keep", false, "keep the work directory (logs, configs) and print where it is")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range map[string]string{"rounds": "1", "duration": "2s", "robots": "10", "fanin-robots": "10", "fanin-each": "200"} {
			if !set[name] {
				if err := fs.Set(name, v); err != nil {
					return c, err
				}
			}
		}
	}
	for _, s := range strings.Split(*rates, ",") {
		hz, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || hz <= 0 || hz > 1000 {
			return c, fmt.Errorf("-rates: %q is not a rate within (0, 1000] Hz", s)
		}
		c.rates = append(c.rates, hz)
	}
	switch {
	case c.rounds < 1:
		return c, fmt.Errorf("-rounds must be >= 1, got %d", c.rounds)
	case c.duration <= 0:
		return c, fmt.Errorf("-duration must be > 0, got %v", c.duration)
	case c.robots < 1 || c.faninRobots < 1 || c.faninEach < 1:
		return c, fmt.Errorf("-robots, -fanin-robots and -fanin-each must be >= 1")
	}
	return c, nil
}

// run is the whole program; main only adds signals and the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	res, err := bench(ctx, cfg, stderr)
	if res != nil {
		res.print(stdout)
	}
	return err
}

// bench runs every load in rounds and returns what it measured; progress
// goes to log. On an error it returns what it has so far.
func bench(ctx context.Context, cfg config, log io.Writer) (*results, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	mosq, err := exec.LookPath(cfg.mosquitto)
	if err != nil {
		return nil, fmt.Errorf("mosquitto 2.0 is needed (Debian package mosquitto): %w", err)
	}
	dir, err := os.MkdirTemp("", "loadbench-")
	if err != nil {
		return nil, err
	}
	if cfg.keep {
		fmt.Fprintf(log, "work directory: %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if cfg.orch == "" {
		fmt.Fprintln(log, "building the orchestrator")
		if cfg.orch, err = buildOrchestrator(ctx, root, dir); err != nil {
			return nil, err
		}
	}
	fmt.Fprintln(log, "creating accounts")
	acc, err := makeAccounts(ctx, dir, cfg.orch, max(cfg.robots, cfg.faninRobots))
	if err != nil {
		return nil, err
	}
	brokers := []brokerKind{
		{name: collaborate, start: func(ctx context.Context, dir string) (*server, error) {
			return startOrchestrator(ctx, dir, cfg.orch, acc.credentials)
		}},
		{name: mosquittoName, start: func(ctx context.Context, dir string) (*server, error) {
			return startMosquitto(ctx, dir, mosq, root, acc.passwd, false)
		}},
		// The fan-in's losses are mosquitto's bounded queue at work; the
		// same mosquitto without the bound gives the lossless rate to
		// compare with.
		{name: mosquittoName + "-lossless", only: "fanin", start: func(ctx context.Context, dir string) (*server, error) {
			return startMosquitto(ctx, dir, mosq, root, acc.passwd, true)
		}},
	}
	loads := []load{faninLoad(cfg), idleLoad(cfg)}
	for _, hz := range cfg.rates {
		loads = append(loads, rateLoad(cfg, hz))
	}
	if cfg.mochi {
		brokers = append(brokers, brokerKind{name: mochiName, start: startBareMochi})
	}
	res := &results{}
	for _, b := range brokers {
		res.brokers = append(res.brokers, b.name)
	}
	for _, l := range loads {
		res.loads = append(res.loads, l)
		for r := 1; r <= cfg.rounds; r++ {
			for _, b := range brokers {
				if b.only != "" && b.only != l.id {
					continue
				}
				if err := ctx.Err(); err != nil {
					return res, err
				}
				runDir := filepath.Join(dir, fmt.Sprintf("%s-%d-%s", l.id, r, b.name))
				m, err := runOnce(ctx, runDir, b, l, acc)
				if err != nil {
					return res, fmt.Errorf("%s, round %d, %s: %w", l.name, r, b.name, err)
				}
				res.add(l.name, b.name, m)
				fmt.Fprintf(log, "%s round %d/%d %-11s %s\n", l.name, r, cfg.rounds, b.name, m.summary(l))
			}
		}
	}
	return res, nil
}

// runOnce starts a fresh broker, runs one load against it, and stops it.
func runOnce(ctx context.Context, dir string, b brokerKind, l load, acc *accounts) (measures, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	srv, err := b.start(ctx, dir)
	if err != nil {
		return nil, err
	}
	m, err := l.run(ctx, srv, acc)
	if serr := srv.stop(); err == nil && serr != nil {
		err = serr
	}
	return m, err
}

// repoRoot finds the module's directory from the working directory, for
// deploy/mosquitto and the build.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module collaborate\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("run loadbench inside the collaborate module (no go.mod of module collaborate above %s)", dir)
		}
		dir = parent
	}
}

func buildOrchestrator(ctx context.Context, root, dir string) (string, error) {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	out := filepath.Join(dir, "orchestrator")
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", out, "collaborate/orchestrator")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build collaborate/orchestrator: %v\n%s", err, b)
	}
	return out, nil
}
