// Command loadbench measures the orchestrator's embedded broker against a
// real mosquitto 2.0 under the same robot traffic, and prints the figures
// side by side with their ratios. It reports; it does not judge.
//
//	go run ./orchestrator/loadbench            # full: 3 rounds, 30 s loads (about 15 minutes)
//	go run ./orchestrator/loadbench -quick     # a smoke run of a few seconds
//
// It builds the orchestrator binary (go build collaborate/orchestrator), or
// takes one with -orchestrator, and starts for each run either that binary
// (--state-dir, --mqtt-addr and --http-addr on 127.0.0.1 ports chosen at run
// time, accounts made with "orchestrator passwd") or mosquitto with
// deploy/mosquitto/mosquitto.conf and deploy/mosquitto/acl (the listener
// moved to a loopback port chosen at run time, a password file made with
// mosquitto_passwd). The clients are the same for both: paho robots r1..rN,
// each logged in as itself, publishing valid poses (topics.Encode) at QoS 0
// on robots/{id}/pose, and one observer "watch" subscribed to robots/+/pose.
//
// Loads, each run on a fresh broker, in interleaved rounds (collaborate,
// mosquitto, collaborate, mosquitto, ...):
//
//   - fan-in: 50 robots burst 2,000 poses each at one observer: delivered
//     msg/s, messages lost, and the broker process's CPU per message sent
//     (utime+stime from /proc/PID/stat). The deploy configuration bounds
//     each client's queue (max_queued_messages 1000), so mosquitto drops
//     some of the burst; a third column, mosquitto-lossless (the same with
//     max_queued_messages 0), runs this load only and gives the lossless
//     rate to compare with, since collaborate loses none;
//   - 200 robots connected and idle for 10 s (a third of -duration): the
//     broker's CPU and RSS before any message;
//   - 200 robots at 20 Hz for 30 s: sent and delivered msg/s, lost, broker
//     CPU in % of one core and per message sent, RSS (VmRSS from
//     /proc/PID/status, the largest sample), publish→observer latency
//     p50/p99 (from the header's ts);
//   - 200 robots at 50 Hz: the same, and robots disconnected (paho's
//     connection-lost callbacks).
//
// With -mochi another broker runs in the same rounds: bare mochi (this
// program started again as one), with mochi's default capabilities and
// every client and topic allowed, nothing of collaborate's: the floor under
// the embedded broker's figures.
//
// For each metric it prints min/median/max per broker and the ratios of the
// medians, collaborate over each other broker ("-" where one does not run
// the load). The load generator runs on the same
// machine as the broker: compare ratios, not absolute figures, between
// machines.
package main
