package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"collaborate/broker"
	"collaborate/orchestrator/web"
)

// users is a Verifier over fixed passwords.
var users = web.VerifierFunc(func(user, pass string) (string, bool) {
	known := map[string][2]string{"op": {"secret", "operator"}, "orch": {"o-pass", "orchestrator"}, "watch": {"w-pass", "observer"}}
	u, ok := known[user]
	if !ok || u[0] != pass {
		return "", false
	}
	return u[1], true
})

type authEnv struct {
	srv     *httptest.Server
	web     *web.Server
	reached atomic.Int32 // control requests that got through
	rejects atomic.Int32
}

func newAuthEnv(t *testing.T, o web.Options) *authEnv {
	t.Helper()
	e := &authEnv{}
	o.Source = &staticSource{}
	o.Rejects = func(string) { e.rejects.Add(1) }
	s, err := web.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.web = s
	mux := http.NewServeMux()
	s.Register(mux)
	mux.Handle("/api/", s.RequireOperator(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.reached.Add(1)
		w.WriteHeader(http.StatusOK)
	})))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *authEnv) client(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func do(t *testing.T, c *http.Client, method, url, ctype, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestLogin(t *testing.T) {
	e := newAuthEnv(t, web.Options{Verifier: users})
	tests := []struct {
		name, ctype, body string
		want              int
		wantCookie        bool
	}{
		{"json operator", "application/json", `{"user":"op","password":"secret"}`, http.StatusOK, true},
		{"json orchestrator", "application/json", `{"user":"orch","password":"o-pass"}`, http.StatusOK, true},
		{"form redirects", "application/x-www-form-urlencoded", "user=op&password=secret", http.StatusSeeOther, true},
		{"wrong password", "application/json", `{"user":"op","password":"nope"}`, http.StatusUnauthorized, false},
		{"unknown user", "application/json", `{"user":"who","password":"secret"}`, http.StatusUnauthorized, false},
		{"observer may not control", "application/json", `{"user":"watch","password":"w-pass"}`, http.StatusForbidden, false},
		{"malformed", "application/json", `{"user":`, http.StatusBadRequest, false},
		{"empty password", "application/json", `{"user":"op"}`, http.StatusUnauthorized, false},
	}
	t.Run("cross-origin login refused", func(t *testing.T) {
		resp, _ := do(t, e.client(t), http.MethodPost, e.srv.URL+"/login", "application/json", `{"user":"op","password":"secret"}`, "Origin", "http://evil.example")
		if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
			t.Errorf("status %d cookies %v, want 403 and none", resp.StatusCode, resp.Cookies())
		}
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, e.client(t), http.MethodPost, e.srv.URL+"/login", tc.ctype, tc.body)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			var cookie *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == web.CookieName {
					cookie = c
				}
			}
			if (cookie != nil) != tc.wantCookie {
				t.Fatalf("cookie %v, want one: %v", cookie, tc.wantCookie)
			}
			if cookie != nil {
				if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || len(cookie.Value) < 40 {
					t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict and a long random value", cookie)
				}
			}
			if tc.want >= 400 && !strings.Contains(body, `"error"`) {
				t.Errorf("error without a JSON error: %s", body)
			}
		})
	}
}

func TestRequireOperator(t *testing.T) {
	e := newAuthEnv(t, web.Options{Verifier: users})
	op := e.client(t)
	if resp, body := do(t, op, http.MethodPost, e.srv.URL+"/login", "application/json", `{"user":"op","password":"secret"}`); resp.StatusCode != 200 {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	anon := e.client(t)
	tests := []struct {
		name   string
		c      *http.Client
		method string
		hdr    []string
		want   int
		passes bool
	}{
		{"read without login", anon, http.MethodGet, nil, 200, true},
		{"control without login", anon, http.MethodPost, nil, 401, false},
		{"mission without login", anon, http.MethodPut, nil, 401, false},
		{"control logged in", op, http.MethodPost, nil, 200, true},
		{"same origin", op, http.MethodPost, []string{"Origin", e.srv.URL}, 200, true},
		{"cross origin", op, http.MethodPost, []string{"Origin", "http://evil.example"}, 403, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.reached.Load()
			resp, body := do(t, tc.c, tc.method, e.srv.URL+"/api/robots/r1/hold", "", "", tc.hdr...)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if got := e.reached.Load() > before; got != tc.passes {
				t.Errorf("reached the API: %v, want %v", got, tc.passes)
			}
			if tc.want == 401 {
				var er web.Error
				if json.Unmarshal([]byte(body), &er) != nil || er.Error != "log in to control the fleet" {
					t.Errorf("401 body %q, want the JSON error the page shows", body)
				}
			}
		})
	}
	t.Run("logout ends the session", func(t *testing.T) {
		if resp, _ := do(t, op, http.MethodPost, e.srv.URL+"/logout", "", ""); resp.StatusCode != 200 {
			t.Fatalf("logout %d", resp.StatusCode)
		}
		if resp, _ := do(t, op, http.MethodPost, e.srv.URL+"/api/fleet/stop", "", ""); resp.StatusCode != 401 {
			t.Errorf("after logout: %d, want 401", resp.StatusCode)
		}
	})
	t.Run("a forged cookie is refused", func(t *testing.T) {
		resp, _ := do(t, anon, http.MethodPost, e.srv.URL+"/api/fleet/stop", "", "", "Cookie", web.CookieName+"=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		if resp.StatusCode != 401 {
			t.Errorf("forged cookie: %d, want 401", resp.StatusCode)
		}
	})
}

func TestSessionExpires(t *testing.T) {
	now := time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)
	e := newAuthEnv(t, web.Options{Verifier: users, SessionTTL: time.Hour, Now: func() time.Time { return now }})
	c := e.client(t)
	do(t, c, http.MethodPost, e.srv.URL+"/login", "application/json", `{"user":"op","password":"secret"}`)
	if resp, _ := do(t, c, http.MethodPost, e.srv.URL+"/api/fleet/stop", "", ""); resp.StatusCode != 200 {
		t.Fatalf("fresh session: %d", resp.StatusCode)
	}
	now = now.Add(time.Hour)
	if resp, _ := do(t, c, http.MethodPost, e.srv.URL+"/api/fleet/stop", "", ""); resp.StatusCode != 401 {
		t.Errorf("expired session: %d, want 401", resp.StatusCode)
	}
}

func TestLoginRateLimit(t *testing.T) {
	now := time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)
	e := newAuthEnv(t, web.Options{Verifier: users, MaxFailures: 3, FailWindow: time.Minute, Lockout: 30 * time.Second,
		Now: func() time.Time { return now }})
	c := e.client(t)
	login := func(pass string) int {
		resp, _ := do(t, c, http.MethodPost, e.srv.URL+"/login", "application/json", `{"user":"op","password":"`+pass+`"}`)
		return resp.StatusCode
	}
	steps := []struct {
		name    string
		advance time.Duration
		pass    string
		want    int
	}{
		{"fail 1", 0, "x", 401},
		{"fail 2", 0, "x", 401},
		{"fail 3 locks", 0, "x", 401},
		{"locked even with the right password", 0, "secret", 429},
		{"still locked", 29 * time.Second, "secret", 429},
		{"unlocked", 2 * time.Second, "secret", 200},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			now = now.Add(s.advance)
			if got := login(s.pass); got != s.want {
				t.Errorf("status %d, want %d", got, s.want)
			}
		})
	}
	if e.rejects.Load() < 5 {
		t.Errorf("%d rejects counted, want every refused login", e.rejects.Load())
	}
}

func TestNoVerifier(t *testing.T) {
	e := newAuthEnv(t, web.Options{})
	resp, body := do(t, e.client(t), http.MethodPost, e.srv.URL+"/login", "application/json", `{"user":"op","password":"secret"}`)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "read-only") {
		t.Errorf("login without credentials: %d %s", resp.StatusCode, body)
	}
}

func TestCredentialsVerifier(t *testing.T) {
	var c broker.Credentials
	for _, u := range []struct {
		name string
		role broker.Role
	}{{"alice", broker.RoleOperator}, {"r1", broker.RoleRobot}} {
		if err := c.SetPassword(u.name, u.role, []byte("pw-"+u.name)); err != nil {
			t.Fatal(err)
		}
	}
	v := web.CredentialsVerifier(func() *broker.Credentials { return &c })
	tests := []struct {
		user, pass, role string
		ok               bool
	}{
		{"alice", "pw-alice", "operator", true},
		{"alice", "wrong", "", false},
		{"r1", "pw-r1", "robot", true},
		{"bob", "pw-alice", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.user+"/"+tc.pass, func(t *testing.T) {
			role, ok := v.Verify(tc.user, tc.pass)
			if role != tc.role || ok != tc.ok {
				t.Errorf("Verify = %q, %v; want %q, %v", role, ok, tc.role, tc.ok)
			}
		})
	}
	if _, ok := web.CredentialsVerifier(func() *broker.Credentials { return nil }).Verify("alice", "pw-alice"); ok {
		t.Error("no credentials file must verify nobody")
	}
}

func TestPageAndMissions(t *testing.T) {
	e := newAuthEnv(t, web.Options{})
	c := e.client(t)
	tests := []struct {
		name, method, path, body string
		want                     int
		contains                 string
	}{
		{"page", http.MethodGet, "/", "", 200, `<svg id="arena"`},
		{"script", http.MethodGet, "/static/app.js", "", 200, "EventSource('/events')"},
		{"style", http.MethodGet, "/static/app.css", "", 200, "--bg"},
		{"no such asset", http.MethodGet, "/static/nope.js", "", 404, ""},
		{"session anonymous", http.MethodGet, "/session", "", 200, `"user":""`},
		{"missions yaml", http.MethodPost, "/missions/parse", "arena: {diameter_m: 3}\nrobots:\n  r1: {route: [0, 6, 3]}\n", 200, `"r1":[0,6,3]`},
		{"missions json", http.MethodPost, "/missions/parse", `{"arena":{"diameter_m":3},"robots":{"r2":{"route":[9]}}}`, 200, `"r2":[9]`},
		{"missions invalid", http.MethodPost, "/missions/parse", "arena: {diameter_m: 0}\nrobots: {}\n", 400, "diameter_m"},
		{"missions typo", http.MethodPost, "/missions/parse", "arena: {diameter_m: 3}\nrobot: {}\n", 400, "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, c, tc.method, e.srv.URL+tc.path, "", tc.body)
			if resp.StatusCode != tc.want || !strings.Contains(body, tc.contains) {
				t.Errorf("%s %s: %d, want %d containing %q; got %.200s", tc.method, tc.path, resp.StatusCode, tc.want, tc.contains, body)
			}
		})
	}
	resp, _ := do(t, c, http.MethodGet, e.srv.URL+"/", "", "")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("page CSP %q: want everything from self", csp)
	}
}
