package drive_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"periph.io/x/conn/v3/gpio/gpiotest"

	"collaborate/robot/drive"
)

// The wiring of a robot's main: signals cancel the context, Run ramps and
// watches, Guard halts when the pilot returns or panics. Fake pins stand in
// for the H-bridge; on a Pi, drive.Open(cfg) opens the real ones.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ena, in1, in2 := &gpiotest.Pin{N: "ENA"}, &gpiotest.Pin{N: "IN1"}, &gpiotest.Pin{N: "IN2"}
	enb, in3, in4 := &gpiotest.Pin{N: "ENB"}, &gpiotest.Pin{N: "IN3"}, &gpiotest.Pin{N: "IN4"}
	d, err := drive.New(drive.Defaults(),
		drive.Pins{PWM: ena, In1: in1, In2: in2},
		drive.Pins{PWM: enb, In1: in3, In2: in4, Invert: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go d.Run(runCtx)

	err = drive.Guard(d, func() error {
		if err := d.Set(0.2, 0); err != nil {
			return err
		}
		return errors.New("lost the broker") // the pilot gives up
	})
	fmt.Println(err)
	fmt.Println("left:", in1.Read(), in2.Read(), ena.D)
	// Output:
	// lost the broker
	// left: High High 0%
}
