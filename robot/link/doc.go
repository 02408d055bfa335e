// Package link is a robot's MQTT connection to the orchestrator's broker,
// built on paho.mqtt.golang. The robot binary uses one Link; the
// orchestrator's --sim mode uses one per simulated robot.
//
// Contracts:
//   - Identity: the robot id is the MQTT username and the client id.
//   - Session: clean session false, auto-reconnect, connect retry, keepalive
//     3 s with a 2 s ping timeout. The link subscribes in OnConnect to
//     robots/{id}/cmd, fleet/cmd, fleet/map, orchestrator/status (QoS 1) and
//     orchestrator/heartbeat (QoS 0), so a reconnect restores them; a SUBACK
//     code >= 0x80 for any filter is a refusal and the SUBSCRIBE is retried
//     after RetryInterval. mochi answers 0x91 (packet id in use) when the id
//     is held by one of its own QoS 1 deliveries (a restored session's, or
//     the retained messages of the first SUBSCRIBE, which are still in
//     flight when the second goes out: it happens on most connections to
//     the embedded broker); that refusal is retried after 50 ms.
//   - Last will: robots/{id}/status, QoS 1, retained, a valid topics.Status
//     with state offline. It is fixed when Dial is called, so its seq (the
//     link's first seq) and ts are older than any status published after:
//     receivers must apply an offline status of the same sender whatever its
//     seq. Close publishes the same offline status itself, because a clean
//     disconnect suppresses the will.
//   - Outbox: QoS 1 messages (status, checkpoint, events) go through paho's
//     store, on disk when Options.StoreDir is set. Publish returns once the
//     message is acknowledged, or once it is in the store while the broker is
//     unreachable; paho resends it after the reconnect. The link never
//     republishes on its own, so it generates no duplicates; the only
//     duplicate left is MQTT's QoS 1 resend of a message whose PUBACK was
//     lost, which the orchestrator drops by (robot, epoch, step). That is
//     exactly once in effect.
//   - QoS 0 (pose, sightings) is dropped and counted while disconnected:
//     stale poses are worthless.
//   - Inbound: handlers never block. Valid messages are queued for Inbox()
//     in the order the broker sent them (paho's OrderMatters is on: the
//     handler only queues, so one delivery goroutine costs nothing); invalid
//     ones are dropped, counted and logged. When the queue is full, the
//     oldest queued message of the same kind is replaced (every subscribed
//     kind is latest-wins) and counted. Orchestrator heartbeats are not
//     queued: State reflects them.
//   - Failsafe: State() is cheap and meant to be read every control tick.
//     The robot must stop when !Connected or !OrchestratorOnline.
//     OrchestratorOnline needs, since the last (re)connect, an
//     orchestrator/status online and an orchestrator/heartbeat of that
//     epoch or later within OrchSilence (0.8 s): a half-open link, or an
//     orchestrator whose loop stopped, stops the robot within 0.8 s plus a
//     control tick, long before the keepalive notices.
//
// Time comes from Options.Now (default time.Now), so tests can fix it.
package link
