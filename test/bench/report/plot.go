package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"github.com/podname/podname/test/bench"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart is a line chart of the report, drawn by gonum's plot package.
type Chart struct {
	Title, XLabel, YLabel string
	XLog                  bool // logarithmic x axis; every x must be positive
	// XFormat writes the x axis's tick labels; nil leaves gonum's.
	XFormat func(float64) string
	Series  []Series
	// Marks are vertical lines with a label, such as when the API server was stopped.
	Marks []Mark
}

// Series is one line of a chart; one with no points is left out, legend and all.
type Series struct {
	Name    string
	Points  plotter.XYs
	Dashed  bool
	Markers bool // draw a dot at each point
}

// Mark is a labelled vertical line at X.
type Mark struct {
	X     float64
	Label string
}

const chartW, chartH = 10 * vg.Inch, 4.4 * vg.Inch

// palette is a colour per series, distinguishable in print and for most colour vision.
var palette = []color.Color{rgb(0x1b6ac9), rgb(0xd9480f), rgb(0x2b8a3e), rgb(0x862e9c), rgb(0x5c5f66), rgb(0xe67700)}

var grey = rgb(0x777777)

func rgb(v uint32) color.Color {
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}

// SVG renders the chart.
func (c Chart) SVG() (string, error) {
	p := plot.New()
	legend := plot.NewLegend()
	legend.Left, legend.Top = true, true
	for _, s := range []*text.Style{&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle, &p.X.Tick.Label, &p.Y.Tick.Label, &legend.TextStyle} {
		s.Font.Variant = "Sans"
	}
	p.Title.TextStyle.Font.Size, p.Title.TextStyle.Font.Weight = 14, xfont.WeightBold
	legend.Padding = vg.Points(4)
	p.Title.Padding = vg.Points(8)
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = c.Title, c.XLabel, c.YLabel
	p.Add(plotter.NewGrid())

	drawn := 0
	for i, s := range c.Series {
		if len(s.Points) == 0 {
			continue
		}
		for _, pt := range s.Points {
			if c.XLog && pt.X <= 0 {
				return "", fmt.Errorf("chart %q: x %g on a log axis", c.Title, pt.X)
			}
		}
		line, err := plotter.NewLine(s.Points)
		if err != nil {
			return "", fmt.Errorf("chart %q, series %q: %w", c.Title, s.Name, err)
		}
		line.Color, line.Width = palette[i%len(palette)], vg.Points(1.5)
		if s.Dashed {
			line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(line)
		thumbs := []plot.Thumbnailer{line}
		if s.Markers {
			dots, err := plotter.NewScatter(s.Points)
			if err != nil {
				return "", fmt.Errorf("chart %q, series %q: %w", c.Title, s.Name, err)
			}
			dots.Color, dots.Shape, dots.Radius = line.Color, draw.CircleGlyph{}, vg.Points(2.5)
			p.Add(dots)
			thumbs = append(thumbs, dots)
		}
		legend.Add(s.Name, thumbs...)
		drawn++
	}
	if drawn == 0 {
		return "", fmt.Errorf("chart %q: no points", c.Title)
	}
	p.Add(marks(c.Marks))
	// The y axis starts at 0, so that heights compare.
	p.Y.Min = math.Min(p.Y.Min, 0)
	p.Y.Tick.Marker, p.Y.AutoRescale = steps(bench.PlainNumber), true
	if c.XLog {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, decades{}
		p.X.Min, p.X.Max = math.Pow10(decade(p.X.Min, math.Floor)), math.Pow10(decade(p.X.Max, math.Ceil))
	} else {
		label := bench.PlainNumber
		if c.XFormat != nil {
			label = c.XFormat
		}
		p.X.Tick.Marker, p.X.AutoRescale = steps(label), true
	}

	svg := vgsvg.New(chartW, chartH)
	dc := draw.New(svg)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	margin := vg.Points(10)
	dc = draw.Crop(dc, margin, -margin, margin, -margin)
	// The legend has a column of its own, right of the plot, where it hides no line; a tenth
	// wider than measured, for a viewer that draws it in a wider font.
	lw := legend.Rectangle(dc).Size().X*1.1 + 2*margin
	p.Draw(draw.Crop(dc, 0, -lw, 0, 0))
	legend.Draw(draw.Crop(dc, dc.Size().X-lw+margin, 0, 0, -p.Title.TextStyle.Height(c.Title)-p.Title.Padding))
	var b bytes.Buffer
	if _, err := svg.WriteTo(&b); err != nil {
		return "", fmt.Errorf("chart %q: %w", c.Title, err)
	}
	// vgsvg names the font alone. Arial and Helvetica have Liberation Sans's metrics: a viewer
	// without it lays the text out as it was measured here all the same.
	return strings.ReplaceAll(b.String(), "font-family:Liberation Sans;", "font-family:Liberation Sans,Arial,Helvetica,sans-serif;"), nil
}

// marks draws Chart.Marks across the data area.
type marks []Mark

func (ms marks) Plot(c draw.Canvas, p *plot.Plot) {
	x, _ := p.Transforms(&c)
	line := draw.LineStyle{Color: grey, Width: vg.Points(0.75), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}
	label := text.Style{Color: grey, Font: font.From(p.X.Tick.Label.Font, 8), Rotation: math.Pi / 2,
		XAlign: draw.XRight, YAlign: draw.YTop, Handler: p.TextHandler}
	for i, m := range ms {
		mx := x(m.X)
		c.StrokeLine2(line, mx, c.Min.Y, mx, c.Max.Y)
		// Labels step down so that marks close together stay readable.
		c.FillText(label, vg.Point{X: mx + vg.Points(2), Y: c.Max.Y - vg.Length(i%3)*c.Size().Y/3}, m.Label)
	}
}

// DataRange widens the x axis to every mark and leaves the y axis alone.
func (ms marks) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, m := range ms {
		xmin, xmax = math.Min(xmin, m.X), math.Max(xmax, m.X)
	}
	return xmin, xmax, ymin, ymax
}

// steps are the ticks of a linear axis, labelled by the function: about five steps of 1, 2 or 5
// times a power of ten, from the step at or below lo to the one at or above hi, so that
// AutoRescale widens the axis to them. (plot.DefaultTicks gives three, with as many decimals
// as the step has.)
type steps func(float64) string

func (label steps) Ticks(lo, hi float64) []plot.Tick {
	x := (hi - lo) / 5
	p := math.Pow10(int(math.Floor(math.Log10(x))))
	step := 10 * p
	for _, m := range []float64{5, 2, 1} {
		if m*p >= x {
			step = m * p
		}
	}
	var ticks []plot.Tick
	for i := math.Floor(lo / step); i <= math.Ceil(hi/step); i++ {
		ticks = append(ticks, plot.Tick{Value: i * step, Label: label(i * step)})
	}
	return ticks
}

// decades are the ticks of a log axis from one power of ten to another: each power labelled,
// unlabelled ones between. (plot.LogTicks leaves out the lowest power when it is below 1.)
type decades struct{}

func (decades) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := decade(lo, math.Floor); e <= decade(hi, math.Ceil); e++ {
		d := math.Pow10(e)
		ticks = append(ticks, plot.Tick{Value: d, Label: strconv.FormatFloat(d, 'g', -1, 64)})
		for i := 2; i < 10; i++ {
			ticks = append(ticks, plot.Tick{Value: float64(i) * d})
		}
	}
	return ticks
}

// decade is v's power of ten, rounded down or up by round unless log10(v) is within rounding
// error of a whole number (it gives 2.9999999999999996 for 1000).
func decade(v float64, round func(float64) float64) int {
	l := math.Log10(v)
	if r := math.Round(l); math.Abs(l-r) < 1e-9 {
		return int(r)
	}
	return int(round(l))
}
