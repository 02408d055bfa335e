package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"collaborate/orchestrator/core"
	"collaborate/orchestrator/mission"
	"collaborate/topics"
)

// MaxBody is the largest request body accepted, in bytes.
const MaxBody = 64 * 1024

// Controller is what the API drives; *core.Runner implements it and is
// safe for concurrent use.
type Controller interface {
	Fleet() core.FleetView
	Map() *topics.FleetMap
	SetMission(robot string, route []int) error
	Hold(id string) error
	Resume(id string) error
	Stop(id string) error
	FleetStop() error
	FleetResume() error
	Sweep(robot string) error
}

var _ Controller = (*core.Runner)(nil)

// MissionRequest is the body of PUT /api/missions/{robot}.
type MissionRequest struct {
	Route []int `json:"route"`
}

// SweepRequest is the optional body of POST /api/map/sweep.
type SweepRequest struct {
	Robot string `json:"robot,omitempty"`
}

// Error is every error response.
type Error struct {
	Error string `json:"error"`
}

// Register adds the API's routes to mux.
func Register(mux *http.ServeMux, c Controller) {
	h := handlers{c}
	handle(mux, "/api/fleet", http.MethodGet, h.fleet)
	handle(mux, "/api/map", http.MethodGet, h.getMap)
	handle(mux, "/api/missions/{robot}", http.MethodPut, h.putMission)
	handle(mux, "/api/robots/{id}/{action}", http.MethodPost, h.robotAction)
	handle(mux, "/api/fleet/stop", http.MethodPost, h.fleetCmd(c.FleetStop, "stopped"))
	handle(mux, "/api/fleet/resume", http.MethodPost, h.fleetCmd(c.FleetResume, "resumed"))
	handle(mux, "/api/map/sweep", http.MethodPost, h.sweep)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, fmt.Sprintf("no API endpoint %s %s", r.Method, r.URL.Path))
	})
}

// handle registers a path for one method, answering others with a JSON 405
// (the mux's own 405 is plain text).
func handle(mux *http.ServeMux, path, method string, f http.HandlerFunc) {
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			writeErr(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: use %s", r.Method, r.URL.Path, method))
			return
		}
		f(w, r)
	})
}

type handlers struct{ c Controller }

func (h handlers) fleet(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, h.c.Fleet())
}

func (h handlers) getMap(w http.ResponseWriter, _ *http.Request) {
	m := h.c.Map()
	if m == nil {
		writeErr(w, http.StatusNotFound, "no map yet: the mapping sweep has not run")
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (h handlers) putMission(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("robot")
	if err := topics.CheckRobotID(id); err != nil {
		writeErr(w, http.StatusBadRequest, err.Error())
		return
	}
	var req MissionRequest
	if !decode(w, r, &req, false) {
		return
	}
	if err := h.c.SetMission(id, req.Route); err != nil {
		writeCoreErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"robot": id, "route": req.Route})
}

func (h handlers) robotAction(w http.ResponseWriter, r *http.Request) {
	id, action := r.PathValue("id"), r.PathValue("action")
	var f func(string) error
	switch action {
	case "hold":
		f = h.c.Hold
	case "resume":
		f = h.c.Resume
	case "stop":
		f = h.c.Stop
	default:
		writeErr(w, http.StatusNotFound, fmt.Sprintf("unknown robot action %q: use hold, resume or stop", action))
		return
	}
	if err := topics.CheckRobotID(id); err != nil {
		writeErr(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := f(id); err != nil {
		writeCoreErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"robot": id, "action": action})
}

func (h handlers) fleetCmd(f func() error, done string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if err := f(); err != nil {
			writeCoreErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"fleet": done})
	}
}

func (h handlers) sweep(w http.ResponseWriter, r *http.Request) {
	var req SweepRequest
	if !decode(w, r, &req, true) {
		return
	}
	if req.Robot != "" {
		if err := topics.CheckRobotID(req.Robot); err != nil {
			writeErr(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	if err := h.c.Sweep(req.Robot); err != nil {
		writeCoreErr(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"sweep": "started"})
}

// decode reads one JSON object; unknown fields, trailing data and oversize
// bodies are errors. With optional, an empty body is the zero value.
func decode(w http.ResponseWriter, r *http.Request, v any, optional bool) bool {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			writeErr(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", MaxBody))
		} else {
			writeErr(w, http.StatusBadRequest, "reading body: "+err.Error())
		}
		return false
	}
	if len(b) == 0 && optional {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeErr(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return false
	}
	if dec.More() {
		writeErr(w, http.StatusBadRequest, "malformed JSON: data after the object")
		return false
	}
	return true
}

func writeCoreErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, core.ErrUnknownRobot):
		writeErr(w, http.StatusNotFound, err.Error())
	case errors.Is(err, mission.ErrNotOnMap):
		writeErr(w, http.StatusUnprocessableEntity, err.Error())
	case errors.Is(err, mission.ErrInvalid):
		writeErr(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, core.ErrConflict):
		writeErr(w, http.StatusConflict, err.Error())
	default:
		writeErr(w, http.StatusInternalServerError, err.Error())
	}
}

func writeErr(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, Error{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
