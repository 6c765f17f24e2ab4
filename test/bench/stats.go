package bench

import (
	"errors"
	"math"
	"slices"
)

// Median is the middle of xs (the mean of the two middle values for an even count), NaN for
// none.
func Median(xs []float64) float64 {
	return Percentile(xs, 50)
}

// Percentile is the p-th percentile of xs (0 <= p <= 100), interpolated linearly between the
// closest ranks; NaN for no values.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return percentileSorted(s, p)
}

func percentileSorted(s []float64, p float64) float64 {
	if len(s) == 1 {
		return s[0]
	}
	rank := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(rank))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (rank-float64(lo))*(s[lo+1]-s[lo])
}

// Max is the largest of xs, NaN for none.
func Max(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return slices.Max(xs)
}

// Fit is a least-squares line y = Intercept + Slope*x.
type Fit struct {
	Slope, Intercept float64
	R2               float64 // coefficient of determination
}

// LeastSquares fits a line through the points (xs[i], ys[i]).
func LeastSquares(xs, ys []float64) (Fit, error) {
	if len(xs) != len(ys) {
		return Fit{}, errors.New("least squares: x and y differ in length")
	}
	n := float64(len(xs))
	if len(xs) < 2 {
		return Fit{}, errors.New("least squares: fewer than two points")
	}
	var sx, sy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
	}
	mx, my := sx/n, sy/n
	var sxx, sxy, syy float64
	for i := range xs {
		dx, dy := xs[i]-mx, ys[i]-my
		sxx += dx * dx
		sxy += dx * dy
		syy += dy * dy
	}
	if sxx == 0 {
		return Fit{}, errors.New("least squares: every x is the same")
	}
	f := Fit{Slope: sxy / sxx}
	f.Intercept = my - f.Slope*mx
	f.R2 = 1
	if syy > 0 {
		f.R2 = sxy * sxy / (sxx * syy)
	}
	return f, nil
}
