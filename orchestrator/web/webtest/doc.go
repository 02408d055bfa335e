// Package webtest drives the dashboard in a real headless Chromium
// (chromedp) and provides a fake fleet to run it against.
//
//   - FakeFleet is a web.Source and an api.Controller: four (or N) robots
//     that drive their routes between edge markers of a 3 m arena, stop when
//     held, and publish their poses, checkpoints, directives and ground truth
//     through the same MQTT payloads the real system sends (topics.Encode).
//   - BrowserScenario(t, baseURL, accounts) is the operator's acceptance
//     test, runnable against the fake or a real `orchestrator --sim 4`:
//     nothing is shown before a login, robots move on the page once an
//     observer logs in, the observer's hold is refused, an operator's hold
//     stops a robot, resume moves it again.
//
// Chromium is /usr/bin/chromium (or $CHROMIUM); tests skip without it unless
// COLLABORATE_REQUIRE_TOOLS=1. Screenshots go to $COLLABORATE_SCREENSHOTS,
// else a new temporary directory; the path is logged.
package webtest
