package train

// Confusion is a confusion matrix: Counts[true][predicted].
type Confusion struct {
	Counts [][]int
}

// NewConfusion counts labels against predictions for the given number of
// classes.
func NewConfusion(labels, predicted []int32, classes int) Confusion {
	c := Confusion{Counts: make([][]int, classes)}
	for i := range c.Counts {
		c.Counts[i] = make([]int, classes)
	}
	for i, y := range labels {
		c.Counts[y][predicted[i]]++
	}
	return c
}

// RowNormalized returns each row divided by its total (the recall matrix);
// empty rows stay zero.
func (c Confusion) RowNormalized() [][]float64 {
	out := make([][]float64, len(c.Counts))
	for i, row := range c.Counts {
		out[i] = make([]float64, len(row))
		total := 0
		for _, v := range row {
			total += v
		}
		for j, v := range row {
			if total > 0 {
				out[i][j] = float64(v) / float64(total)
			}
		}
	}
	return out
}

// ClassScores are one class's precision, recall, F1 and support.
type ClassScores struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"` // samples whose true class this is
}

// PerClass returns the scores of every class. A ratio with a zero
// denominator is 0, as scikit-learn's zero_division=0.
func (c Confusion) PerClass() []ClassScores {
	n := len(c.Counts)
	out := make([]ClassScores, n)
	for k := range n {
		tp := c.Counts[k][k]
		predicted, actual := 0, 0
		for i := range n {
			predicted += c.Counts[i][k]
			actual += c.Counts[k][i]
		}
		s := ClassScores{Support: actual}
		if predicted > 0 {
			s.Precision = float64(tp) / float64(predicted)
		}
		if actual > 0 {
			s.Recall = float64(tp) / float64(actual)
		}
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
		out[k] = s
	}
	return out
}
