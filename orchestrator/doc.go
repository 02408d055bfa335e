// Command orchestrator runs the fleet's embedded MQTT broker (package broker)
// and its HTTP server, and publishes orchestrator/status: online while it
// runs, offline on a clean shutdown (robots stop when it is offline).
//
//	orchestrator [--state-dir ./state] [--config-dir DIR] [--credentials FILE]
//	             [--missions FILE] [--diameter M] [--mapper ID]
//	             [--mqtt-addr :1883] [--tls-addr :8883 [--tls-host NAME] [--tls-ip IP] [--tls-cert C --tls-key K]]
//	             [--ws-addr ADDR] [--http-addr :8080] [--log-format console|json] [--allow-anonymous-watch]
//	             [--broker URL[,URL...] --username U --password-file F [--tls-ca CA]]   an external broker instead
//	             [--sim N [--sim-speed X] [--sim-seed S] [--sim-password-file F]]      simulated robots in this process
//	             [--sitl N [--sitl-camera geometric|render] [--sitl-world ADDR] [--robot-bin PATH]]  robot processes
//	orchestrator passwd --credentials FILE --role robot|observer|orchestrator|operator NAME < password
//	orchestrator passwords                 the first run's passwords
//	orchestrator ca                        the CA certificate robots trust
//	orchestrator enroll ID --broker URL    a robot's account, face markers and bundle (.tar.gz on stdout)
//	orchestrator nats-auth                 the users of a NATS cluster (deploy/nats/)
//	orchestrator conform --robot ID -- CMD  checks a robot written from the contract (package conform)
//
// Accounts: yours in --config-dir (read only) over its own in --credentials
// (default STATE_DIR/credentials.yaml). When no account can control the
// fleet, or none can only watch it, a start makes "orchestrator" or "watch"
// with a random password, written only to STATE_DIR/initial-passwords.txt
// (0600), and says so; there is no default password. Both files are read
// again when they change.
//
// TLS: --tls-addr serves MQTT over TLS and the dashboard over HTTPS, with
// your certificate (--tls-cert, or --config-dir's tls/server.crt) or one
// the orchestrator makes in STATE_DIR/tls, signed by its own CA (package
// certs).
//
// COLLABORATE_STATE_DIR and COLLABORATE_CONFIG_DIR, read by main, are the
// defaults of --state-dir and --config-dir (the container image sets them).
//
// Readiness: run prints "<name> listening on <addr>" for mqtt, mqtt-tls,
// mqtt-ws and http (https with TLS), then "ready", on stdout. Logs go to
// stderr.
//
// The epoch in orchestrator/status grows by one at every start (kept in
// STATE_DIR/epoch), so that robots can tell a restarted orchestrator's
// directives from stale ones.
package main
