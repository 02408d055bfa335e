package render

import (
	"math"
	"slices"
)

// frame holds what one frame needs of the scene, in forms the per-pixel
// loops use. A ray through ideal normalised coordinates (x, y) leaves the
// camera at P along w = w0 + x·wx + y·wy, with w0 = (cos θ, sin θ, 0),
// wx = (sin θ, -cos θ, 0) and wy = (0, 0, -1): one unit forward, x to the
// right, y down. Ray parameters t are therefore depths along the optical
// axis.
type frame struct {
	px, py, hc float64 // camera position, height
	c, s       float64 // cos θ, sin θ

	wall                    bool
	wallR2, wallH           float64
	wallB0, wallB1, wallCC  float64 // b = wallB0 + x·wallB1, c = |P|²-R²
	wallAlb, floorRad, room float32

	lx, ly, lz, amb, dir float64 // light: unit direction towards it, strengths
}

// robotState is a robot's cylinder seen from this frame's camera.
type robotState struct {
	dx, dy     float64 // P - Q
	b0, b1, cc float64 // b = b0 + x·b1, cc = |P-Q|² - r²
	r, top     float64
	alb        float64
	dist       float64 // from the camera to its axis
	// Rays with x outside [xmin, xmax] pass beside the cylinder: a cheap
	// test before the quadratic.
	xmin, xmax float64
}

// light is the irradiance of a surface with unit normal (nx, ny, nz).
func (f *frame) light(nx, ny, nz float64) float64 {
	return f.amb + f.dir*math.Max(0, nx*f.lx+ny*f.ly+nz*f.lz)
}

func (r *Renderer) prepare(s *Scene, p Pose) frame {
	f := frame{px: p.XM, py: p.YM, hc: r.cam.HeightM, c: math.Cos(p.ThetaRad), s: math.Sin(p.ThetaRad)}
	l := s.Light
	f.amb, f.dir = l.Ambient, l.Directional
	ce := math.Cos(l.ElevationRad)
	f.lx, f.ly, f.lz = ce*math.Cos(l.AzimuthRad), ce*math.Sin(l.AzimuthRad), math.Sin(l.ElevationRad)
	f.floorRad = float32(s.Arena.FloorAlbedo * f.light(0, 0, 1))
	f.room = float32(s.Arena.RoomRadiance)
	if R := s.Arena.RadiusM; R > 0 && f.px*f.px+f.py*f.py < R*R {
		f.wall = true
		f.wallR2, f.wallH = R*R, s.Arena.WallHeightM
		f.wallB0 = f.px*f.c + f.py*f.s
		f.wallB1 = f.px*f.s - f.py*f.c
		f.wallCC = f.px*f.px + f.py*f.py - R*R
		f.wallAlb = float32(s.Arena.WallAlbedo)
	}

	r.robots = r.robots[:0]
	robotIdx := make([]int, len(s.Robots)) // scene index -> r.robots index, -1 if not drawn
	for i, rb := range s.Robots {
		robotIdx[i] = -1
		rb = rb.withDefaults()
		dx, dy := f.px-rb.XM, f.py-rb.YM
		d2 := dx*dx + dy*dy
		if d2 <= rb.RadiusM*rb.RadiusM*(1+1e-9) {
			continue // the camera's own robot
		}
		// Wholly behind the camera, face markers included (their flat
		// plates reach a little beyond the disc): -(P-Q)·heading < -(r+side).
		if -(dx*f.c + dy*f.s) < -(rb.RadiusM + rb.FaceSideM) {
			continue
		}
		robotIdx[i] = len(r.robots)
		d := math.Sqrt(d2)
		// Azimuths (left positive) of its centre and half its width; a
		// ray's azimuth is atan(-x).
		beta := math.Atan2(dx*f.s-dy*f.c, -(dx*f.c + dy*f.s))
		alpha := math.Asin(rb.RadiusM / d)
		const edge = math.Pi/2 - 1e-9
		xmin, xmax := math.Inf(-1), math.Inf(1)
		if beta+alpha < edge {
			xmin = -math.Tan(beta+alpha) - 1e-9
		}
		if beta-alpha > -edge {
			xmax = -math.Tan(beta-alpha) + 1e-9
		}
		r.robots = append(r.robots, robotState{
			dx: dx, dy: dy,
			b0: dx*f.c + dy*f.s, b1: dx*f.s - dy*f.c, cc: d2 - rb.RadiusM*rb.RadiusM,
			r: rb.RadiusM, top: rb.HeightM, alb: rb.Albedo, dist: d,
			xmin: xmin, xmax: xmax,
		})
	}
	r.preparePatches(s, &f, robotIdx)
	return f
}

// hitRobot intersects ray (x, y) with robot b: the depth of the first
// point where it meets the cylinder (side or top), and that point's
// radiance.
func (f *frame) hitRobot(b *robotState, x, y float64) (t float64, rad float32, ok bool) {
	if x < b.xmin || x > b.xmax {
		return 0, 0, false
	}
	a := 1 + x*x
	bb := b.b0 + x*b.b1
	disc := bb*bb - a*b.cc
	if disc <= 0 {
		return 0, 0, false
	}
	sq := math.Sqrt(disc)
	t0 := (-bb - sq) / a
	if t0 <= 0 {
		return 0, 0, false
	}
	z := f.hc - y*t0
	switch {
	case z >= 0 && z <= b.top:
		wx, wy := f.c+x*f.s, f.s-x*f.c
		nx, ny := (b.dx+t0*wx)/b.r, (b.dy+t0*wy)/b.r
		return t0, float32(b.alb * f.light(nx, ny, 0)), true
	case z > b.top && y > 0:
		// Above the side where it enters: it may come down onto the top.
		if tt := (f.hc - b.top) / y; tt <= (-bb+sq)/a {
			return tt, float32(b.alb * f.light(0, 0, 1)), true
		}
	}
	return 0, 0, false
}

// wallLUT is how many samples of the wall (per frame, over the ideal x the
// image spans) the background interpolates: where a level ray meets the
// wall, and the wall's shade there, depend on x alone. Linear
// interpolation between 1024 samples is within micrometres of the exact
// intersection.
const wallLUT = 1024

// background draws the wall, the floor, the room and the robots' bodies:
// one ray per pixel centre.
func (r *Renderer) background(f *frame) {
	// Locals: the loop runs 300 000 times a frame.
	wall, hc, wallH := f.wall, f.hc, f.wallH
	floorRad, room := f.floorRad, f.room
	var x0, inv float64
	if wall {
		r.prepareWall(f)
		x0 = r.xlo
		inv = float64(wallLUT-1) / (r.xhi - r.xlo)
	}
	wt, wr := r.wallT, r.wallRad
	robots := r.robots
	xc, yc, out := r.xc, r.yc[:len(r.xc)], r.rad[:len(r.xc)]
	for k := range xc {
		x, y := float64(xc[k]), float64(yc[k])
		tBest, rad := math.Inf(1), room
		if wall {
			p := (x - x0) * inv
			i := int(p)
			i = min(max(i, 0), wallLUT-2)
			a := float32(p - float64(i))
			t := float64(wt[i] + a*(wt[i+1]-wt[i]))
			z := hc - y*t
			if z < 0 {
				tBest, rad = hc/y, floorRad
			} else if z <= wallH {
				tBest, rad = t, wr[i]+a*(wr[i+1]-wr[i])
			}
		} else if y > 0 {
			tBest, rad = hc/y, floorRad
		}
		for i := range robots {
			if b := &robots[i]; x >= b.xmin && x <= b.xmax {
				if t, rr, ok := f.hitRobot(b, x, y); ok && t < tBest {
					tBest, rad = t, rr
				}
			}
		}
		out[k] = rad
	}
}

// prepareWall samples the wall along x: the depth where the ray meets it
// and its radiance there.
func (r *Renderer) prepareWall(f *frame) {
	invR := 1 / math.Sqrt(f.wallR2)
	for i := range wallLUT {
		x := r.xlo + (r.xhi-r.xlo)*float64(i)/(wallLUT-1)
		a := 1 + x*x
		b := f.wallB0 + x*f.wallB1
		t := (-b + math.Sqrt(b*b-a*f.wallCC)) / a
		hx, hy := f.px+t*(f.c+x*f.s), f.py+t*(f.s-x*f.c)
		r.wallT[i] = float32(t)
		r.wallRad[i] = f.wallAlb * float32(f.light(-hx*invR, -hy*invR, 0))
	}
}

// patch is a flat grid of cells drawn over the background: a marker with
// its quiet zone, or a chessboard with its margin.
type patch struct {
	// For a ray (x, y): n·w = n[0] + x·n[1] + y·n[2], and so on for the
	// grid's right (rt) and down (dn) axes.
	n, rt, dn [3]float64
	// nPO = n·(O-P), rPO = right·(P-O), dPO = down·(P-O), O the grid's
	// top-left corner.
	nPO, rPO, dPO float64
	inv           float64 // 1 / cell side
	cols, rows    int
	cells         []uint8 // 0 ink, 1 paper
	lut           [2]float32
	covers        []coverRad
	occ           []int // robots (r.robots) that may stand in front of it
	outline       [4]vec3
	dist          float64
}

type coverRad struct {
	x0, y0, x1, y1 float64 // grid cells
	rad            float32
}

// preparePatches collects the markers and boards facing the camera, far to
// near.
func (r *Renderer) preparePatches(s *Scene, f *frame, robotIdx []int) {
	r.patches = r.patches[:0]
	P := vec3{f.px, f.py, f.hc}
	ink, paper := s.InkAlbedo, s.PaperAlbedo
	add := func(centre, right, down vec3, cell float64, cols, rows int, cells []uint8, owner int, covers []Cover) {
		n := cross(down, right) // the side it is seen from
		if dot(n, sub(P, centre)) <= 1e-9 {
			return
		}
		o := centre
		for k := range o {
			o[k] -= float64(cols)/2*cell*right[k] + float64(rows)/2*cell*down[k]
		}
		pq := patch{inv: 1 / cell, cols: cols, rows: rows, cells: cells}
		w0, wx, wy := vec3{f.c, f.s, 0}, vec3{f.s, -f.c, 0}, vec3{0, 0, -1}
		pq.n = [3]float64{dot(n, w0), dot(n, wx), dot(n, wy)}
		pq.rt = [3]float64{dot(right, w0), dot(right, wx), dot(right, wy)}
		pq.dn = [3]float64{dot(down, w0), dot(down, wx), dot(down, wy)}
		po := sub(P, o)
		pq.nPO, pq.rPO, pq.dPO = -dot(n, po), dot(right, po), dot(down, po)
		irr := f.light(n[0], n[1], n[2])
		pq.lut = [2]float32{float32(ink * irr), float32(paper * irr)}
		for k, c := range [4][2]float64{{0, 0}, {1, 0}, {1, 1}, {0, 1}} {
			for a := range 3 {
				pq.outline[k][a] = o[a] + c[0]*float64(cols)*cell*right[a] + c[1]*float64(rows)*cell*down[a]
			}
		}
		pq.dist = norm(sub(centre, P))
		far := 0.0
		for _, c := range pq.outline {
			far = math.Max(far, norm(sub(c, P)))
		}
		for i := range r.robots {
			if i != owner && r.robots[i].dist-r.robots[i].r < far {
				pq.occ = append(pq.occ, i)
			}
		}
		q := float64(s.QuietCells)
		for _, c := range covers {
			pq.covers = append(pq.covers, coverRad{c.X0 + q, c.Y0 + q, c.X1 + q, c.Y1 + q, float32(c.Albedo * irr)})
		}
		r.patches = append(r.patches, pq)
	}
	marker := func(id int, x, y, h, normal, side float64, owner int, covers []Cover) {
		cells, g := r.markerCells(s.Dictionary, id, s.QuietCells)
		code := g - 2*s.QuietCells
		nx, ny := math.Cos(normal), math.Sin(normal)
		// Whoever faces the marker looks along -n; their right, the
		// marker's right, is -n turned clockwise: (-ny, nx).
		add(vec3{x, y, h}, vec3{-ny, nx, 0}, vec3{0, 0, -1}, side/float64(code), g, g, cells, owner, covers)
	}
	for _, m := range s.Markers {
		m = m.withDefaults()
		marker(m.ID, m.XM, m.YM, m.HeightM, m.NormalRad, m.SideM, -1, m.Covers)
	}
	for i, rb := range s.Robots {
		if robotIdx[i] < 0 {
			continue
		}
		rb = rb.withDefaults()
		for k, id := range rb.Faces {
			if id < 0 {
				continue
			}
			a := rb.ThetaRad + float64(k)*math.Pi/2
			marker(id, rb.XM+rb.RadiusM*math.Cos(a), rb.YM+rb.RadiusM*math.Sin(a), rb.FaceHeightM, a, rb.FaceSideM, robotIdx[i], nil)
		}
	}
	for _, b := range s.Boards {
		cols, rows := b.Cols+3, b.Rows+3
		cells := make([]uint8, cols*rows)
		for row := range rows {
			for col := range cols {
				sq := row >= 1 && col >= 1 && row < rows-1 && col < cols-1
				if !sq || (row+col)%2 == 1 {
					cells[row*cols+col] = 1
				}
			}
		}
		add(b.Centre, b.Right, b.Down, b.SquareM, cols, rows, cells, -1, nil)
	}
	slices.SortFunc(r.patches, func(a, b patch) int {
		switch {
		case a.dist > b.dist:
			return -1
		case a.dist < b.dist:
			return 1
		}
		return 0
	})
}

// at intersects ray (x, y) with the patch's plane: depth t and grid
// coordinates (a, b), in cells from the top-left. ok is false when the ray
// does not meet the front of the plane.
func (pq *patch) at(x, y float64) (t, a, b float64, ok bool) {
	nw := pq.n[0] + x*pq.n[1] + y*pq.n[2]
	if nw >= 0 {
		return 0, 0, 0, false
	}
	t = pq.nPO / nw
	a = (pq.rPO + t*(pq.rt[0]+x*pq.rt[1]+y*pq.rt[2])) * pq.inv
	b = (pq.dPO + t*(pq.dn[0]+x*pq.dn[1]+y*pq.dn[2])) * pq.inv
	return t, a, b, t > 0
}

// Flags of a pixel corner in a patch's box.
const (
	cornerHit      = 1 << iota // the ray meets the plane's front
	cornerOccluded             // a robot stands in front of it there
)

// sample is the radiance along ray (x, y) where it meets patch pq, bg when
// it misses the grid.
func (r *Renderer) sample(f *frame, pq *patch, x, y float64, bg float32) float32 {
	t, a, b, ok := pq.at(x, y)
	if !ok || a < 0 || b < 0 || a >= float64(pq.cols) || b >= float64(pq.rows) {
		return bg
	}
	for _, i := range pq.occ {
		if tr, rad, hit := f.hitRobot(&r.robots[i], x, y); hit && tr < t {
			return rad
		}
	}
	for k := len(pq.covers) - 1; k >= 0; k-- {
		c := &pq.covers[k]
		if a >= c.x0 && a < c.x1 && b >= c.y0 && b < c.y1 {
			return c.rad
		}
	}
	return pq.lut[pq.cells[int(b)*pq.cols+int(a)]]
}

func (r *Renderer) drawPatches(f *frame) {
	for i := range r.patches {
		r.drawPatch(f, &r.patches[i])
	}
}

// drawPatch draws pq over its bounding box. A pixel whose four corners lie
// in one cell, unoccluded, takes that cell's radiance; one whose corners
// all miss the grid on one side is left alone; any other is supersampled.
func (r *Renderer) drawPatch(f *frame, pq *patch) {
	i0, j0, i1, j1, ok := r.box(f, pq)
	if !ok {
		return
	}
	W := r.w + 1
	bw := i1 - i0 + 2 // corners per box row
	cols, rows := float32(pq.cols), float32(pq.rows)
	for j := j0; j <= j1+1; j++ {
		for i := i0; i <= i1+1; i++ {
			x, y := float64(r.xk[j*W+i]), float64(r.yk[j*W+i])
			k := (j-j0)*bw + (i - i0)
			t, a, b, hit := pq.at(x, y)
			var fl uint8
			if hit {
				fl = cornerHit
				for _, oi := range pq.occ {
					if tr, _, h := f.hitRobot(&r.robots[oi], x, y); h && tr < t {
						fl |= cornerOccluded
						break
					}
				}
			}
			r.ka[k], r.kb[k], r.kf[k] = float32(a), float32(b), fl
		}
	}
	lat := r.lattice
	inv := 1 / float32(len(lat))
	for j := j0; j <= j1; j++ {
		for i := i0; i <= i1; i++ {
			k := (j-j0)*bw + (i - i0)
			c := [4]int{k, k + 1, k + bw, k + bw + 1}
			allHit := true
			anyOcc := false
			for _, q := range c {
				allHit = allHit && r.kf[q]&cornerHit != 0
				anyOcc = anyOcc || r.kf[q]&cornerOccluded != 0
			}
			if allHit {
				a0, a1 := min(r.ka[c[0]], r.ka[c[1]], r.ka[c[2]], r.ka[c[3]]), max(r.ka[c[0]], r.ka[c[1]], r.ka[c[2]], r.ka[c[3]])
				b0, b1 := min(r.kb[c[0]], r.kb[c[1]], r.kb[c[2]], r.kb[c[3]]), max(r.kb[c[0]], r.kb[c[1]], r.kb[c[2]], r.kb[c[3]])
				if a1 < 0 || b1 < 0 || a0 >= cols || b0 >= rows {
					continue // wholly off the grid
				}
				if !anyOcc && a0 >= 0 && b0 >= 0 && a1 < cols && b1 < rows &&
					int(a0) == int(a1) && int(b0) == int(b1) && !pq.coverTouches(a0, a1, b0, b1) {
					r.rad[j*r.w+i] = pq.lut[pq.cells[int(b0)*pq.cols+int(a0)]]
					continue
				}
			}
			// Supersample: rays at the lattice's points, interpolated
			// between the corners' ideal coordinates (the lens is smooth
			// over a pixel).
			ci := j*W + i
			x00, y00 := float64(r.xk[ci]), float64(r.yk[ci])
			x10, y10 := float64(r.xk[ci+1]), float64(r.yk[ci+1])
			x01, y01 := float64(r.xk[ci+W]), float64(r.yk[ci+W])
			x11, y11 := float64(r.xk[ci+W+1]), float64(r.yk[ci+W+1])
			bg := r.rad[j*r.w+i]
			var sum float32
			for _, p := range lat {
				u, v := p[0], p[1]
				xl, yl := x00+(x01-x00)*v, y00+(y01-y00)*v
				xr, yr := x10+(x11-x10)*v, y10+(y11-y10)*v
				sum += r.sample(f, pq, xl+(xr-xl)*u, yl+(yr-yl)*u, bg)
			}
			r.rad[j*r.w+i] = sum * inv
		}
	}
}

func (pq *patch) coverTouches(a0, a1, b0, b1 float32) bool {
	for _, c := range pq.covers {
		if float64(a1) >= c.x0 && float64(a0) < c.x1 && float64(b1) >= c.y0 && float64(b0) < c.y1 {
			return true
		}
	}
	return false
}

// box is the range of pixels pq may cover: its outline, clipped to what
// lies in front of the camera, sampled densely and projected through the
// lens, with a margin. Outline points off the image are clamped to the
// ideal coordinates the image spans, which puts them on the image's border.
// A patch wholly behind the camera, or wholly beyond one side of the view,
// covers nothing.
func (r *Renderer) box(f *frame, pq *patch) (i0, j0, i1, j1 int, ok bool) {
	const near = 1e-3 // m
	// The outline in camera coordinates: forward, left, up.
	var cam [4]vec3
	for k, c := range pq.outline {
		rx, ry := c[0]-f.px, c[1]-f.py
		cam[k] = vec3{rx*f.c + ry*f.s, -rx*f.s + ry*f.c, c[2] - f.hc}
	}
	// Clip the quadrilateral to forward >= near (Sutherland–Hodgman).
	var poly [8]vec3
	n := 0
	for k := range 4 {
		a, b := cam[k], cam[(k+1)%4]
		if a[0] >= near {
			poly[n] = a
			n++
		}
		if (a[0] >= near) != (b[0] >= near) {
			t := (near - a[0]) / (b[0] - a[0])
			poly[n] = vec3{near, a[1] + (b[1]-a[1])*t, a[2] + (b[2]-a[2])*t}
			n++
		}
	}
	if n < 3 {
		return 0, 0, 0, 0, false
	}
	const perEdge = 64
	var X [8 * perEdge][2]float64 // ideal coordinates of the outline samples
	m := 0
	for k := range n {
		a, b := poly[k], poly[(k+1)%n]
		for s := range perEdge {
			t := float64(s) / perEdge
			fwd := a[0] + (b[0]-a[0])*t
			X[m] = [2]float64{-(a[1] + (b[1]-a[1])*t) / fwd, -(a[2] + (b[2]-a[2])*t) / fwd}
			m++
		}
	}
	var left, right, above, below int
	for _, p := range X[:m] {
		if p[0] < r.xlo {
			left++
		}
		if p[0] > r.xhi {
			right++
		}
		if p[1] < r.ylo {
			above++
		}
		if p[1] > r.yhi {
			below++
		}
	}
	if left == m || right == m || above == m || below == m {
		return 0, 0, 0, 0, false
	}
	umin, vmin := math.Inf(1), math.Inf(1)
	umax, vmax := math.Inf(-1), math.Inf(-1)
	for _, p := range X[:m] {
		x := math.Max(r.xlo, math.Min(r.xhi, p[0]))
		y := math.Max(r.ylo, math.Min(r.yhi, p[1]))
		u, v := r.cam.Lens.Project(x, y)
		umin, umax = math.Min(umin, u), math.Max(umax, u)
		vmin, vmax = math.Min(vmin, v), math.Max(vmax, v)
	}
	i0 = max(0, int(math.Floor(umin))-2)
	j0 = max(0, int(math.Floor(vmin))-2)
	i1 = min(r.w-1, int(math.Ceil(umax))+2)
	j1 = min(r.h-1, int(math.Ceil(vmax))+2)
	return i0, j0, i1, j1, i0 <= i1 && j0 <= j1
}

// blur smears every row over the length the image moves while the camera
// turns by psi radians: a box average by prefix sums, its length per pixel
// from the lens (duDyaw). Near the image's sides the box is cut short.
func (r *Renderer) blur(psi float64) {
	if psi*float64(r.w) < 1e-3 {
		return
	}
	w := r.w
	fw := float32(w)
	out := r.blurRow
	sum := r.row
	h := float32(psi / 2)
	for j := 0; j < r.h; j++ {
		row := r.rad[j*w : (j+1)*w]
		du := r.duDyaw[j*w : (j+1)*w]
		var acc float64
		sum[0] = 0
		for i, v := range row {
			acc += float64(v)
			sum[i+1] = acc
		}
		for i := range row {
			half := du[i] * h
			// The row's integral over [lo, hi], pixel i spanning [i, i+1).
			c := float32(i) + 0.5
			lo, hi := c-half, c+half
			if lo < 0 {
				lo = 0
			}
			if hi > fw {
				hi = fw
			}
			kl, kh := int(lo), int(hi)
			il := sum[kl]
			if kl < w {
				il += float64(lo-float32(kl)) * float64(row[kl])
			}
			ih := sum[kh]
			if kh < w {
				ih += float64(hi-float32(kh)) * float64(row[kh])
			}
			out[i] = float32((ih - il) / float64(hi-lo))
		}
		copy(row, out)
	}
}

// expose turns radiance into grey levels: gain and vignetting, black
// level, noise, rounding and clipping.
func (r *Renderer) expose(pix []uint8) {
	g := float32(255 * r.fx.Gain)
	black := float32(r.fx.BlackLevel)
	noisy := r.fx.NoiseSigma > 0 || r.fx.ShotNoise > 0
	if noisy {
		// σ by quarter grey level of signal, so no square root per pixel.
		for i := range r.sigma {
			v := float64(i) / 4
			r.sigma[i] = float32(math.Sqrt(r.fx.NoiseSigma*r.fx.NoiseSigma + r.fx.ShotNoise*v))
		}
	}
	sigma := r.sigma
	rng := r.rng + r.frames*0xda942042e4dd58b5
	if rng == 0 {
		rng = 1 // xorshift's one fixed point
	}
	for k, rad := range r.rad {
		v := rad*g*r.vig[k] + black
		if noisy {
			rng ^= rng << 13
			rng ^= rng >> 7
			rng ^= rng << 17
			q := int(v * 4)
			q = min(max(q, 0), len(sigma)-1)
			v += sigma[q] * gauss[rng>>(64-gaussBits)]
		}
		switch {
		case v <= 0:
			pix[k] = 0
		case v >= 255:
			pix[k] = 255
		default:
			pix[k] = uint8(v + 0.5)
		}
	}
}
