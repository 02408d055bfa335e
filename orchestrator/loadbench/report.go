package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// results holds every run's measures: by load name, then broker.
type results struct {
	brokers []string
	loads   []load
	runs    map[string]map[string][]measures
}

func (r *results) add(load, broker string, m measures) {
	if r.runs == nil {
		r.runs = map[string]map[string][]measures{}
	}
	if r.runs[load] == nil {
		r.runs[load] = map[string][]measures{}
	}
	r.runs[load][broker] = append(r.runs[load][broker], m)
}

// values returns one metric over the runs of a load on a broker, sorted;
// runs that did not measure it (no delivery) are left out.
func (r *results) values(load, broker, metric string) []float64 {
	var v []float64
	for _, m := range r.runs[load][broker] {
		if x, ok := m[metric]; ok {
			v = append(v, x)
		}
	}
	slices.Sort(v)
	return v
}

func median(v []float64) float64 {
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// format prints a figure with the digits that matter for a benchmark.
func format(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100 || v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// print writes the table: per load and metric, min / median / max of each
// broker over its rounds, and the ratios of the medians, the first
// broker's over each other's ("-" when the other's is 0).
func (r *results) print(w io.Writer) {
	head := []string{"load", "metric"}
	for _, b := range r.brokers {
		head = append(head, b+" min", "median", "max")
	}
	for _, b := range r.brokers[1:] {
		head = append(head, r.brokers[0]+"/"+b)
	}
	rows := [][]string{head}
	for _, l := range r.loads {
		for _, metric := range l.metrics {
			row := []string{l.name, metric}
			var medians []float64
			for _, b := range r.brokers {
				v := r.values(l.name, b, metric)
				if len(v) == 0 {
					row = append(row, "-", "-", "-")
					medians = append(medians, math.NaN())
					continue
				}
				row = append(row, format(v[0]), format(median(v)), format(v[len(v)-1]))
				medians = append(medians, median(v))
			}
			for _, m := range medians[1:] {
				ratio := "-"
				if m != 0 && !math.IsNaN(medians[0]) && !math.IsNaN(m) {
					ratio = strconv.FormatFloat(medians[0]/m, 'f', 2, 64)
				}
				row = append(row, ratio)
			}
			rows = append(rows, row)
		}
	}
	width := make([]int, len(head))
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i < 2 { // names left, figures right
				b.WriteString(c + pad + "  ")
			} else {
				b.WriteString(pad + c + "  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
