package testkit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// NATSNode is one nats-server of a NATSCluster, on loopback ports.
type NATSNode struct {
	Name     string // nats1, nats2, nats3
	MQTTAddr string // 127.0.0.1:PORT
	MQTTURL  string // tcp://127.0.0.1:PORT
	HTTPAddr string // monitoring
	Logs     *Buffer
	conf     string
	proc     *exec.Cmd
	done     chan struct{}
	t        testing.TB
	bin      string
}

// NATSCluster is three nats-server nodes clustered on loopback, run with
// the project's deploy/nats/nats.conf.
type NATSCluster struct {
	Nodes []*NATSNode
	dir   string
}

// NATSConf rewrites deploy/nats/nats.conf for node i (0-based) of a
// loopback cluster: every listen address, the routes and the JetStream
// directory become the test's. The lines the cluster relies on must be
// there (its users come from auth.conf beside it); every other line is
// kept.
func NATSConf(t testing.TB, src string, i int, ports [][4]int, dataDir string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	route := regexp.MustCompile(`nats-route://nats([1-9]):6222`)
	required := map[string]bool{"server_name": false, "listen": false, "http": false, "store_dir": false,
		"cluster.listen": false, "mqtt.listen": false, "stream_replicas": false, "include": false, "routes": false}
	block := ""
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		if j := strings.Index(line, "#"); j >= 0 && !strings.HasPrefix(line, "#") {
			line = strings.TrimSpace(line[:j])
		}
		key := strings.TrimSuffix(strings.Fields(line + " x")[0], ":")
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasSuffix(line, "{"):
			block = strings.TrimSpace(strings.TrimSuffix(line, "{"))
		case line == "}":
			block = ""
		case key == "server_name":
			required["server_name"] = line == "server_name: $NATS_NAME"
		case key == "listen" && block == "":
			raw, required["listen"] = fmt.Sprintf("listen: 127.0.0.1:%d", ports[i][0]), true
		case key == "http" && block == "":
			raw, required["http"] = fmt.Sprintf("http: 127.0.0.1:%d", ports[i][1]), true
		case key == "store_dir" && block == "jetstream":
			raw, required["store_dir"] = "store_dir: "+dataDir, true
		case key == "listen" && block == "cluster":
			raw, required["cluster.listen"] = fmt.Sprintf("listen: 127.0.0.1:%d", ports[i][2]), true
		case key == "listen" && block == "mqtt":
			raw, required["mqtt.listen"] = fmt.Sprintf("listen: 127.0.0.1:%d", ports[i][3]), true
		case key == "stream_replicas" && block == "mqtt":
			required["stream_replicas"] = line == "stream_replicas: 3"
		case key == "include":
			// NATS reads an include relative to the file.
			required["include"] = line == "include auth.conf"
		case route.MatchString(line):
			m := route.FindStringSubmatch(line)
			var k int
			fmt.Sscan(m[1], &k)
			if k < 1 || k > len(ports) {
				t.Fatalf("nats.conf: route to nats%d, but the cluster has %d nodes", k, len(ports))
			}
			raw, required["routes"] = fmt.Sprintf("    nats-route://127.0.0.1:%d", ports[k-1][2]), true
		}
		out.WriteString(raw + "\n")
	}
	for k, ok := range required {
		if !ok {
			t.Errorf("nats.conf: %s missing or not as the cluster needs it", k)
		}
	}
	return out.String()
}

// StartNATSCluster runs three nats-server nodes with the project's
// deploy/nats/nats.conf (files under root), the users of auth (a file
// `orchestrator nats-auth` wrote) and their data under dir, and waits
// until each node's JetStream is ready. They stop when the test ends.
func StartNATSCluster(t testing.TB, root, dir, auth string) *NATSCluster {
	t.Helper()
	bin := RequireTool(t, "nats-server", "nats-server")
	ports := make([][4]int, 3)
	for i := range ports {
		for j := range ports[i] {
			ports[i][j] = FreePort(t)
		}
	}
	c := &NATSCluster{dir: dir}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := c.SetAuth(auth); err != nil {
		t.Fatal(err)
	}
	for i := range ports {
		n := &NATSNode{Name: fmt.Sprintf("nats%d", i+1), t: t, bin: bin, Logs: &Buffer{},
			MQTTAddr: fmt.Sprintf("127.0.0.1:%d", ports[i][3]), HTTPAddr: fmt.Sprintf("127.0.0.1:%d", ports[i][1])}
		n.MQTTURL = "tcp://" + n.MQTTAddr
		data := filepath.Join(dir, n.Name)
		if err := os.MkdirAll(data, 0o700); err != nil {
			t.Fatal(err)
		}
		n.conf = filepath.Join(dir, n.Name+".conf")
		conf := NATSConf(t, filepath.Join(root, "deploy/nats/nats.conf"), i, ports, filepath.Join(data, "jetstream"))
		if err := os.WriteFile(n.conf, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		c.Nodes = append(c.Nodes, n)
	}
	for _, n := range c.Nodes {
		n.Start()
	}
	t.Cleanup(func() {
		for _, n := range c.Nodes {
			n.Kill()
			if t.Failed() {
				t.Logf("%s log:\n%s", n.Name, Tail(n.Logs.String(), 30))
			}
		}
	})
	for _, n := range c.Nodes {
		n.WaitReady(60 * time.Second)
	}
	return c
}

// SetAuth installs the users file (from `orchestrator nats-auth`) the
// nodes include; a running node reads it again on Reload.
func (c *NATSCluster) SetAuth(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(c.dir, "auth.conf"), b, 0o600)
}

// Start starts the node (again), with its data.
func (n *NATSNode) Start() {
	n.t.Helper()
	n.proc = exec.Command(n.bin, "-c", n.conf)
	n.proc.Env = append(os.Environ(), "NATS_NAME="+n.Name)
	n.proc.Stdout, n.proc.Stderr = n.Logs, n.Logs
	if err := n.proc.Start(); err != nil {
		n.t.Fatalf("start %s: %v", n.Name, err)
	}
	done := make(chan struct{})
	n.done = done
	go func(c *exec.Cmd) {
		err := c.Wait()
		fmt.Fprintf(n.Logs, "(nats-server exited: %v)\n", err)
		close(done)
	}(n.proc)
}

// WaitReady waits until the node's JetStream answers healthy.
func (n *NATSNode) WaitReady(timeout time.Duration) {
	n.t.Helper()
	Eventually(n.t, timeout, n.Name+" healthy (JetStream ready)", func() bool {
		select {
		case <-n.done:
			n.t.Fatalf("%s exited:\n%s", n.Name, Tail(n.Logs.String(), 30))
		default:
		}
		resp, err := http.Get("http://" + n.HTTPAddr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, func() string { return Tail(n.Logs.String(), 10) })
}

// Kill is kill -9.
func (n *NATSNode) Kill() {
	if n.proc != nil {
		_ = n.proc.Process.Kill()
		<-n.done
		n.proc = nil
	}
}

// Running reports whether the node's process runs.
func (n *NATSNode) Running() bool {
	if n.proc == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// Reload sends the node SIGHUP: it reads its configuration again.
func (n *NATSNode) Reload() error {
	if n.proc == nil {
		return fmt.Errorf("%s is not running", n.Name)
	}
	return n.proc.Process.Signal(syscallHUP)
}

// MQTTClients returns the MQTT client ids connected to this node, by user,
// from its monitoring endpoint (/connz).
func (n *NATSNode) MQTTClients() (map[string]string, error) {
	resp, err := http.Get("http://" + n.HTTPAddr + "/connz?auth=true&limit=1024")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var v struct {
		Connections []struct {
			User     string `json:"authorized_user"`
			ClientID string `json:"mqtt_client"`
		} `json:"connections"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, fmt.Errorf("%s /connz: %w", n.Name, err)
	}
	out := map[string]string{}
	for _, c := range v.Connections {
		if c.ClientID != "" {
			out[c.ClientID] = c.User
		}
	}
	return out, nil
}

// URLs lists the nodes' MQTT URLs, comma-separated, in the order given
// (0-based indexes).
func (c *NATSCluster) URLs(order ...int) string {
	var s []string
	for _, i := range order {
		s = append(s, c.Nodes[i].MQTTURL)
	}
	return strings.Join(s, ",")
}
