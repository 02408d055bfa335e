package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// mochiName is the third broker of the -mochi flag: mochi itself, with its
// default capabilities, no hook but one that allows every client and
// every topic, no persistence. It is what the orchestrator's broker costs
// before any of collaborate's work (accounts, ACL, decoding, the core):
// the floor of the collaborate column.
const mochiName = "mochi"

// bareMochiEnv, when set in loadbench's environment, makes the process a
// bare mochi broker on that address instead of the benchmark: loadbench
// starts itself so, for a broker in a process of its own.
const bareMochiEnv = "LOADBENCH_BARE_MOCHI"

// serveBareMochi runs the bare broker until an interrupt.
func serveBareMochi(addr string) error {
	o := &mqtt.Options{}
	o.Capabilities = mqtt.NewDefaultServerCapabilities()
	s := mqtt.New(o)
	if err := s.AddHook(new(auth.AllowHook), nil); err != nil {
		return err
	}
	if err := s.AddListener(listeners.NewTCP(listeners.Config{ID: "tcp", Address: addr})); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	if err := s.Serve(); err != nil {
		return err
	}
	<-sig
	return s.Close()
}

// startBareMochi starts this program again as a bare mochi broker on a
// loopback port chosen now.
func startBareMochi(ctx context.Context, dir string) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return startOnPort(ctx, dir, mochiName, func(port int) (*exec.Cmd, error) {
		cmd := exec.Command(self)
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=127.0.0.1:%d", bareMochiEnv, port))
		return cmd, nil
	})
}
