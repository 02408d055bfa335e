package web_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
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
	known := map[string][2]string{"op": {"secret", "operator"}, "orch": {"o-pass", "orchestrator"}, "watch": {"w-pass", "observer"},
		"r1": {"r1-pass", "robot"}}
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
		{"observer logs in to watch", "application/json", `{"user":"watch","password":"w-pass"}`, http.StatusOK, true},
		{"robot may not log in", "application/json", `{"user":"r1","password":"r1-pass"}`, http.StatusForbidden, false},
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

func loggedIn(t *testing.T, e *authEnv, user, pass string) *http.Client {
	t.Helper()
	c := e.client(t)
	if resp, body := do(t, c, http.MethodPost, e.srv.URL+"/login", "application/json", fmt.Sprintf(`{"user":%q,"password":%q}`, user, pass)); resp.StatusCode != 200 {
		t.Fatalf("login as %s: %d %s", user, resp.StatusCode, body)
	}
	return c
}

func TestRequireOperator(t *testing.T) {
	e := newAuthEnv(t, web.Options{Verifier: users})
	op := loggedIn(t, e, "op", "secret")
	watch := loggedIn(t, e, "watch", "w-pass")
	anon := e.client(t)
	tests := []struct {
		name   string
		c      *http.Client
		method string
		hdr    []string
		want   int
		passes bool
		msg    string
	}{
		{"read without login", anon, http.MethodGet, nil, 401, false, "log in to watch the fleet"},
		{"read as observer", watch, http.MethodGet, nil, 200, true, ""},
		{"read as operator", op, http.MethodGet, nil, 200, true, ""},
		{"read with basic auth", anon, http.MethodGet, []string{"Authorization", basic("watch", "w-pass")}, 200, true, ""},
		{"read with a wrong basic password", anon, http.MethodGet, []string{"Authorization", basic("watch", "nope")}, 401, false, "log in to watch the fleet"},
		{"read with a robot's basic auth", anon, http.MethodGet, []string{"Authorization", basic("r1", "r1-pass")}, 401, false, "log in to watch the fleet"},
		{"control without login", anon, http.MethodPost, nil, 401, false, "log in to control the fleet"},
		{"mission without login", anon, http.MethodPut, nil, 401, false, "log in to control the fleet"},
		{"control as observer", watch, http.MethodPost, nil, 403, false, "user watch has role observer: log in as an operator to control the fleet"},
		{"control with basic auth", anon, http.MethodPost, []string{"Authorization", basic("op", "secret")}, 401, false, "log in to control the fleet"},
		{"control logged in", op, http.MethodPost, nil, 200, true, ""},
		{"same origin", op, http.MethodPost, []string{"Origin", e.srv.URL}, 200, true, ""},
		{"cross origin", op, http.MethodPost, []string{"Origin", "http://evil.example"}, 403, false, ""},
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
			if tc.msg != "" {
				var er web.Error
				if json.Unmarshal([]byte(body), &er) != nil || er.Error != tc.msg {
					t.Errorf("body %q, want the JSON error %q the page shows", body, tc.msg)
				}
			}
		})
	}
	t.Run("a browser's fetch is not offered basic authentication", func(t *testing.T) {
		resp, _ := do(t, anon, http.MethodGet, e.srv.URL+"/api/fleet", "", "", "Sec-Fetch-Mode", "cors")
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != "" {
			t.Errorf("status %d, WWW-Authenticate %q: want 401 without a challenge (the browser would pop up a password box)", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		resp, _ = do(t, anon, http.MethodGet, e.srv.URL+"/api/fleet", "", "")
		if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("curl-like client: WWW-Authenticate %q, want a Basic challenge", resp.Header.Get("WWW-Authenticate"))
		}
	})
	t.Run("logout ends the session", func(t *testing.T) {
		if resp, _ := do(t, op, http.MethodPost, e.srv.URL+"/logout", "", ""); resp.StatusCode != 200 {
			t.Fatalf("logout %d", resp.StatusCode)
		}
		if resp, _ := do(t, op, http.MethodPost, e.srv.URL+"/api/fleet/stop", "", ""); resp.StatusCode != 401 {
			t.Errorf("after logout: %d, want 401", resp.StatusCode)
		}
		if resp, _ := do(t, op, http.MethodGet, e.srv.URL+"/api/fleet", "", ""); resp.StatusCode != 401 {
			t.Errorf("read after logout: %d, want 401", resp.StatusCode)
		}
	})
	t.Run("a forged cookie is refused", func(t *testing.T) {
		resp, _ := do(t, anon, http.MethodPost, e.srv.URL+"/api/fleet/stop", "", "", "Cookie", web.CookieName+"=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		if resp.StatusCode != 401 {
			t.Errorf("forged cookie: %d, want 401", resp.StatusCode)
		}
	})
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// TestReadGuard: the live updates and the missions check need a reader
// like the API's reads; --allow-anonymous-watch opens reads, never
// controls.
func TestReadGuard(t *testing.T) {
	for _, anonymous := range []bool{false, true} {
		t.Run(fmt.Sprintf("anonymous read %v", anonymous), func(t *testing.T) {
			e := newAuthEnv(t, web.Options{Verifier: users, AnonymousRead: anonymous})
			anon := e.client(t)
			want := 401
			if anonymous {
				want = 200
			}
			for _, c := range []struct{ method, path, body string }{
				{http.MethodGet, "/api/fleet", ""},
				{http.MethodPost, "/missions/parse", "arena: {diameter_m: 3}\nrobots:\n  r1: {route: [0]}\n"},
				{http.MethodHead, "/events", ""},
			} {
				resp, body := do(t, anon, c.method, e.srv.URL+c.path, "", c.body)
				if c.path == "/events" && anonymous && resp.StatusCode != 401 {
					continue // the stream opened: that is the read
				}
				if resp.StatusCode != want {
					t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, resp.StatusCode, want, body)
				}
			}
			resp, body := do(t, anon, http.MethodGet, e.srv.URL+"/session", "", "")
			var si web.SessionInfo
			if json.Unmarshal([]byte(body), &si) != nil || si.AnonymousRead != anonymous || !si.Login || resp.StatusCode != 200 {
				t.Errorf("/session = %d %s, want anonymous_read %v", resp.StatusCode, body, anonymous)
			}
			if resp, _ := do(t, anon, http.MethodPost, e.srv.URL+"/api/fleet/stop", "", ""); resp.StatusCode != 401 {
				t.Errorf("control without login: %d, want 401", resp.StatusCode)
			}
		})
	}
}

// TestBasicAuthLimited: failed basic authentications count against the
// client's IP like failed logins.
func TestBasicAuthLimited(t *testing.T) {
	now := time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)
	e := newAuthEnv(t, web.Options{Verifier: users, MaxFailures: 2, Lockout: time.Minute, Now: func() time.Time { return now }})
	c := e.client(t)
	get := func(pass string) int {
		resp, _ := do(t, c, http.MethodGet, e.srv.URL+"/api/fleet", "", "", "Authorization", basic("watch", pass))
		return resp.StatusCode
	}
	for i, want := range []int{401, 401, 429} {
		pass := "x"
		if i == 2 {
			pass = "w-pass"
		}
		if got := get(pass); got != want {
			t.Errorf("try %d: %d, want %d", i+1, got, want)
		}
	}
	now = now.Add(2 * time.Minute)
	if got := get("w-pass"); got != 200 {
		t.Errorf("after the lockout: %d, want 200", got)
	}
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
	e := newAuthEnv(t, web.Options{AnonymousRead: true})
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
