package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"collaborate/orchestrator/conform"
)

// runConform is `orchestrator conform`: the conformance kit, which plays
// the orchestrator for one robot and checks it against the contract's
// robot rules.
func runConform(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("orchestrator conform", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		robot    = fs.String("robot", "", "the robot's id (required)")
		addr     = fs.String("addr", "127.0.0.1:0", "where the robot reaches the kit's broker (port 0: chosen at run time)")
		worldOn  = fs.String("world", "auto", "serve a simulated world at {world}: auto (when the command names {world}), on or off")
		dir      = fs.String("dir", "", "keep the robot's password file, its files and its output here (default: a temporary directory, kept when a rule fails)")
		failFast = fs.Bool("fail-fast", false, "stop after the first part of the run in which a rule failed")
		verbose  = fs.Bool("v", false, "print each step on stderr as it runs, and what every rule's checks saw")
	)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: orchestrator conform --robot ID [flags] -- COMMAND ARGS...

Checks the robot that COMMAND runs against the robot rules of
topics/asyncapi.yaml, over the kit's own broker, and prints one line per
rule: PASS, FAIL or SKIP, the rule's id and its text. Exit status 1 when a
rule failed. In COMMAND the kit replaces
  {broker} tcp://127.0.0.1:PORT   {host} {port}   {id}
  {password} {password_file}      {world} HOST:PORT of a simulated world
  {dir} a directory for the robot's files
e.g.
  orchestrator conform --robot r1 -- robot --hw sitl --world {world} --id {id} \
      --broker {broker} --password-file {password_file}
  orchestrator conform --robot r1 -- python3 examples/python-robot/robot.py \
      --id {id} --broker {broker} --password-file {password_file} --world {world}

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *robot == "" {
		return errors.New("conform: --robot is required")
	}
	if fs.NArg() == 0 {
		return errors.New("conform: no robot command after --")
	}
	o := conform.Options{RobotID: *robot, Command: fs.Args(), Addr: *addr, Dir: *dir, FailFast: *failFast}
	switch *worldOn {
	case "auto":
	case "on", "off":
		on := *worldOn == "on"
		o.World = &on
	default:
		return fmt.Errorf("conform: --world must be auto, on or off, got %q", *worldOn)
	}
	if *verbose {
		o.Progress = stderr
	}
	res, err := conform.Run(ctx, o)
	if err != nil {
		return err
	}
	res.Print(stdout, *verbose)
	if res.Failed() {
		return errors.New("conform: the robot broke rules of the contract")
	}
	return nil
}
