#!/usr/bin/env python3
"""A minimal collaborate robot in Python: the contract from the outside.

It follows the robot rules of topics/asyncapi.yaml (info.x-robot-rules) with
nothing of the Go code: MQTT 3.1.1 through paho-mqtt (Debian's
python3-paho-mqtt), JSON payloads, and a small pilot that faces the target
marker, drives, and stops stop_m short of it; for the last step with a park
spot it localises from two or more mapped markers and drives to the spot by
its pose. `orchestrator conform` checks it; see README.md beside this file.

Its body is behind two seams: a camera (detect() -> markers seen, each
(id, distance_m, bearing_rad)) and motors (drive(lin, ang), halt()).
WorldBody implements both over the JSON-lines protocol of `robot world`, the
simulated arena (robot/world); PiCamera and PiMotors show where a Raspberry
Pi's camera and H-bridge plug in.

Units: metres, seconds, radians counter-clockwise; bearings are relative to
the heading, positive to the left; positions are in the arena frame (origin
at the centre).

    python3 robot.py --id r5 --broker tcp://laptop:1883 --password-file r5.pw --world 127.0.0.1:7400
"""

import argparse
import collections
import json
import math
import signal
import socket
import sys
import threading
import time
from datetime import datetime, timezone
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

# The contract's numbers (topics/messages.go, topics/asyncapi.yaml).
VERSION = 1
HEARTBEAT_S = 0.5          # robots/{id}/heartbeat, whatever the state
ORCH_SILENCE_S = 0.8       # no orchestrator/heartbeat for this long: stop
KEEPALIVE_S = 3
DEAF_AFTER_S = 10.0        # connected, but no orchestrator heartbeat for this long: reconnect
DEAF_AFTER_MAX_S = 60.0    # ... doubling each time until one comes, up to this
MAX_PAYLOAD = 16384

# This robot's own settings.
TICK_S = 0.05              # control loop, 20 Hz
POSE_MOVING_S = 0.2        # 5 Hz while moving
POSE_IDLE_S = 1.0
STATUS_EVERY_S = 5.0
MAX_SPEED = 0.22           # m/s
MIN_SPEED = 0.05           # creeping up to a stop point
MAX_TURN = 1.2             # rad/s
SEARCH_TURN = 0.8
MAP_TURN = 0.5
BACKOFF_SPEED = 0.1
HEADING_GAIN = 2.5
DRIVE_CONE = 0.35          # drive only while the target is this close to straight ahead
STOP_M = 0.35              # stop short of a marker when the route does not say
PARK_TOLERANCE_M = 0.04
FACE_STOP_M = 0.45         # another robot's face closer than this in the path: stop
FORWARD_CONE = math.radians(25)
CLEAR_AFTER_S = 0.5
YIELD_TIMEOUT_S = 15.0
TRACK_LOST_S = 0.6
FIND_TIMEOUT_S = 5.0
FACE_BASE = 100            # face markers are >= this; arena markers below
FACES = ("front", "left", "back", "right")


def wrap(a):
    """An angle brought into [-pi, pi]."""
    return (a + math.pi) % (2 * math.pi) - math.pi


def clamp(v, lim):
    return max(-lim, min(lim, v))


def utc_now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def newer(epoch, seq, last_epoch, last_seq):
    """1 when (epoch, seq) is newer than the last applied, 0 the same, -1 older: epoch first."""
    if epoch != last_epoch:
        return 1 if epoch > last_epoch else -1
    return (seq > last_seq) - (seq < last_seq)


# ---------------------------------------------------------------- the body

class WorldBody:
    """Camera and motors of a body in `robot world` (robot/world's protocol):
    one JSON object per line over TCP. hello claims the body; frame asks for
    a camera frame; drive and halt command the motors, and the world halts a
    body that gets no command for 300 ms."""

    def __init__(self, addr, robot_id, faces=None):
        self.addr, self.id, self.faces = addr, robot_id, faces
        self.sock, self.rfile, self.next_id, self.last_dial = None, None, 0, 0.0
        self.scale, self.sim_at, self.wall_at = 1.0, 0.0, time.monotonic()
        self._connect()

    def _connect(self):
        self.last_dial = time.monotonic()
        host, port = self.addr.rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=2)
        s.settimeout(0.5)
        self.sock, self.rfile = s, s.makefile("rb")
        hello = {"op": "hello", "robot": self.id}
        if self.faces:
            hello["faces"] = self.faces
        rep = self._call(hello)
        if rep.get("op") != "welcome":
            raise RuntimeError("world refused %s: %s" % (self.id, rep.get("error", rep)))
        self.faces = rep.get("faces") or self.faces
        self.scale = float(rep.get("scale") or 1.0)

    def _call(self, req, want=True):
        if self.sock is None:
            if time.monotonic() - self.last_dial < 0.5:
                raise OSError("world: not connected")
            self._connect()
        try:
            self.sock.sendall((json.dumps(req) + "\n").encode())
            if not want:
                return None
            line = self.rfile.readline()
            if not line:
                raise OSError("world closed the connection")
            rep = json.loads(line)
            if rep.get("op") == "error":
                raise OSError("world: " + rep.get("error", ""))
            if rep.get("sim_ns"):
                self.sim_at, self.wall_at = rep["sim_ns"] / 1e9, time.monotonic()
            return rep
        except (OSError, ValueError):
            self.close()
            raise

    def now(self):
        """The world's clock, in seconds: it may run faster than real time
        (`robot world --speed`), and the robot's control runs on it."""
        return self.sim_at + (time.monotonic() - self.wall_at) * self.scale

    def detect(self):
        """The markers of one camera frame: [(id, distance_m, bearing_rad)]."""
        self.next_id += 1
        rep = self._call({"op": "frame", "id": self.next_id})
        return [(d["id"], d["d"], d["b"]) for d in rep.get("dets") or []]

    def drive(self, lin, ang):
        self._call({"op": "drive", "lin": lin, "ang": ang}, want=False)

    def halt(self):
        self._call({"op": "halt"}, want=False)

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock, self.rfile = None, None


class PiClock:
    """A Pi's clock: real time."""
    scale = 1.0

    def now(self):
        return time.monotonic()


class PiCamera:
    """Where a Raspberry Pi's camera plugs in: grab a frame (picamera2 or
    cv2.VideoCapture), find ArUco markers (cv2.aruco, DICT_4X4_250), and
    range them with solvePnP from the printed side length; return
    [(id, distance_m, bearing_rad)], bearing positive to the left."""

    def detect(self):
        raise NotImplementedError("PiCamera.detect: plug in your camera (see the class comment)")


class PiMotors:
    """Where a Raspberry Pi's H-bridge plugs in: turn (lin, ang) into wheel
    speeds (v -/+ ang * wheel_base / 2) and PWM duty (gpiozero.Motor or
    /sys/class/pwm). halt() must make the motors inert."""

    def drive(self, lin, ang):
        raise NotImplementedError("PiMotors.drive: plug in your H-bridge (see the class comment)")

    def halt(self):
        pass


# ---------------------------------------------------------------- the link

class Link:
    """The robot's MQTT side: the connect and failsafe rules."""

    def __init__(self, robot_id, broker_url, password, faces):
        u = urlparse(broker_url)
        if u.scheme not in ("tcp", "mqtt"):
            raise SystemExit("--broker must be tcp://host:port, got %r" % broker_url)
        self.id = robot_id
        self.faces = faces
        self.boot_ms = int(time.time() * 1000)
        self.seq = {}
        self.lock = threading.Lock()
        self.inbox = collections.deque()      # directives, fleet commands, maps, in arrival order
        self.subscribed = False               # both SUBSCRIBEs granted on this connection
        self.orch_online = False
        self.orch_epoch = self.orch_seq = 0
        self.last_beat = None                 # monotonic time of the last orchestrator heartbeat
        self.heard = None                     # ... or of the last subscription, whichever is later
        self.deaf_after = DEAF_AFTER_S
        self.deaf_reconnects = 0
        self.generation = 0                   # bumped on every connect
        kw = dict(client_id=robot_id, clean_session=False, protocol=mqtt.MQTTv311)
        if hasattr(mqtt, "CallbackAPIVersion"):  # paho-mqtt 2
            self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, **kw)
        else:
            self.client = mqtt.Client(**kw)
        self.client.username_pw_set(robot_id, password)
        # The will: the broker says offline for us if we vanish (kill -9, a cut link).
        will = self.stamp("status", {"state": "offline", "reason": "connection lost", "faces": faces})
        self.client.will_set(self.topic("status"), json.dumps(will), qos=1, retain=True)
        self.client.reconnect_delay_set(1, 2)
        self.client.max_queued_messages_set(0)  # QoS 1 messages wait while the link is down: the outbox
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.connect_async(u.hostname, u.port or 1883, keepalive=KEEPALIVE_S)
        self.client.loop_start()

    def topic(self, kind):
        return "robots/%s/%s" % (self.id, kind)

    # The retained topics first; orchestrator/heartbeat once they are
    # granted, so that their retained messages (a fleet stop) arrive before
    # the first heartbeat, which is what lets the robot move.
    def _steps(self):
        return [[(self.topic("cmd"), 1), ("fleet/cmd", 1), ("fleet/map", 1), ("orchestrator/status", 1)],
                [("orchestrator/heartbeat", 0)]]

    def _subscribe(self, step, gen):
        # Under the lock from SUBSCRIBE to noting its mid: a retry runs on a
        # timer's thread, and its SUBACK may reach the network thread before
        # subscribe() returns here.
        with self.lock:
            if gen != self.generation:
                return
            rc, mid = self.client.subscribe(self._steps()[step])
            self.pending = (mid, step, gen)

    def _on_connect(self, client, userdata, flags, rc):
        if rc != 0:
            return
        with self.lock:
            self.generation += 1
            gen = self.generation
            self.subscribed = False
            self.orch_online, self.last_beat = False, None
            self.orch_epoch = self.orch_seq = 0
        self._subscribe(0, gen)

    def _on_subscribe(self, client, userdata, mid, granted):
        with self.lock:
            pmid, step, gen = getattr(self, "pending", (None, 0, 0))
        if mid != pmid:
            return
        if any(q >= 0x80 for q in granted):
            # A refusal: subscribe again in a moment. mochi answers 0x91
            # (packet id in use) when one of its own QoS 1 deliveries holds
            # the id, as the first SUBSCRIBE's retained messages often do
            # when the second goes out: the next SUBSCRIBE has another id,
            # so that one is tried again at once.
            delay = 0.05 if all(q == 0x91 for q in granted if q >= 0x80) else 1.0
            threading.Timer(delay, self._subscribe, (step, gen)).start()
            return
        if step + 1 < len(self._steps()):
            self._subscribe(step + 1, gen)
        else:
            with self.lock:
                if gen == self.generation:
                    self.subscribed = True
                    self.heard = time.monotonic()

    def _on_disconnect(self, client, userdata, rc):
        with self.lock:
            self.generation += 1
            self.subscribed = False
            self.orch_online, self.last_beat = False, None

    def _on_message(self, client, userdata, m):
        try:
            body = json.loads(m.payload)
            if not isinstance(body, dict) or body.get("v") != VERSION:
                raise ValueError("not a contract payload")
        except ValueError:
            return  # bad input: dropped (the broker checks payloads too)
        with self.lock:
            if m.topic == "orchestrator/heartbeat":
                if body.get("epoch", 0) >= self.orch_epoch:
                    self.last_beat = self.heard = time.monotonic()
                    self.deaf_after = DEAF_AFTER_S
            elif m.topic == "orchestrator/status":
                epoch, seq = body.get("epoch", 0), body.get("seq", 0)
                online = body.get("state") == "online"
                # An older status never makes it online again; offline is the safe side.
                if epoch > self.orch_epoch or (epoch == self.orch_epoch and (seq >= self.orch_seq or not online)):
                    self.orch_epoch, self.orch_seq, self.orch_online = epoch, seq, online
            else:
                self.inbox.append((m.topic, body))

    def state(self):
        """(fit to move, why not). Read before the inbox each tick: what
        arrived before the heartbeat that made it fit is then in the tick."""
        with self.lock:
            if not (self.client.is_connected() and self.subscribed):
                return False, "broker connection lost"
            if not self.orch_online:
                return False, "orchestrator offline"
            if self.last_beat is None or time.monotonic() - self.last_beat > ORCH_SILENCE_S:
                return False, "no orchestrator heartbeat for %.1f s" % ORCH_SILENCE_S
            return True, ""

    def check_deaf(self):
        """Connected and subscribed, but no orchestrator heartbeat for
        deaf_after: drop the connection, and paho connects again. A broker
        can keep a connection and route nothing to it (mochi thawed after a
        freeze, an ACL reloaded without the heartbeat); safety does not wait
        for this (state() says stop after ORCH_SILENCE_S)."""
        with self.lock:
            if not (self.client.is_connected() and self.subscribed) or self.heard is None:
                return
            if time.monotonic() - self.heard < self.deaf_after:
                return
            silent = time.monotonic() - self.heard
            self.heard = None
            self.deaf_after = min(2 * self.deaf_after, DEAF_AFTER_MAX_S)
            self.deaf_reconnects += 1
            sock = self.client.socket()
        print("no orchestrator heartbeat for %.1f s while connected: reconnecting (next time after %.0f s)"
              % (silent, self.deaf_after), file=sys.stderr, flush=True)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # as a lost link: the broker sends the will, paho reconnects
            except OSError:
                pass

    def connected(self):
        with self.lock:
            return self.client.is_connected() and self.subscribed

    def drain(self):
        with self.lock:
            out = list(self.inbox)
            self.inbox.clear()
        return out

    def stamp(self, kind, body):
        """The header: v, sender, seq per topic from the boot time in ms, ts in UTC."""
        with self.lock:
            self.seq[kind] = self.seq.get(kind, self.boot_ms) + 1
            seq = self.seq[kind]
        return dict({"v": VERSION, "sender": self.id, "seq": seq, "ts": utc_now()}, **body)

    def publish(self, kind, body):
        qos, retain = {"status": (1, True), "checkpoint": (1, False), "events": (1, False)}.get(kind, (0, False))
        payload = json.dumps(self.stamp(kind, body))
        if len(payload) > MAX_PAYLOAD:
            return None
        if qos == 0 and not self.client.is_connected():
            return None  # QoS 0 while offline: dropped by design
        return self.client.publish(self.topic(kind), payload, qos=qos, retain=retain)

    def close(self):
        """The offline status, then a clean DISCONNECT (no will)."""
        if self.client.is_connected():
            info = self.publish("status", {"state": "offline", "reason": "closed", "faces": self.faces})
            if info is not None:
                try:
                    info.wait_for_publish(2)
                except (RuntimeError, ValueError):
                    pass
        self.client.disconnect()
        self.client.loop_stop()


# ---------------------------------------------------------------- the pilot

class Pilot:
    """The rules' state machine: directives once and in order, latches,
    the fail-safe, the route, and what to publish."""

    def __init__(self, link, faces, ignore_holds=False):
        self.link, self.faces, self.ignore_holds = link, faces, ignore_holds
        self.have_dir, self.dir_epoch, self.dir_seq = False, 0, 0
        self.have_fleet, self.fleet_epoch, self.fleet_seq, self.fleet_stop = False, 0, 0, False
        self.held, self.held_reason, self.awaiting, self.commanded = False, "", False, False
        self.mode, self.fault_reason = "idle", ""
        self.route, self.released, self.step, self.last_cp = [], 0, 0, -1
        self.route_epoch = self.route_seq = 0
        self.stop_m, self.park = 0.0, None
        self.link_was_ok = self.ever_ok = False
        self.failsafe, self.failsafe_reason, self.failsafe_event_due = False, "", False
        self.markers, self.scale, self.roster = {}, 1.0, {}
        self.fix, self.x, self.y, self.th = False, 0.0, 0.0, 0.0
        self.turned = 0.0
        self.backoff_left = 0.0
        self.stopped = False                   # a stop since the last resume: not even a backoff moves it
        self.cmd_lin = self.cmd_ang = 0.0
        self.track = None                      # (distance, bearing, t, odo, heading) of the target
        self.odo = self.heading = 0.0
        self.search_turned, self.search_since = 0.0, None
        self.yielding, self.yield_by, self.yield_seen, self.yield_from = False, None, 0.0, 0.0
        self.blocked, self.blocked_by = False, None
        self.last_status, self.status_key, self.was_connected = 0.0, None, False
        self.next_pose = self.next_beat = 0.0

    # -- what a robot says it is
    def state(self):
        if self.failsafe or (self.ever_ok and not self.link_was_ok):
            return "failsafe", self.failsafe_reason
        if self.mode == "fault":
            return "fault", self.fault_reason
        if self.fleet_stop:
            return "holding", "fleet stop"
        if self.mode == "backoff":
            return "backing_off", ""
        if self.held:
            return "holding", self.held_reason
        if self.awaiting:
            return "holding", "backed off, waiting for a directive"
        if self.mode == "mapping":
            return "mapping", ""
        if self.mode == "route":
            if self.step >= len(self.route):
                return "done", ""
            if self.step >= self.released:
                return ("reached", "next step not released") if self.last_cp >= 0 else ("idle", "no step released")
            if self.blocked:
                return "blocked", "face %d of %s ahead" % (self.blocked_by[0], self.blocked_by[1] or "a robot")
            if self.yielding:
                return "yielding", "face %d of %s ahead" % (self.yield_by[0], self.yield_by[1] or "a robot")
            return "moving", ""
        return ("idle", "") if self.commanded else ("online", "")

    def target(self):
        if self.mode == "route" and self.step < len(self.route):
            return self.route[self.step]
        return None

    def event(self, kind, **fields):
        self.link.publish("events", dict(kind=kind, **fields))

    # -- directives and fleet commands
    def apply_directive(self, d):
        epoch, seq, kind = d.get("epoch", 0), d.get("seq", 0), d.get("kind")
        if kind not in ("route", "hold", "resume", "stop", "map", "backoff"):
            return
        if self.have_dir:
            n = newer(epoch, seq, self.dir_epoch, self.dir_seq)
            if n == 0:
                return  # the same again: a no-op
            if n < 0:
                self.event("stale", epoch=epoch, cmd_seq=seq,
                           detail="%s older than epoch %d seq %d" % (kind, self.dir_epoch, self.dir_seq))
                return
        self.have_dir, self.dir_epoch, self.dir_seq = True, epoch, seq
        self.commanded = True
        self.failsafe = False  # a fresh directive is what lifts the fail-safe
        if kind == "route":
            self.apply_route(d)
        elif kind in ("hold", "stop"):
            if not self.ignore_holds:
                self.held, self.held_reason = True, kind + (": " + d["reason"] if d.get("reason") else "")
                self.stopped = self.stopped or kind == "stop"
            self.blocked = False
            if self.mode == "backoff":
                self.end_backoff()
        elif kind == "resume":
            self.held, self.held_reason, self.awaiting, self.blocked = False, "", False, False
            self.stopped = False
            if self.mode == "fault":
                self.mode = "route" if self.route else "idle"
                self.reset_nav()
        elif kind == "map":
            self.mode, self.turned = "mapping", 0.0
            self.awaiting = self.blocked = self.yielding = False
        elif kind == "backoff" and self.stopped:
            print("backoff ignored: stopped until a resume", file=sys.stderr, flush=True)
        elif kind == "backoff":
            self.mode, self.backoff_left = "backoff", float(d.get("backoff_m", 0))
            self.blocked = self.yielding = False
        self.event("ack", epoch=epoch, cmd_seq=seq, detail=kind)

    def apply_route(self, d):
        route = list(d.get("route") or [])
        step = int(d.get("step", 0))
        if route == self.route:
            # A step below our progress: the orchestrator lacks checkpoints.
            for s in range(step, min(self.step, self.last_cp + 1)):
                self.checkpoint(s, d.get("epoch", 0))
            self.step = max(self.step, step)
        else:
            self.route, self.step, self.last_cp = route, step, -1
            self.reset_nav()
        self.released = int(d.get("released", 0))
        self.stop_m = float(d.get("stop_m", 0))
        px, py = d.get("park_x_m"), d.get("park_y_m")
        self.park = (px, py) if px is not None and py is not None else None
        self.route_epoch, self.route_seq = d.get("epoch", 0), d.get("seq", 0)
        self.mode, self.awaiting, self.blocked, self.backoff_left = "route", False, False, 0.0

    def apply_fleet(self, f):
        epoch, seq, kind = f.get("epoch", 0), f.get("seq", 0), f.get("kind")
        if kind not in ("stop", "resume"):
            return
        if self.have_fleet:
            n = newer(epoch, seq, self.fleet_epoch, self.fleet_seq)
            if n == 0:
                return
            if n < 0:
                self.event("stale", epoch=epoch, cmd_seq=seq, detail="fleet " + kind)
                return
        self.have_fleet, self.fleet_epoch, self.fleet_seq = True, epoch, seq
        self.fleet_stop = kind == "stop"
        self.event("ack", epoch=epoch, cmd_seq=seq, detail="fleet " + kind)

    def apply_map(self, m):
        self.scale = float(m.get("scale") or 1.0)
        self.markers = {mk["id"]: (mk["x_m"], mk["y_m"]) for mk in m.get("markers") or []}
        self.roster = {}
        for r in m.get("roster") or []:
            f = r.get("faces") or {}
            for name in FACES:
                if name in f:
                    self.roster[f[name]] = (r.get("robot"), name)

    # -- the route
    def checkpoint(self, step, epoch):
        self.link.publish("checkpoint", {"epoch": epoch, "marker": self.route[step], "step": step,
                                         "final": step == len(self.route) - 1})

    def reach(self):
        self.checkpoint(self.step, self.route_epoch)
        self.last_cp = self.step
        self.step += 1
        self.reset_nav()

    def reset_nav(self):
        self.track, self.search_turned, self.search_since = None, 0.0, None

    def end_backoff(self):
        self.backoff_left = 0.0
        self.mode = "route" if self.route else "idle"
        self.reset_nav()

    def stop_distance(self):
        return self.stop_m if self.stop_m > 0 else STOP_M

    # -- localisation: two or more mapped markers give position and heading
    def locate(self, arena):
        seen = [(i, d, b) for i, d, b in arena if i in self.markers]
        if len(seen) < 2:
            return
        xs, ys, ss, cs = [], [], [], []
        for a in range(len(seen)):
            for c in range(a + 1, len(seen)):
                (ia, da, ba), (ic, dc, bc) = seen[a], seen[c]
                (mxa, mya), (mxc, myc) = self.markers[ia], self.markers[ic]
                # The two markers' offset seen from the robot, turned by the
                # heading, is their offset on the map.
                vx = da * math.cos(ba) - dc * math.cos(bc)
                vy = da * math.sin(ba) - dc * math.sin(bc)
                if math.hypot(vx, vy) < 0.3:
                    continue
                th = wrap(math.atan2(mya - myc, mxa - mxc) - math.atan2(vy, vx))
                xs.append(mxa - da * math.cos(th + ba))
                ys.append(mya - da * math.sin(th + ba))
                ss.append(math.sin(th))
                cs.append(math.cos(th))
        if not xs:
            return
        fx, fy, fth = sum(xs) / len(xs), sum(ys) / len(ys), math.atan2(sum(ss), sum(cs))
        if self.fix:  # blend with dead reckoning
            self.x, self.y = (self.x + fx) / 2, (self.y + fy) / 2
            self.th = wrap(self.th + wrap(fth - self.th) / 2)
        else:
            self.fix, self.x, self.y, self.th = True, fx, fy, fth

    def advance(self, dt):
        """Dead reckoning of the last command."""
        dth, ds = self.cmd_ang * dt, self.cmd_lin * dt
        if self.fix:
            mid = self.th + dth / 2
            self.x += ds * math.cos(mid)
            self.y += ds * math.sin(mid)
            self.th = wrap(self.th + dth)
        self.heading += dth
        self.odo += ds
        if self.mode == "mapping":
            self.turned += abs(dth)
        elif self.mode == "backoff":
            self.backoff_left -= abs(ds)
        if self.search_since is not None:
            self.search_turned += abs(dth)

    # -- the reflex: another robot's face in the path
    def reflex(self, now, faces):
        front = side = None
        for i, d, b in faces:
            if abs(b) > FORWARD_CONE or d > FACE_STOP_M:
                continue
            robot, face = self.roster.get(i, (None, FACES[(i - FACE_BASE) % 4]))
            hit = (i, robot, face, d)
            if face == "front":
                front = hit if front is None or d < front[3] else front
            elif side is None or d < side[3]:
                side = hit
        def ev(kind, h, **kw):
            fields = dict(face=h[2], marker=h[0], distance_m=h[3], **kw)
            if h[1]:
                fields["other"] = h[1]
            self.event(kind, **fields)
        if front:
            self.blocked, self.blocked_by, self.yielding = True, front, False
            ev("blocked", front, detail="head-on")
        elif side:
            self.yield_seen = now
            if not self.yielding:
                self.yielding, self.yield_by, self.yield_from = True, side, now
                ev("yield", side)
            elif now - self.yield_from >= YIELD_TIMEOUT_S:
                self.yielding, self.blocked, self.blocked_by = False, True, side
                ev("blocked", side, detail="yielded for %.0f s" % YIELD_TIMEOUT_S)
        elif self.yielding and now - self.yield_seen >= CLEAR_AFTER_S:
            self.yielding = False
            ev("clear", self.yield_by)

    def drive_to(self, d, b, stop):
        """The control law: turn towards bearing b, drive while facing it."""
        ang = clamp(HEADING_GAIN * b, MAX_TURN)
        lin = 0.0
        if abs(b) < DRIVE_CONE:
            lin = max(MIN_SPEED, min(MAX_SPEED, 0.8 * (d - stop))) * math.cos(b)
        return lin, ang

    def navigate(self, now, arena, faces):
        if self.step >= len(self.route) or self.step >= self.released or self.held or self.awaiting or self.blocked:
            return 0.0, 0.0
        park = self.park is not None and self.step == len(self.route) - 1
        if park:
            if not self.fix:  # turn until two markers give a pose
                return self.search(now, "no pose to park by")
            dx, dy = self.park[0] - self.x, self.park[1] - self.y
            d, b = math.hypot(dx, dy), wrap(math.atan2(dy, dx) - self.th)
            if d <= PARK_TOLERANCE_M or (d <= 2 * PARK_TOLERANCE_M and abs(b) > math.pi / 2):
                self.reach()
                return 0.0, 0.0
            lin, ang = self.drive_to(d + 0.0, b, 0.0)
        else:
            tid = self.route[self.step]
            for i, d, b in arena:
                if i == tid:
                    self.track = (d, b, now, self.odo, self.heading)
                    if d <= self.stop_distance():
                        self.reach()
                        return 0.0, 0.0
            if self.track and now - self.track[2] <= TRACK_LOST_S:
                d0, b0, _, odo0, h0 = self.track
                d, b = d0 - (self.odo - odo0), wrap(b0 - (self.heading - h0))
                lin, ang = self.drive_to(d, b, self.stop_distance())
            elif self.fix and tid in self.markers:
                mx, my = self.markers[tid]
                b = wrap(math.atan2(my - self.y, mx - self.x) - self.th)
                if abs(b) > DRIVE_CONE / 2:
                    return 0.0, clamp(HEADING_GAIN * b, SEARCH_TURN)
                return 0.0, 0.0  # facing it: another robot hides it; wait
            else:
                return self.search(now, "marker %d not seen" % tid)
        if lin > 0:
            self.reflex(now, faces)
            if self.blocked or self.yielding:
                return 0.0, 0.0
        return lin, ang

    def search(self, now, why):
        if self.search_since is None:
            self.search_since, self.search_turned = now, 0.0
        if self.search_turned >= 2 * math.pi and now - self.search_since > 2 * math.pi / SEARCH_TURN + FIND_TIMEOUT_S:
            self.mode, self.fault_reason = "fault", why + " after a full turn"
            self.event("fault", detail=self.fault_reason)
            return 0.0, 0.0
        return 0.0, SEARCH_TURN

    # -- one control tick
    def step_tick(self, now, dt, link_ok, why, msgs, dets):
        self.advance(dt)
        if self.link_was_ok and not link_ok:
            self.failsafe, self.failsafe_reason, self.failsafe_event_due = True, why, True
        self.ever_ok = self.ever_ok or link_ok
        self.link_was_ok = link_ok
        connected = self.link.connected()
        reconnected = connected and not self.was_connected
        self.was_connected = connected

        for topic, body in msgs:
            if topic == "fleet/map":
                self.apply_map(body)
        for topic, body in msgs:
            if topic == "fleet/cmd":
                self.apply_fleet(body)
        for topic, body in msgs:
            if topic.endswith("/cmd") and topic != "fleet/cmd":
                self.apply_directive(body)

        arena, faces = [], []
        raw = dets or []
        for i, d, b in raw:
            own = self.faces and i in self.faces.values()
            if own:
                continue
            (faces if i >= FACE_BASE else arena).append((i, d * self.scale, b))
        if raw:
            self.locate(arena)
            self.publish_sightings(raw)

        lin = ang = 0.0
        gate = link_ok and not self.failsafe and not self.fleet_stop
        if self.mode == "mapping":
            if self.turned >= 2 * math.pi:
                self.mode = "idle"
                self.event("map_done", detail="turned %.2f rad" % self.turned)
            elif not (self.held or self.awaiting):
                ang = MAP_TURN
        elif self.mode == "backoff":
            if self.backoff_left <= 0:
                self.end_backoff()
                self.awaiting = True
            else:
                lin = -BACKOFF_SPEED
        elif self.mode == "route" and gate:
            if self.yielding:
                self.reflex(now, faces)
            if not self.yielding and not self.blocked:
                lin, ang = self.navigate(now, arena, faces)
        if not gate:
            lin = ang = 0.0
        self.cmd_lin, self.cmd_ang = lin, ang

        if self.failsafe_event_due and connected:
            self.failsafe_event_due = False
            self.event("failsafe", detail=self.failsafe_reason)
        self.publish_status(now, reconnected)
        self.publish_pose(now)
        self.publish_heartbeat(now)
        return lin, ang

    # -- what it publishes
    def publish_sightings(self, raw):
        seen = []
        for i, d, b in raw:
            if self.faces and i in self.faces.values():
                continue
            if i >= FACE_BASE:
                robot, face = self.roster.get(i, (None, FACES[(i - FACE_BASE) % 4]))
                s = {"id": i, "kind": "face", "face": face, "distance_m": d * self.scale, "bearing_rad": b}
                if robot:
                    s["robot"] = robot
            else:
                # The sweep's sightings carry the camera's own distances.
                dist = d if self.mode == "mapping" else d * self.scale
                s = {"id": i, "kind": "arena", "distance_m": dist, "bearing_rad": b}
            seen.append(s)
        if not seen:
            return
        body = {"seen": seen}
        if self.mode == "mapping":
            body["heading_rad"] = self.turned
        elif self.fix:
            body["heading_rad"] = self.th
        self.link.publish("sightings", body)

    def publish_status(self, now, reconnected):
        state, reason = self.state()
        key = (state, reason, self.step, self.target(), self.dir_epoch, self.dir_seq)
        if key == self.status_key and not reconnected and now - self.last_status < STATUS_EVERY_S:
            return
        self.status_key, self.last_status = key, now
        body = {"state": state, "version": "python-0.1", "faces": self.faces,
                "epoch": self.dir_epoch, "cmd_seq": self.dir_seq, "step": self.step}
        if reason:
            body["reason"] = reason
        if self.target() is not None:
            body["target"] = self.target()
        self.link.publish("status", body)

    def where(self, body):
        if self.fix and self.markers:
            body.update(x_m=self.x, y_m=self.y, theta_rad=self.th)
        return body

    def publish_pose(self, now):
        moving = self.cmd_lin != 0 or self.cmd_ang != 0
        period = POSE_MOVING_S if moving else POSE_IDLE_S
        if moving and self.next_pose - now > period:
            self.next_pose = now
        if now < self.next_pose:
            return
        self.next_pose = max(self.next_pose + period, now - period)
        state, _ = self.state()
        body = {"state": state, "speed_mps": self.cmd_lin, "step": self.step}
        t = self.target()
        if t is not None:
            body["target"] = t
            if self.track and self.track[0] >= 0 and now - self.track[2] <= TRACK_LOST_S:
                body["distance_m"] = max(0.0, self.track[0] - (self.odo - self.track[3]))
            elif self.fix and t in self.markers:
                body["distance_m"] = math.hypot(self.markers[t][0] - self.x, self.markers[t][1] - self.y)
        self.link.publish("pose", self.where(body))

    def publish_heartbeat(self, now):
        if now < self.next_beat:
            return
        self.next_beat = max(self.next_beat + HEARTBEAT_S, now - HEARTBEAT_S)
        state, _ = self.state()
        body = {"state": state, "epoch": self.dir_epoch, "cmd_seq": self.dir_seq, "step": self.step}
        if self.route:
            body.update(route_epoch=self.route_epoch, route_seq=self.route_seq)
        self.link.publish("heartbeat", self.where(body))


# ---------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--id", required=True, help="robot id: the MQTT username and client id")
    ap.add_argument("--broker", required=True, help="tcp://HOST:PORT")
    ap.add_argument("--password-file", help="file holding the robot's MQTT password")
    ap.add_argument("--password", help="the password itself (prefer --password-file)")
    ap.add_argument("--world", help="HOST:PORT of `robot world`: a simulated body; without it, the Pi seams")
    ap.add_argument("--face-base", type=int, default=0, help="first of the four face marker ids (default: the world's)")
    ap.add_argument("--ignore-holds", action="store_true",
                    help="BROKEN ON PURPOSE: acknowledge hold and stop but keep driving (shows the kit can fail)")
    a = ap.parse_args(argv)
    password = a.password
    if a.password_file:
        with open(a.password_file) as f:
            password = f.readline().strip()
    if not password:
        ap.error("--password-file or --password is required")

    faces = None
    if a.face_base:
        faces = dict(zip(FACES, range(a.face_base, a.face_base + 4)))
    if a.world:
        body = WorldBody(a.world, a.id, faces)
        camera = motors = clock = body
        faces = body.faces
    else:
        camera, motors, clock = PiCamera(), PiMotors(), PiClock()
    if not faces:
        ap.error("--face-base is required without --world")

    link = Link(a.id, a.broker, password, faces)
    pilot = Pilot(link, faces, ignore_holds=a.ignore_holds)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("robot %s started, broker %s" % (a.id, a.broker), flush=True)

    # The control loop ticks on the body's clock: TICK_S of its time.
    period = TICK_S / clock.scale
    last = clock.now()
    next_tick = time.monotonic()
    try:
        while not stop.is_set():
            now = clock.now()
            dt = min(max(now - last, 0.0), 0.5)
            last = max(last, now)
            link.check_deaf()
            ok, why = link.state()      # before the inbox: see Link.state
            msgs = link.drain()
            try:
                dets = camera.detect()
            except OSError:
                dets = None             # a lost frame
            lin, ang = pilot.step_tick(now, dt, ok, why, msgs, dets)
            try:
                if lin == 0 and ang == 0:
                    motors.halt()
                else:
                    motors.drive(lin, ang)
            except OSError:
                pass                    # the world halts a body it does not hear from
            next_tick += period
            time.sleep(max(0.0, next_tick - time.monotonic()))
            if time.monotonic() - next_tick > 1:
                next_tick = time.monotonic()
    finally:
        try:
            motors.halt()
        except OSError:
            pass
        link.close()
        print("robot %s stopped, motors halted" % a.id, flush=True)


if __name__ == "__main__":
    sys.exit(main())
