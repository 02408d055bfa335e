// Command orchestrator runs the fleet's embedded MQTT broker (package broker)
// and its HTTP server, and publishes orchestrator/status: online while it
// runs, offline on a clean shutdown (robots stop when it is offline).
//
//	orchestrator --credentials FILE [--mqtt-addr :1883] [--tls-cert C --tls-key K [--tls-addr :8883]]
//	             [--ws-addr ADDR] [--state-dir ./state] [--http-addr :8080]
//	             [--log-format console|json] [--allow-anonymous-watch]
//	orchestrator passwd --credentials FILE --role robot|observer|orchestrator|operator NAME < password
//
// Without a credentials file, the first run creates one with random
// passwords for "orchestrator" and the observer "watch", and writes them to
// STATE_DIR/initial-passwords.txt (mode 0600). There is no default password.
//
// Readiness: run prints "<name> listening on <addr>" for mqtt, mqtt-tls,
// mqtt-ws and http, then "ready", on stdout. Logs go to stderr.
//
// The epoch in orchestrator/status grows by one at every start (kept in
// STATE_DIR/epoch), so that robots can tell a restarted orchestrator's
// directives from stale ones.
package main
