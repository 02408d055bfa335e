// Command robot runs one robot: its pilot, its MQTT link, and its hardware,
// real (--hw pi, a Raspberry Pi with camera and H-bridge) or simulated
// (--hw sim, alone in a simulated arena; --hw sitl, a body in a world
// server, its camera geometric or rendered).
//
//	robot --config robot.yaml --hw sim|pi
//	robot --hw sitl --world ADDR [--camera geometric|render] ...
//	robot world [--addr 127.0.0.1:7400] [--robots N] [--speed X] [--seed S]
//	robot detect --image FILE [--config FILE]
//	robot detect --camera [--config FILE]
//	robot calibrate --images DIR | --camera [--board 9x6] [--config FILE]
//	robot halt --config FILE
//
// Flags override the config file; `robot --help` lists them.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "robot:", err)
		stop()
		os.Exit(1)
	}
}
