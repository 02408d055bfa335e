package traffic

import "math"

// grid is a uniform spatial hash of the bodies' bounding boxes, rebuilt on
// every Plan call: a query returns the bodies whose boxes share a cell with
// the query box, so each robot is compared only with its neighbours.
type grid struct {
	x0, y0, cell float64
	nx, ny       int
	cells        [][]int32
}

// index rebuilds the grid over p.bodies. The cell grows when the fleet is
// sparse over a wide area, so the grid never has many more cells than bodies.
func (p *Planner) index() {
	bs := p.bodies
	g := &p.grid
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i := range bs {
		b := &bs[i].box
		x0, y0, x1, y1 = minf(x0, b[0]), minf(y0, b[1]), maxf(x1, b[2]), maxf(y1, b[3])
	}
	if len(bs) == 0 {
		x0, y0, x1, y1 = 0, 0, 1, 1
	}
	g.x0, g.y0, g.cell = x0, y0, p.cfg.CellM
	for {
		g.nx = int((x1-x0)/g.cell) + 1
		g.ny = int((y1-y0)/g.cell) + 1
		if g.nx*g.ny <= 4*len(bs)+64 {
			break
		}
		g.cell *= 2
	}
	n := g.nx * g.ny
	if cap(g.cells) < n {
		g.cells = make([][]int32, n)
	}
	g.cells = g.cells[:n]
	for i := range g.cells {
		g.cells[i] = g.cells[i][:0]
	}
	for i := range bs {
		cx0, cy0, cx1, cy1 := g.span(bs[i].box)
		for cy := cy0; cy <= cy1; cy++ {
			for cx := cx0; cx <= cx1; cx++ {
				k := cy*g.nx + cx
				g.cells[k] = append(g.cells[k], int32(i))
			}
		}
	}
	if len(p.stamp) < len(bs) {
		p.stamp = make([]uint32, len(bs))
		p.mark = 0
	}
}

func (g *grid) span(b [4]float64) (cx0, cy0, cx1, cy1 int) {
	c := func(v, o float64, n int) int {
		i := int((v - o) / g.cell)
		if i < 0 {
			return 0
		}
		if i >= n {
			return n - 1
		}
		return i
	}
	return c(b[0], g.x0, g.nx), c(b[1], g.y0, g.ny), c(b[2], g.x0, g.nx), c(b[3], g.y0, g.ny)
}

// query appends to dst, once each, the bodies whose boxes overlap box.
func (p *Planner) query(box [4]float64, dst []int32) []int32 {
	g := &p.grid
	p.mark++
	if p.mark == 0 { // wrapped: clear the stamps
		for i := range p.stamp {
			p.stamp[i] = 0
		}
		p.mark = 1
	}
	cx0, cy0, cx1, cy1 := g.span(box)
	for cy := cy0; cy <= cy1; cy++ {
		for cx := cx0; cx <= cx1; cx++ {
			for _, j := range g.cells[cy*g.nx+cx] {
				if p.stamp[j] == p.mark {
					continue
				}
				p.stamp[j] = p.mark
				b := &p.bodies[j].box
				if b[0] <= box[2] && box[0] <= b[2] && b[1] <= box[3] && box[1] <= b[3] {
					dst = append(dst, j)
				}
			}
		}
	}
	return dst
}
