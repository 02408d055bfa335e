package world

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"time"

	"collaborate/topics"
)

// Truth is one ground-truth snapshot with the wall time it was taken.
type Truth struct {
	Wall  time.Time
	World topics.World
}

// Watch connects to the world at addr as an observer and calls fn with
// every snapshot (every 100 ms of sim time) until the connection ends or
// fn returns false. It returns the error that ended it (nil when fn did).
// The ground truth comes from the world itself, not from the broker, so it
// goes on when the broker or the orchestrator is down.
func Watch(addr string, fn func(Truth) bool) error {
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return fmt.Errorf("world watch %s: %w", addr, err)
	}
	defer nc.Close()
	if _, err := nc.Write([]byte(`{"op":"watch"}` + "\n")); err != nil {
		return fmt.Errorf("world watch %s: %w", addr, err)
	}
	sc := bufio.NewScanner(nc)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	for sc.Scan() {
		var r reply
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("world watch %s: %w", addr, err)
		}
		if r.Op == "error" {
			return fmt.Errorf("world watch %s: %s", addr, r.Error)
		}
		if r.Op != "truth" || r.World == nil {
			continue
		}
		if !fn(Truth{Wall: time.Unix(0, r.WallNS), World: *r.World}) {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("world watch %s: %w", addr, err)
	}
	return fmt.Errorf("world watch %s: connection closed", addr)
}
