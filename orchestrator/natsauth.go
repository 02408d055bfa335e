package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"

	"collaborate/broker"
	"collaborate/topics"
)

// subject turns an MQTT topic into the NATS subject its MQTT gateway uses:
// a/b/c is a.b.c.
func subject(topic string) string { return strings.ReplaceAll(topic, "/", ".") }

// natsName is what a user name may be in the generated file: nothing that
// needs escaping, and no NATS subject syntax in robot topics.
var natsName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// natsReaderDeny keeps observers off the subjects NATS itself uses for its
// MQTT sessions, JetStream and the system: without it their `#` would show
// them (NATS's MQTT does not keep `#` off topics that start with $). It also
// refuses their QoS 1 subscriptions, which deliver on $MQTT.sub.>: observers
// subscribe at QoS 0, mosquitto_sub's default.
var natsReaderDeny = []string{"$MQTT.>", "$JS.>", "$SYS.>", "$JSC.>", "$NRG.>", "_INBOX.>"}

// natsUser is one user's entry: the embedded broker's rules (broker/hook.go,
// deploy/mosquitto/acl) as NATS permissions.
func natsUser(u broker.User) (string, error) {
	if !natsName.MatchString(u.Name) {
		return "", fmt.Errorf("nats-auth: user name %q: NATS users here are letters, digits, - and _", u.Name)
	}
	list := func(s []string) string {
		q := make([]string, len(s))
		for i, v := range s {
			q[i] = fmt.Sprintf("%q", v)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	// Every user connects over MQTT only: a NATS client with a robot's
	// password could otherwise read other clients' QoS 1 deliveries on
	// $MQTT.sub.>, which a robot must be allowed.
	head := fmt.Sprintf("{user: %q, password: %q, allowed_connection_types: [\"MQTT\"],\n     permissions: ", u.Name, u.Hash)
	switch u.Role {
	case broker.RoleOrchestrator:
		return head + `{publish: {allow: [">"]}, subscribe: {allow: [">"]}}}`, nil
	case broker.RoleObserver, broker.RoleOperator:
		return head + fmt.Sprintf(`{publish: {deny: [">"]}, subscribe: {allow: [">"], deny: %s}}}`, list(natsReaderDeny)), nil
	case broker.RoleRobot:
		var pub []string
		for _, k := range topics.RobotPublishes {
			pub = append(pub, subject(topics.Robot(u.Name, k)))
		}
		sub := []string{subject(topics.Robot(u.Name, topics.KindCmd)), "fleet.>",
			subject(topics.TopicOrchestratorStatus), subject(topics.TopicOrchestratorHeartbeat),
			// QoS 1 subscriptions are JetStream consumers delivering on
			// $MQTT.sub.<random>: the robot's own cmd needs it. NATS refuses
			// MQTT subscriptions to $MQTT/..., so it opens nothing else.
			"$MQTT.sub.>"}
		return head + fmt.Sprintf("{publish: {allow: %s},\n       subscribe: {allow: %s}}}", list(pub), list(sub)), nil
	}
	return "", fmt.Errorf("nats-auth: user %s: unknown role %q", u.Name, u.Role)
}

// runNATSAuth is "orchestrator nats-auth": it writes the NATS cluster's
// `authorization` block (deploy/nats/) from the credentials files: the
// same users, their bcrypt hashes, and permissions equivalent to the
// embedded broker's.
func runNATSAuth(args []string, env environ, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("orchestrator nats-auth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	stateFlags(fs, env, &cfg, true)
	out := fs.String("out", "-", "the file to write (- for stdout)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: orchestrator nats-auth [--credentials FILE] [--out auth.conf]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("nats-auth: unexpected argument %q", fs.Arg(0))
	}
	if cfg.credentials == "" {
		cfg.credentials = filepath.Join(cfg.stateDir, "credentials.yaml")
	}
	files := filesOf(cfg)
	creds, err := files.load()
	if err != nil {
		return fmt.Errorf("nats-auth: %w", err)
	}
	if len(creds.Users) == 0 {
		return fmt.Errorf("nats-auth: no users in %s (or %s): add some with orchestrator passwd or enroll", files.own, files.user)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# The collaborate fleet's NATS users, made by `orchestrator nats-auth` from its\n")
	fmt.Fprintf(&b, "# credentials files: the same users and bcrypt hashes, and permissions\n")
	fmt.Fprintf(&b, "# equivalent to the embedded broker's (MQTT topic a/b is NATS subject a.b).\n")
	fmt.Fprintf(&b, "# Make it again after adding a user, then reload every node (nats-server --signal reload).\n")
	fmt.Fprintf(&b, "authorization {\n  users = [\n")
	for _, u := range creds.Users {
		line, err := natsUser(u)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "    %s\n", line)
	}
	fmt.Fprintf(&b, "  ]\n}\n")
	if *out == "-" {
		_, err := io.WriteString(stdout, b.String())
		return err
	}
	if err := broker.WriteFileAtomic(*out, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("nats-auth: %w", err)
	}
	fmt.Fprintf(stderr, "nats-auth: wrote %d users to %s\n", len(creds.Users), *out)
	return nil
}
