// Package web is the operator's dashboard: one embedded page (HTML, JS,
// SVG; no build step, no CDN) that draws the arena to scale with its
// markers, every robot's pose, heading, route, progress, state and holds,
// the simulator's ground truth beside the estimates, and the latest
// checkpoints and events; with controls that call the JSON API (package api).
//
// Concepts:
//   - Hub: fed every MQTT message through Notify, it keeps what the core's
//     fleet view lacks (heading, speed, ground truth, event log) and pushes a
//     Snapshot to each browser on GET /events (Server-Sent Events). A change
//     is pushed at once when the last push is older than Coalesce (50 ms),
//     else at the end of that interval: latency ≤ 50 ms plus encoding, and
//     at most 20 pushes a second however busy the broker. Slow browsers get
//     only the latest snapshot.
//   - Sessions: POST /login checks a user against the credentials file
//     (Verifier; roles observer, operator and orchestrator) and sets a
//     random 256-bit session cookie (HttpOnly, SameSite=Strict, Secure over
//     TLS). Failed logins are limited per client IP.
//   - The same roles as on MQTT: reading the fleet (GET /events, the API's
//     GETs, /metrics with RequireRead) needs a session or HTTP basic
//     authentication of an observer, operator or orchestrator user, unless
//     Options.AnonymousRead; else 401 "log in to watch the fleet", and the
//     page shows nothing but the login. RequireOperator wraps the API:
//     every control needs the session of an operator or orchestrator user,
//     else 401 "log in to control the fleet" (403 for an observer). Basic
//     authentication, which a browser would replay on a forged request,
//     never controls. Successful basic authentications are cached for a few
//     minutes so that a scraper does not pay bcrypt on every request.
//
// Units as everywhere: metres, radians counter-clockwise, arena frame.
package web
