package faults

import (
	"math/rand/v2"
	"time"

	"github.com/Shopify/toxiproxy/v2/toxics"
)

// lossToxic is packet loss as TCP shows it to the application: nothing is
// lost, but a chunk whose segment was lost arrives one retransmission
// timeout late, and everything behind it waits (head-of-line blocking).
// Toxiproxy works on chunks of a stream, not on IP packets, so this is the
// faithful model of loss on a TCP link such as MQTT's.
type lossToxic struct {
	Probability float64 `json:"probability"` // of each chunk
	RTOMs       int64   `json:"rto_ms"`      // Linux's minimum RTO is 200 ms
}

func (t *lossToxic) Pipe(stub *toxics.ToxicStub) {
	rto := time.Duration(t.RTOMs) * time.Millisecond
	for {
		select {
		case <-stub.Interrupt:
			return
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
			if rand.Float64() < t.Probability {
				select {
				case <-time.After(rto):
				case <-stub.Interrupt:
					stub.Output <- c // never drop data on the floor
					return
				}
			}
			stub.Output <- c
		}
	}
}

func init() { toxics.Register("loss", new(lossToxic)) }
