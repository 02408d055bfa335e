package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// File names in a Dir.
const (
	CACert     = "ca.crt"
	CAKey      = "ca.key"
	ServerCert = "server.crt"
	ServerKey  = "server.key"
)

// Lifetimes: the CA outlives every server certificate it signs; a server
// certificate is renewed when less than RenewBefore of it is left.
const (
	CALifetime     = 10 * 365 * 24 * time.Hour
	ServerLifetime = 825 * 24 * time.Hour // the longest that browsers and Apple platforms accept
	RenewBefore    = 30 * 24 * time.Hour
)

// Dir is a directory of TLS files (see the package comment).
type Dir string

// Path returns the path of one of the Dir's files.
func (d Dir) Path(name string) string { return filepath.Join(string(d), name) }

// Names are the subject alternative names of a server certificate.
type Names struct {
	DNS []string
	IPs []net.IP
}

// Add adds hosts, each a DNS name or an IP address, skipping duplicates
// and empty strings. An IPv6 address may come in brackets.
func (n *Names) Add(hosts ...string) {
	for _, h := range hosts {
		h = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(h), "["), "]")
		if h == "" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(n.IPs, ip.Equal) {
				n.IPs = append(n.IPs, ip)
			}
			continue
		}
		h = strings.ToLower(h)
		if !slices.Contains(n.DNS, h) {
			n.DNS = append(n.DNS, h)
		}
	}
}

// Covers reports whether every name of want is in n.
func (n Names) Covers(want Names) bool {
	for _, d := range want.DNS {
		if !slices.Contains(n.DNS, d) {
			return false
		}
	}
	for _, ip := range want.IPs {
		if !slices.ContainsFunc(n.IPs, ip.Equal) {
			return false
		}
	}
	return true
}

// String lists the names, DNS first, for messages.
func (n Names) String() string {
	var s []string
	s = append(s, n.DNS...)
	for _, ip := range n.IPs {
		s = append(s, ip.String())
	}
	return strings.Join(s, ", ")
}

// CheckHost says whether host is a valid DNS name or IP address for a
// certificate, with a message for the person who typed it.
func CheckHost(host string) error {
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if net.ParseIP(h) != nil {
		return nil
	}
	if h == "" || len(h) > 253 {
		return fmt.Errorf("host %q: want a DNS name or an IP address", host)
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return fmt.Errorf("host %q: not a DNS name or an IP address", host)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("host %q: not a DNS name or an IP address (character %q)", host, r)
			}
		}
	}
	return nil
}

// Local returns this machine's names: its hostname (and hostname.local, for
// mDNS), localhost, and the address of every interface that is up.
// Link-local IPv6 addresses are left out: they need a zone to be dialled.
func Local() Names {
	var n Names
	if h, err := os.Hostname(); err == nil && h != "" {
		n.Add(h)
		if !strings.Contains(h, ".") {
			n.Add(h + ".local")
		}
	}
	n.Add("localhost", "127.0.0.1", "::1")
	ifaces, err := net.Interfaces()
	if err != nil {
		return n
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLinkLocalUnicast() || ipn.IP.IsMulticast() {
				continue
			}
			n.Add(ipn.IP.String())
		}
	}
	return n
}

// Result says what Ensure did, for the log.
type Result struct {
	NewCA     bool   // a CA was made
	NewServer bool   // a server certificate was made or renewed
	Why       string // why the server certificate was made
	Names     Names  // the names the server certificate carries
}

// Ensure makes what is missing in d: the CA, when there is none, and a
// server certificate for want, when there is none, when it lacks one of
// want's names or was not signed by the CA, or when it nears its end. A
// renewed certificate keeps the names the old one carried, so that a name
// added once (by robot enrollment, say) stays. It never replaces a CA.
func (d Dir) Ensure(want Names, now time.Time) (Result, error) {
	var res Result
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return res, fmt.Errorf("tls dir: %w", err)
	}
	ca, caKey, err := d.loadCA()
	if errors.Is(err, os.ErrNotExist) {
		if ca, caKey, err = d.makeCA(now); err != nil {
			return res, err
		}
		res.NewCA = true
	} else if err != nil {
		return res, err
	}
	cur, err := readCert(d.Path(ServerCert))
	switch {
	case errors.Is(err, os.ErrNotExist):
		res.Why = "none yet"
	case err != nil:
		return res, err
	case cur.CheckSignatureFrom(ca) != nil:
		res.Why = "not signed by the CA in " + d.Path(CACert)
	case !NamesOf(cur).Covers(want):
		res.Why = "new names"
	case cur.NotAfter.Sub(now) < RenewBefore:
		res.Why = "expiring " + cur.NotAfter.Format(time.DateOnly)
	case now.Before(cur.NotBefore):
		res.Why = "not valid before " + cur.NotBefore.Format(time.DateTime) + " (the clock went back)"
	}
	names := want
	if cur != nil && res.Why != "" && cur.CheckSignatureFrom(ca) == nil {
		old := NamesOf(cur)
		names = Names{DNS: slices.Clone(old.DNS), IPs: slices.Clone(old.IPs)}
		for _, h := range want.DNS {
			names.Add(h)
		}
		for _, ip := range want.IPs {
			names.Add(ip.String())
		}
	}
	if res.Why == "" {
		res.Names = NamesOf(cur)
		return res, nil
	}
	if err := d.issue(ca, caKey, names, now); err != nil {
		return res, err
	}
	res.NewServer, res.Names = true, names
	return res, nil
}

func (d Dir) loadCA() (*x509.Certificate, *ecdsa.PrivateKey, error) {
	ca, err := readCert(d.Path(CACert))
	if err != nil {
		return nil, nil, err
	}
	b, err := os.ReadFile(d.Path(CAKey))
	if err != nil {
		return nil, nil, fmt.Errorf("CA key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, nil, fmt.Errorf("CA key %s: no PEM block", d.Path(CAKey))
	}
	k, err := x509.ParseECPrivateKey(blk.Bytes)
	if err != nil {
		pk, err2 := x509.ParsePKCS8PrivateKey(blk.Bytes)
		ek, ok := pk.(*ecdsa.PrivateKey)
		if err2 != nil || !ok {
			return nil, nil, fmt.Errorf("CA key %s: not an EC private key: %w", d.Path(CAKey), err)
		}
		k = ek
	}
	return ca, k, nil
}

func (d Dir) makeCA(now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"collaborate"}, CommonName: "collaborate fleet CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CALifetime),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("CA certificate: %w", err)
	}
	if err := writeKey(d.Path(CAKey), key); err != nil {
		return nil, nil, err
	}
	if err := writePEM(d.Path(CACert), "CERTIFICATE", der, 0o644); err != nil {
		return nil, nil, err
	}
	ca, err := x509.ParseCertificate(der)
	return ca, key, err
}

func (d Dir) issue(ca *x509.Certificate, caKey *ecdsa.PrivateKey, names Names, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("server key: %w", err)
	}
	cn := "collaborate broker"
	if len(names.DNS) > 0 {
		cn = names.DNS[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"collaborate"}, CommonName: cn},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(ServerLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names.DNS,
		IPAddresses:  names.IPs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("server certificate: %w", err)
	}
	// The key first: a reader that sees the new certificate must find its
	// key (Reloader retries a mismatched pair on the next handshake).
	if err := writeKey(d.Path(ServerKey), key); err != nil {
		return err
	}
	return writePEM(d.Path(ServerCert), "CERTIFICATE", der, 0o644)
}

// NamesOf returns the names a certificate carries.
func NamesOf(c *x509.Certificate) Names {
	var n Names
	n.Add(c.DNSNames...)
	for _, ip := range c.IPAddresses {
		n.Add(ip.String())
	}
	return n
}

// ReadCert reads the first certificate of a PEM file.
func ReadCert(path string) (*x509.Certificate, error) { return readCert(path) }

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("certificate %s: no PEM CERTIFICATE block", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", path, err)
	}
	return c, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n.Add(n, big.NewInt(1))
}

func writeKey(path string, k *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return fmt.Errorf("encode key %s: %w", path, err)
	}
	return writePEM(path, "EC PRIVATE KEY", der, 0o600)
}

// writePEM writes atomically: a temporary file beside path, renamed over it.
func writePEM(path, typ string, der []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(perm); err == nil {
		err = pem.Encode(f, &pem.Block{Type: typ, Bytes: der})
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), path)
		}
	} else {
		f.Close()
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Pool reads a PEM bundle of CA certificates.
func Pool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("CA %s holds no PEM certificate", path)
	}
	return p, nil
}

// Reloader serves the certificate pair in two files, read again when
// either file changes (checked at most once a second, at a handshake).
type Reloader struct {
	certFile, keyFile string

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string
	checked time.Time
}

// NewReloader loads the pair once, so that a bad pair fails at start.
func NewReloader(certFile, keyFile string) (*Reloader, error) {
	r := &Reloader{certFile: certFile, keyFile: keyFile}
	if err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Reloader) fileStamp() string {
	var s []string
	for _, f := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return ""
		}
		s = append(s, fmt.Sprint(fi.ModTime().UnixNano(), fi.Size()))
	}
	return strings.Join(s, "/")
}

func (r *Reloader) load() error {
	stamp := r.fileStamp()
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("load TLS key pair %s, %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert, r.stamp = &c, stamp
	return nil
}

// GetCertificate is for tls.Config.GetCertificate. A pair that fails to
// load (caught between its two files' renames) keeps the previous one.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checked) >= time.Second {
		r.checked = now
		if s := r.fileStamp(); s != "" && s != r.stamp {
			_ = r.load()
		}
	}
	return r.cert, nil
}

// Config returns a server tls.Config that serves the pair.
func (r *Reloader) Config() *tls.Config {
	return &tls.Config{GetCertificate: r.GetCertificate, MinVersion: tls.VersionTLS12}
}

// Leaf returns the certificate currently served.
func (r *Reloader) Leaf() (*x509.Certificate, error) {
	c, _ := r.GetCertificate(nil)
	if c.Leaf != nil {
		return c.Leaf, nil
	}
	return x509.ParseCertificate(c.Certificate[0])
}
