// Package api is the orchestrator's JSON HTTP API, registered on a
// caller-owned *http.ServeMux:
//
//	GET  /api/fleet                  fleet view: robots, missions, holds, stats
//	GET  /api/map                    marker map (404 before the first sweep)
//	PUT  /api/missions/{robot}       body {"route": [3, 7, 11]}: replace a mission
//	POST /api/robots/{id}/hold       operator hold (latched)
//	POST /api/robots/{id}/resume     lifts the operator's hold and stop
//	POST /api/robots/{id}/stop       operator stop (latched)
//	POST /api/fleet/stop             broadcast stop
//	POST /api/fleet/resume           lifts the fleet stop
//	POST /api/map/sweep              optional body {"robot": "r1"}: re-run the sweep
//
// Errors are JSON {"error": "..."} saying what is wrong: 400 malformed JSON,
// bad robot id, empty route; 404 unknown robot or path; 405 wrong method;
// 409 conflict (a sweep running, fleet stopped, no robot online);
// 413 body over MaxBody; 422 marker not on the map.
package api
