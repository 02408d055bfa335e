package topics_test

import (
	"fmt"
	"time"

	"collaborate/topics"
)

func ExampleRobot() {
	fmt.Println(topics.Robot("r1", topics.KindPose))
	t, err := topics.Parse("robots/r1/checkpoint")
	fmt.Println(t.Robot, t.Kind, err)
	_, err = topics.Parse("robots/r1/pose/extra")
	fmt.Println(err)
	// Output:
	// robots/r1/pose
	// r1 checkpoint <nil>
	// topic "robots/r1/pose/extra" is not part of the contract
}

func ExampleDecodePose() {
	_, err := topics.DecodePose([]byte(`{"v":1,"sender":"r1","seq":1,"ts":"2026-11-26T23:00:00Z",
		"state":"moving","target":5,"distance_m":-3,"speed_mps":0.2,"step":0}`))
	fmt.Println(err)
	// Output: pose: distance_m must be >= 0, got -3
}

func ExampleEncode() {
	now := time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)
	b, err := topics.Encode(&topics.Checkpoint{Header: topics.Stamp("r1", 3, now), Epoch: 2, Marker: 7, Step: 1})
	fmt.Println(string(b), err)
	p := topics.PolicyOf(topics.KindCheckpoint)
	fmt.Println("qos", p.QoS, "retained", p.Retained)
	// Output:
	// {"v":1,"sender":"r1","seq":3,"ts":"2026-11-26T23:00:00Z","epoch":2,"marker":7,"step":1,"final":false} <nil>
	// qos 1 retained false
}

func ExampleDecodeTopic() {
	payload := []byte(`{"v":1,"sender":"r2","seq":1,"ts":"2026-11-26T23:00:00Z","epoch":1,"marker":4,"step":0,"final":true}`)
	_, _, err := topics.DecodeTopic("robots/r1/checkpoint", payload)
	fmt.Println(err)
	t, m, err := topics.DecodeTopic("robots/r2/checkpoint", payload)
	fmt.Println(t.Robot, m.(*topics.Checkpoint).Marker, err)
	// Output:
	// checkpoint: sender must be the topic's robot "r1", got "r2"
	// r2 4 <nil>
}
