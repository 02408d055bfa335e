package web

import (
	"collaborate/topics"

	"embed"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"collaborate/orchestrator/mission"
)

//go:embed static
var static embed.FS

// Options configure a Server. Zero values take the defaults noted.
type Options struct {
	Source   Source   // required: the orchestrator state (*core.Runner)
	Verifier Verifier // nil: nobody can log in
	// AnonymousRead lets anyone watch the fleet without logging in (the
	// orchestrator's --allow-anonymous-watch); controls still need a login.
	AnonymousRead bool
	// Rejects, when set, counts refused logins and control requests by
	// reason (metrics.(*Metrics).Reject fits).
	Rejects      func(reason string)
	SecureCookie bool          // set the cookie's Secure flag even without TLS on this hop
	SessionTTL   time.Duration // default 12 h
	MaxSessions  int           // default 256
	// Failed logins: after MaxFailures from one IP within FailWindow the
	// IP is refused for Lockout. Defaults 5, 1 min, 30 s.
	MaxFailures int
	FailWindow  time.Duration
	Lockout     time.Duration
	Hub         HubOptions // its Log is replaced by Log
	Log         zerolog.Logger
	Now         func() time.Time // default time.Now
}

// Server is the dashboard: the page, /events, login and logout.
type Server struct {
	opts   Options
	hub    *Hub
	sess   *sessions
	limit  *limiter
	verify Verifier
	bcrypt chan struct{}
	basic  *basicCache
	log    zerolog.Logger
	now    func() time.Time
	assets fs.FS
}

// New builds a dashboard server. Start its hub with Hub().Run(ctx).
func New(o Options) (*Server, error) {
	if o.Source == nil {
		return nil, errors.New("web: Options.Source is required")
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 256
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = 5
	}
	if o.FailWindow <= 0 {
		o.FailWindow = time.Minute
	}
	if o.Lockout <= 0 {
		o.Lockout = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Hub.Log = o.Log // one logger for the dashboard
	assets, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	return &Server{
		opts: o, hub: NewHub(o.Source, o.Hub), verify: o.Verifier, log: o.Log, now: o.Now, assets: assets,
		sess:   &sessions{m: map[[32]byte]Session{}, ttl: o.SessionTTL, max: o.MaxSessions},
		limit:  &limiter{m: map[string]*failures{}, max: o.MaxFailures, window: o.FailWindow, lockout: o.Lockout, capacity: 4096},
		bcrypt: make(chan struct{}, 2),
		basic:  &basicCache{m: map[[32]byte]basicEntry{}, ttl: 5 * time.Minute, max: 64},
	}, nil
}

// Hub is the server's live-update hub: call Hub().Notify from the broker
// subscription and run Hub().Run.
func (s *Server) Hub() *Hub { return s.hub }

// Notify is Hub().Notify.
func (s *Server) Notify(topic string, payload []byte) { s.hub.Notify(topic, payload) }

// Take is Notify for a message already decoded (the orchestrator's way:
// each message is decoded once, at the broker's door).
func (s *Server) Take(t topics.Topic, msg topics.Message) { s.hub.Take(t, msg) }

func (s *Server) reject(reason string) {
	if s.opts.Rejects != nil {
		s.opts.Rejects(reason)
	}
}

// Register adds the dashboard's routes: GET / and /static/ (the page, which
// holds no fleet data), GET /session, POST /login, POST /logout, and behind
// RequireRead GET /events and POST /missions/parse. The JSON API is
// registered by package api; wrap it with RequireOperator.
func (s *Server) Register(mux *http.ServeMux) {
	files := http.FileServerFS(s.assets)
	mux.Handle("GET /static/", http.StripPrefix("/static/", noCache(files)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		b, err := fs.ReadFile(s.assets, "index.html")
		if err != nil {
			writeErr(w, http.StatusInternalServerError, err.Error())
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		// Everything is served from here: no CDN, nothing inline.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(b)
	})
	mux.Handle("/events", s.RequireRead(s.hub))
	mux.HandleFunc("GET /session", s.session)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.Handle("POST /missions/parse", s.RequireRead(http.HandlerFunc(s.parseMissions)))
}

func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// ParsedMissions is the answer of POST /missions/parse: the routes of a
// missions file, which the page then PUTs one by one to the API.
type ParsedMissions struct {
	Robots map[string][]int `json:"robots"`
}

// parseMissions validates an uploaded missions file (YAML or JSON, the
// format of --missions). It changes nothing, so it needs only a reader.
func (s *Server) parseMissions(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64*1024))
	if err != nil {
		writeErr(w, http.StatusRequestEntityTooLarge, "missions file over 64 KiB or unreadable: "+err.Error())
		return
	}
	f, err := mission.Parse(b)
	if err != nil {
		writeErr(w, http.StatusBadRequest, err.Error())
		return
	}
	out := ParsedMissions{Robots: map[string][]int{}}
	for _, id := range f.RobotIDs() {
		out.Robots[id] = f.Robots[id].Route
	}
	writeJSON(w, http.StatusOK, out)
}

// Error is every error response, as in package api.
type Error struct {
	Error string `json:"error"`
}

func writeErr(w http.ResponseWriter, code int, msg string) { writeJSON(w, code, Error{Error: msg}) }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
