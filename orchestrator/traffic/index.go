package traffic

import "math"

// fleetIndex is the fleet as one Plan call sees it: the robots on reserved
// legs, highest rank first (few: legs end within seconds), and the standing
// ones in a grid, so that checking a leg costs what is near it, not the
// whole fleet.
type fleetIndex struct {
	robots   []*Robot // every robot of the call; the keys of standing
	moving   []*Robot
	standing *grid
}

func (p *Reserver) index(robots []*Robot) *fleetIndex {
	f := &fleetIndex{robots: robots}
	byID := make(map[string]*Robot, len(p.ranked))
	pts := make([]Point, 0, len(robots))
	for _, o := range robots {
		pts = append(pts, o.Pos)
	}
	f.standing = newGrid(pts, p.cfg.RobotDiameterM+p.cfg.StaticMarginM)
	for i, o := range robots {
		if p.robots[o.ID].leg != nil {
			byID[o.ID] = o
		} else {
			f.standing.add(i, o.Pos)
		}
	}
	for _, id := range p.ranked {
		f.moving = append(f.moving, byID[id])
	}
	return f
}

func (f *fleetIndex) posOf(i int) Point { return f.robots[i].Pos }

// grid is a uniform grid of cells over the box of a set of points, each
// cell listing keys (indices into the caller's slice of robots). Points
// are stored in their cell; segments in every cell within some distance of
// them. Queries from outside the box are clipped to it.
type grid struct {
	x0, y0, size float64
	nx, ny       int
	cells        [][]int32
}

// newGrid covers the box of pts with cells of the given size (metres),
// growing the cells when the box is much wider than the points are many.
func newGrid(pts []Point, size float64) *grid {
	lo, hi := Point{math.Inf(1), math.Inf(1)}, Point{math.Inf(-1), math.Inf(-1)}
	for _, q := range pts {
		lo = Point{math.Min(lo.X, q.X), math.Min(lo.Y, q.Y)}
		hi = Point{math.Max(hi.X, q.X), math.Max(hi.Y, q.Y)}
	}
	if len(pts) == 0 {
		lo, hi = Point{}, Point{}
	}
	for (hi.X-lo.X)/size*(hi.Y-lo.Y)/size > float64(16*len(pts)+64) {
		size *= 2
	}
	g := &grid{x0: lo.X, y0: lo.Y, size: size}
	g.nx = int((hi.X-lo.X)/size) + 1
	g.ny = int((hi.Y-lo.Y)/size) + 1
	g.cells = make([][]int32, g.nx*g.ny)
	return g
}

func (g *grid) col(x float64) int { return int(math.Floor((x - g.x0) / g.size)) }
func (g *grid) row(y float64) int { return int(math.Floor((y - g.y0) / g.size)) }

// cell is the index of the cell of q, clipped to the grid.
func (g *grid) cell(q Point) int {
	cx := min(max(g.col(q.X), 0), g.nx-1)
	cy := min(max(g.row(q.Y), 0), g.ny-1)
	return cy*g.nx + cx
}

// add stores point key i at q.
func (g *grid) add(i int, q Point) {
	c := g.cell(q)
	g.cells[c] = append(g.cells[c], int32(i))
}

// remove takes point key i out of the cell of q (where it was added).
func (g *grid) remove(i int, q Point) { g.drop(g.cell(q), i) }

func (g *grid) drop(c, i int) {
	cs := g.cells[c]
	for k := range cs {
		if int(cs[k]) == i {
			cs[k] = cs[len(cs)-1]
			g.cells[c] = cs[:len(cs)-1]
			return
		}
	}
}

// near visits every cell that holds a point closer than r to the segment
// a-b (and some that do not), until visit returns false: column by column,
// the rows that the segment, grown by r, spans within that column.
func (g *grid) near(a, b Point, r float64, visit func(c int) bool) {
	c0 := max(g.col(math.Min(a.X, b.X)-r), 0)
	c1 := min(g.col(math.Max(a.X, b.X)+r), g.nx-1)
	dx := b.X - a.X
	for cx := c0; cx <= c1; cx++ {
		ylo, yhi := math.Min(a.Y, b.Y), math.Max(a.Y, b.Y)
		if math.Abs(dx) > 1e-12 {
			xl := g.x0 + float64(cx)*g.size - r
			t0, t1 := (xl-a.X)/dx, (xl+g.size+2*r-a.X)/dx
			if t0 > t1 {
				t0, t1 = t1, t0
			}
			t0, t1 = math.Max(t0, 0), math.Min(t1, 1)
			if t0 > t1 {
				continue
			}
			y0, y1 := a.Y+t0*(b.Y-a.Y), a.Y+t1*(b.Y-a.Y)
			ylo, yhi = math.Min(y0, y1), math.Max(y0, y1)
		}
		r0 := max(g.row(ylo-r), 0)
		r1 := min(g.row(yhi+r), g.ny-1)
		for cy := r0; cy <= r1; cy++ {
			if !visit(cy*g.nx + cx) {
				return
			}
		}
	}
}

// inWay returns the key of a point, other than skip, closer than r to the
// segment a-b (points stored at pos[key]), or -1 when there is none.
func (g *grid) inWay(a, b Point, r float64, skip int, pos func(int) Point) int {
	who := -1
	g.near(a, b, r, func(c int) bool {
		for _, i := range g.cells[c] {
			if int(i) != skip && pointSegDist(pos(int(i)), a, b) < r {
				who = int(i)
				return false
			}
		}
		return true
	})
	return who
}

// addSeg stores segment key i in every cell within r of a-b, so that the
// cell of any point closer than r to it lists it.
func (g *grid) addSeg(i int, a, b Point, r float64) {
	g.near(a, b, r, func(c int) bool {
		g.cells[c] = append(g.cells[c], int32(i))
		return true
	})
}

// removeSeg takes segment key i out (a, b and r as it was added with).
func (g *grid) removeSeg(i int, a, b Point, r float64) {
	g.near(a, b, r, func(c int) bool {
		g.drop(c, i)
		return true
	})
}
