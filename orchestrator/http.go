package main

import (
	"encoding/json"
	"net/http"

	"collaborate/orchestrator/api"
)

// newMux builds every HTTP route: health, metrics, the dashboard and the
// JSON API. /healthz is open; what shows the fleet (the live updates, the
// API's reads, /metrics) needs a login or basic authentication of an
// observer, operator or orchestrator user, unless --allow-anonymous-watch;
// the API's controls (POST, PUT) need an operator's login.
func newMux(a *app) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.Handle("GET /metrics", a.web.RequireRead(a.m.Handler()))
	a.web.Register(mux)
	apiMux := http.NewServeMux()
	api.Register(apiMux, a.runner)
	mux.Handle("/api/", a.web.RequireOperator(apiMux))
	return mux
}

// healthz answers 200 while the orchestrator serves, 503 while it starts or
// stops.
func (a *app) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	status, code := "ok", http.StatusOK
	if !a.ready.Load() {
		status, code = "unavailable", http.StatusServiceUnavailable
	}
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "epoch": a.epoch})
}
