package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The image sets these, so that `docker compose exec orchestrator
	// orchestrator SUBCOMMAND` finds the container's state and config
	// without flags.
	env := environ{stateDir: os.Getenv("COLLABORATE_STATE_DIR"), configDir: os.Getenv("COLLABORATE_CONFIG_DIR")}
	err := run(ctx, os.Args[1:], env, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "orchestrator:", err)
		os.Exit(1)
	}
}
