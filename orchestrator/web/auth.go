package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"collaborate/broker"
)

// Verifier checks a user's password. role is the user's role in the
// credentials file: observers, operators and orchestrator users may log in
// and watch; only operators and orchestrator users may control.
type Verifier interface {
	Verify(user, password string) (role string, ok bool)
}

// VerifierFunc adapts a function to Verifier.
type VerifierFunc func(user, password string) (string, bool)

// Verify calls f.
func (f VerifierFunc) Verify(user, password string) (string, bool) { return f(user, password) }

// dummyHash is compared against when the user is unknown, so that a wrong
// user name costs as much time as a wrong password.
// Built on first use: bcrypt at init would slow every importer's start.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.DefaultCost)
	return h
})

// CredentialsVerifier verifies against the broker's credentials file. get
// is called on every login, so a reloaded file takes effect at once.
func CredentialsVerifier(get func() *broker.Credentials) Verifier {
	return VerifierFunc(func(user, password string) (string, bool) {
		c := get()
		if c == nil {
			return "", false
		}
		if _, ok := c.Lookup(user); !ok {
			_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
			return "", false
		}
		u, ok := c.Verify(user, []byte(password))
		if !ok {
			return "", false
		}
		return string(u.Role), true
	})
}

// readRoles may log in and watch the fleet; controlRoles may also control
// it. The same roles as on MQTT: an observer reads, a robot never logs in.
var (
	readRoles    = map[string]bool{string(broker.RoleObserver): true, string(broker.RoleOperator): true, string(broker.RoleOrchestrator): true}
	controlRoles = map[string]bool{string(broker.RoleOperator): true, string(broker.RoleOrchestrator): true}
)

// CookieName is the session cookie.
const CookieName = "collaborate_session"

// Session is a logged-in user.
type Session struct {
	User    string    `json:"user"`
	Role    string    `json:"role"`
	Control bool      `json:"control"` // the role may control the fleet
	Expires time.Time `json:"expires"`
}

// sessions keeps sessions by the SHA-256 of their token, so a lookup does
// not compare secrets byte by byte.
type sessions struct {
	mu  sync.Mutex
	m   map[[32]byte]Session
	ttl time.Duration
	max int
}

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("session token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (s *sessions) create(now time.Time, user, role string) (string, Session, error) {
	tok, err := newToken()
	if err != nil {
		return "", Session{}, err
	}
	ss := Session{User: user, Role: role, Control: controlRoles[role], Expires: now.Add(s.ttl)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.max {
		s.pruneLocked(now)
	}
	for len(s.m) >= s.max { // still full: drop the one closest to expiry
		var oldest [32]byte
		var at time.Time
		for k, v := range s.m {
			if at.IsZero() || v.Expires.Before(at) {
				oldest, at = k, v.Expires
			}
		}
		delete(s.m, oldest)
	}
	s.m[sha256.Sum256([]byte(tok))] = ss
	return tok, ss, nil
}

func (s *sessions) pruneLocked(now time.Time) {
	for k, v := range s.m {
		if !now.Before(v.Expires) {
			delete(s.m, k)
		}
	}
}

func (s *sessions) get(now time.Time, tok string) (Session, bool) {
	if tok == "" {
		return Session{}, false
	}
	k := sha256.Sum256([]byte(tok))
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.m[k]
	if !ok {
		return Session{}, false
	}
	if !now.Before(ss.Expires) {
		delete(s.m, k)
		return Session{}, false
	}
	return ss, true
}

func (s *sessions) drop(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sha256.Sum256([]byte(tok)))
}

// limiter slows password guessing: after MaxFailures failed logins from one
// IP within Window, that IP is refused for Lockout.
type limiter struct {
	mu       sync.Mutex
	m        map[string]*failures
	max      int
	window   time.Duration
	lockout  time.Duration
	capacity int
}

type failures struct {
	n       int
	first   time.Time
	blocked time.Time // refused until
}

// allow reports whether ip may try now, or how long it must wait.
func (l *limiter) allow(now time.Time, ip string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.m[ip]
	if f == nil || !now.Before(f.blocked) {
		return 0, true
	}
	return f.blocked.Sub(now), false
}

func (l *limiter) fail(now time.Time, ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.m[ip]
	if f == nil || now.Sub(f.first) > l.window {
		if f == nil && len(l.m) >= l.capacity {
			for k, v := range l.m {
				if now.Sub(v.first) > l.window && !now.Before(v.blocked) {
					delete(l.m, k)
				}
			}
		}
		f = &failures{first: now}
		l.m[ip] = f
	}
	f.n++
	if f.n >= l.max {
		f.blocked = now.Add(l.lockout)
		f.n, f.first = 0, now
	}
}

func (l *limiter) succeed(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, ip)
}

func clientIP(r *http.Request) string {
	// RemoteAddr only: X-Forwarded-For is the client's to forge.
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// LoginRequest is the body of POST /login (JSON), or its form fields.
type LoginRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

const maxLoginBody = 4 * 1024

func readLogin(w http.ResponseWriter, r *http.Request) (LoginRequest, bool, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLoginBody))
	if err != nil {
		return LoginRequest{}, false, fmt.Errorf("reading login body: %w", err)
	}
	if ct == "application/x-www-form-urlencoded" {
		v, err := url.ParseQuery(string(b))
		if err != nil {
			return LoginRequest{}, true, fmt.Errorf("malformed form: %w", err)
		}
		req := LoginRequest{User: v.Get("user"), Password: v.Get("password")}
		if req.User == "" {
			req.User = v.Get("username")
		}
		return req, true, nil
	}
	var req LoginRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return LoginRequest{}, false, fmt.Errorf("malformed JSON: want {\"user\":..., \"password\":...}: %w", err)
	}
	return req, false, nil
}

// crossOrigin refuses a request sent by another site's page: logging a
// victim into the attacker's session is the one forgery SameSite leaves.
func (s *Server) crossOrigin(w http.ResponseWriter, r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, r) {
		s.reject("cross_origin")
		writeErr(w, http.StatusForbidden, fmt.Sprintf("cross-origin request from %s refused", o))
		return true
	}
	return false
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if s.crossOrigin(w, r) {
		return
	}
	now := s.now()
	ip := clientIP(r)
	if wait, ok := s.limit.allow(now, ip); !ok {
		secs := int(wait.Seconds()) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.reject("login_rate_limited")
		writeErr(w, http.StatusTooManyRequests, fmt.Sprintf("too many failed logins: try again in %d s", secs))
		return
	}
	req, form, err := readLogin(w, r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, err.Error())
		return
	}
	if s.verify == nil {
		writeErr(w, http.StatusServiceUnavailable, "no credentials configured: the dashboard is read-only")
		return
	}
	if req.User == "" || req.Password == "" || len(req.Password) > 72 {
		s.limit.fail(now, ip)
		s.reject("login")
		writeErr(w, http.StatusUnauthorized, "wrong user or password")
		return
	}
	s.bcrypt <- struct{}{} // bcrypt is deliberately slow: a few at a time
	role, ok := s.verify.Verify(req.User, req.Password)
	<-s.bcrypt
	if !ok {
		s.limit.fail(now, ip)
		s.reject("login")
		s.log.Warn().Str("user", req.User).Str("ip", ip).Msg("dashboard login failed")
		writeErr(w, http.StatusUnauthorized, "wrong user or password")
		return
	}
	s.limit.succeed(ip)
	if !readRoles[role] {
		s.reject("login_role")
		writeErr(w, http.StatusForbidden, fmt.Sprintf("user %s has role %s: only observer, operator or orchestrator users log in to the dashboard", req.User, role))
		return
	}
	tok, ss, err := s.sess.create(now, req.User, role)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, err.Error())
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: tok, Path: "/", Expires: ss.Expires,
		MaxAge: int(s.sess.ttl.Seconds()), HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.opts.SecureCookie || r.TLS != nil})
	s.log.Info().Str("user", req.User).Str("role", role).Str("ip", ip).Msg("dashboard login")
	if form {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, ss)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if s.crossOrigin(w, r) {
		return
	}
	if c, err := r.Cookie(CookieName); err == nil {
		s.sess.drop(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.opts.SecureCookie || r.TLS != nil})
	writeJSON(w, http.StatusOK, map[string]string{"user": ""})
}

// SessionOf returns the user logged in on r.
func (s *Server) SessionOf(r *http.Request) (Session, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return Session{}, false
	}
	return s.sess.get(s.now(), c.Value)
}

// SessionInfo is the answer of GET /session without a login.
type SessionInfo struct {
	User string `json:"user"` // empty: nobody logged in
	// Login: the dashboard has credentials to log in with.
	Login bool `json:"login"`
	// AnonymousRead: the fleet can be watched without logging in
	// (--allow-anonymous-watch).
	AnonymousRead bool `json:"anonymous_read"`
}

func (s *Server) session(w http.ResponseWriter, r *http.Request) {
	ss, ok := s.SessionOf(r)
	if !ok {
		writeJSON(w, http.StatusOK, SessionInfo{Login: s.verify != nil, AnonymousRead: s.opts.AnonymousRead})
		return
	}
	writeJSON(w, http.StatusOK, ss)
}

// ErrLoginRequired is the message of a refused control request, and
// ErrLoginToWatch that of a refused read.
var (
	ErrLoginRequired = errors.New("log in to control the fleet")
	ErrLoginToWatch  = errors.New("log in to watch the fleet")
)

// reader returns who may read on r: a session, or HTTP basic
// authentication (for Prometheus and curl), of an observer, operator or
// orchestrator user. ok is false when neither is given or valid; limited is
// set when the client's IP is locked out by failed passwords.
func (s *Server) reader(r *http.Request) (user string, ok bool, limited time.Duration) {
	if ss, ok := s.SessionOf(r); ok {
		return ss.User, true, 0
	}
	u, p, basic := r.BasicAuth()
	if !basic || s.verify == nil {
		return "", false, 0
	}
	now, ip := s.now(), clientIP(r)
	if role, ok := s.basic.get(now, u, p); ok {
		return u, readRoles[role], 0
	}
	if wait, ok := s.limit.allow(now, ip); !ok {
		return "", false, wait
	}
	if u == "" || p == "" || len(p) > 72 {
		s.limit.fail(now, ip)
		return "", false, 0
	}
	s.bcrypt <- struct{}{}
	role, ok := s.verify.Verify(u, p)
	<-s.bcrypt
	if !ok {
		s.limit.fail(now, ip)
		s.log.Warn().Str("user", u).Str("ip", ip).Msg("basic authentication failed")
		return "", false, 0
	}
	s.limit.succeed(ip)
	s.basic.put(now, u, p, role)
	return u, readRoles[role], 0
}

// RequireRead guards what shows the fleet (the live updates, the API's
// reads, /metrics): it needs a session or basic authentication of an
// observer, operator or orchestrator user, unless Options.AnonymousRead.
// Otherwise it answers 401 with a JSON error.
func (s *Server) RequireRead(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.canRead(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}

func (s *Server) canRead(w http.ResponseWriter, r *http.Request) bool {
	if s.opts.AnonymousRead {
		return true
	}
	_, ok, wait := s.reader(r)
	switch {
	case ok:
		return true
	case wait > 0:
		secs := int(wait.Seconds()) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.reject("login_rate_limited")
		writeErr(w, http.StatusTooManyRequests, fmt.Sprintf("too many failed logins: try again in %d s", secs))
		return false
	}
	// Offer basic authentication to clients that are not the dashboard's
	// own scripts (whose fetch would pop up the browser's password box):
	// curl, Prometheus, a browser opening /metrics.
	if m := r.Header.Get("Sec-Fetch-Mode"); m == "" || m == "navigate" {
		w.Header().Set("WWW-Authenticate", `Basic realm="collaborate", charset="UTF-8"`)
	}
	s.reject("read_unauthenticated")
	writeErr(w, http.StatusUnauthorized, ErrLoginToWatch.Error())
	return false
}

// RequireOperator guards the API: GET, HEAD and OPTIONS are reads
// (RequireRead); any other method needs the session of an operator or
// orchestrator user, else it is answered 401 (no session) or 403 (an
// observer's) with a JSON error. A request whose Origin is another site is
// refused 403 (SameSite=Strict already keeps the cookie off it; this is the
// second lock). Basic authentication never controls: a browser would send
// it along with another site's forged form. After a control request the
// dashboard is pushed at once.
//
// Wrap the whole API: mux.Handle("/api/", srv.RequireOperator(apiMux)).
func (s *Server) RequireOperator(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			if s.canRead(w, r) {
				next.ServeHTTP(w, r)
			}
			return
		}
		if s.crossOrigin(w, r) {
			return
		}
		ss, ok := s.SessionOf(r)
		if !ok {
			s.reject("control_unauthenticated")
			writeErr(w, http.StatusUnauthorized, ErrLoginRequired.Error())
			return
		}
		if !ss.Control {
			s.reject("control_role")
			writeErr(w, http.StatusForbidden, fmt.Sprintf("user %s has role %s: log in as an operator to control the fleet", ss.User, ss.Role))
			return
		}
		s.log.Info().Str("user", ss.User).Str("method", r.Method).Str("path", r.URL.Path).Msg("operator control")
		next.ServeHTTP(w, r)
		s.hub.Changed()
	})
}

// basicCache remembers recent successful basic authentications for a few
// minutes, by the SHA-256 of user and password, so that a Prometheus
// scraping every few seconds does not pay a bcrypt comparison each time.
type basicCache struct {
	mu  sync.Mutex
	m   map[[32]byte]basicEntry
	ttl time.Duration
	max int
}

type basicEntry struct {
	role    string
	expires time.Time
}

func basicKey(user, pass string) [32]byte {
	return sha256.Sum256([]byte(user + "\x00" + pass))
}

func (c *basicCache) get(now time.Time, user, pass string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[basicKey(user, pass)]
	if !ok || !now.Before(e.expires) {
		return "", false
	}
	return e.role, true
}

func (c *basicCache) put(now time.Time, user, pass, role string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[basicKey(user, pass)] = basicEntry{role: role, expires: now.Add(c.ttl)}
}

func sameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return u.Host == r.Host
}
