package bench

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// Chart is a line chart written as a standalone SVG, no library needed.
type Chart struct {
	Title, XLabel, YLabel string
	XLog                  bool // logarithmic x axis; every x must be positive
	// XFormat writes the x axis's tick labels; nil means a plain number, as on the y axis.
	XFormat func(float64) string
	Series  []Series
	// Marks are vertical lines with a label, such as when the API server was stopped.
	Marks []Mark
}

// Series is one line of a chart.
type Series struct {
	Name    string
	Points  [][2]float64
	Dashed  bool
	Markers bool // draw a dot at each point
}

// Mark is a labelled vertical line at X.
type Mark struct {
	X     float64
	Label string
}

// The layout of every chart, in pixels.
const (
	chartW, chartH = 1000, 440
	padLeft        = 80
	padRight       = 290 // the legend's column
	padTop         = 40
	padBottom      = 56
)

// palette is a colour per series, distinguishable in print and for most colour vision.
var palette = []string{"#1b6ac9", "#d9480f", "#2b8a3e", "#862e9c", "#5c5f66", "#e67700"}

// SVG renders the chart.
func (c Chart) SVG() (string, error) {
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), 0.0, math.Inf(-1)
	for _, s := range c.Series {
		for _, p := range s.Points {
			if c.XLog && p[0] <= 0 {
				return "", fmt.Errorf("chart %q: x %g on a log axis", c.Title, p[0])
			}
			xmin, xmax = math.Min(xmin, p[0]), math.Max(xmax, p[0])
			ymin, ymax = math.Min(ymin, p[1]), math.Max(ymax, p[1])
		}
	}
	for _, m := range c.Marks {
		xmin, xmax = math.Min(xmin, m.X), math.Max(xmax, m.X)
	}
	if math.IsInf(xmin, 0) || math.IsInf(ymax, 0) {
		return "", fmt.Errorf("chart %q: no points", c.Title)
	}
	xf := c.XFormat
	if xf == nil {
		xf = plainNumber
	}
	var xticks []float64
	if c.XLog {
		xmin, xmax = math.Pow(10, math.Floor(math.Log10(xmin))), math.Pow(10, math.Ceil(math.Log10(xmax)))
		if xmin == xmax {
			xmax *= 10
		}
		for t := xmin; t <= xmax*1.0001; t *= 10 {
			xticks = append(xticks, t)
		}
	} else {
		xmin, xmax, xticks = niceAxis(xmin, xmax)
	}
	ymin, ymax, yticks := niceAxis(ymin, ymax)

	plotW, plotH := float64(chartW-padLeft-padRight), float64(chartH-padTop-padBottom)
	px := func(x float64) float64 {
		if c.XLog {
			return padLeft + (math.Log10(x)-math.Log10(xmin))/(math.Log10(xmax)-math.Log10(xmin))*plotW
		}
		return padLeft + (x-xmin)/(xmax-xmin)*plotW
	}
	py := func(y float64) float64 { return padTop + plotH - (y-ymin)/(ymax-ymin)*plotH }

	var w strings.Builder
	fmt.Fprintf(&w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", chartW, chartH, chartW, chartH)
	fmt.Fprintf(&w, `<rect width="%d" height="%d" fill="white"/>`+"\n", chartW, chartH)
	fmt.Fprintf(&w, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", padLeft, esc(c.Title))
	for _, t := range yticks {
		y := py(t)
		fmt.Fprintf(&w, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e3e3e3"/>`+"\n", padLeft, chartW-padRight, y, y)
		fmt.Fprintf(&w, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", padLeft-6, y+4, esc(plainNumber(t)))
	}
	for _, t := range xticks {
		x := px(t)
		fmt.Fprintf(&w, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#e3e3e3"/>`+"\n", x, x, padTop, chartH-padBottom)
		fmt.Fprintf(&w, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x, chartH-padBottom+18, esc(xf(t)))
	}
	fmt.Fprintf(&w, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#444"/>`+"\n", padLeft, padTop, plotW, plotH)
	fmt.Fprintf(&w, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", padLeft+plotW/2, chartH-12, esc(c.XLabel))
	fmt.Fprintf(&w, `<text transform="translate(18 %.1f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", padTop+plotH/2, esc(c.YLabel))
	for i, m := range c.Marks {
		x := px(m.X)
		fmt.Fprintf(&w, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#999" stroke-dasharray="3 3"/>`+"\n", x, x, padTop, chartH-padBottom)
		// Labels step down so that marks close together stay readable.
		ly := padTop + 4 + 120*(i%3)
		fmt.Fprintf(&w, `<text x="%.1f" y="%d" font-size="10" fill="#666" transform="rotate(-90 %.1f %d)" text-anchor="end">%s</text>`+"\n", x+10, ly, x+10, ly, esc(m.Label))
	}
	for i, s := range c.Series {
		color := palette[i%len(palette)]
		var pts []string
		for _, p := range s.Points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(p[0]), py(p[1])))
		}
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(&w, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", color, dash, strings.Join(pts, " "))
		if s.Markers {
			for _, p := range s.Points {
				fmt.Fprintf(&w, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`+"\n", px(p[0]), py(p[1]), color)
			}
		}
		lx, ly := chartW-padRight+16, padTop+12+20*i
		fmt.Fprintf(&w, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", lx, lx+28, ly-4, ly-4, color, dash)
		fmt.Fprintf(&w, `<text x="%d" y="%d">%s</text>`+"\n", lx+34, ly, esc(s.Name))
	}
	w.WriteString("</svg>\n")
	return w.String(), nil
}

// niceAxis widens [lo, hi] to round tick values, about five of them.
func niceAxis(lo, hi float64) (float64, float64, []float64) {
	if hi <= lo {
		hi = lo + 1
	}
	step := niceStep((hi - lo) / 5)
	lo, hi = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	var ticks []float64
	for t := lo; t <= hi+step/2; t += step {
		ticks = append(ticks, t)
	}
	return lo, hi, ticks
}

// niceStep is 1, 2 or 5 times a power of ten, at least x.
func niceStep(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

func plainNumber(v float64) string {
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// CountLabel writes 1000 as 1k and 1e6 as 1M.
func CountLabel(v float64) string {
	switch {
	case v >= 1e6:
		return plainNumber(v/1e6) + "M"
	case v >= 1e3:
		return plainNumber(v/1e3) + "k"
	}
	return plainNumber(v)
}

func esc(s string) string { return html.EscapeString(s) }
