// Command robot runs one robot: its pilot, its MQTT link, and its hardware,
// real (--hw pi, a Raspberry Pi with camera and H-bridge) or simulated
// (--hw sim, alone in a simulated arena).
//
//	robot --config robot.yaml --hw sim|pi
//	robot detect --image FILE [--config FILE]
//	robot detect --camera [--config FILE]
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
