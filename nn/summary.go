package nn

import (
	"fmt"
	"reflect"
	"strings"
)

// Summary returns the table Keras's model.summary() prints
// (keras/src/utils/summary_utils.py): each layer with its type, output
// shape and number of weights, then the total, trainable and
// non-trainable counts with their size in memory.
func (m *Sequential) Summary(name string) string {
	widths := []int{33, 24, 15}
	var b strings.Builder
	line := func(l, mid, r, fill string) {
		b.WriteString(l)
		for i, w := range widths {
			if i > 0 {
				b.WriteString(mid)
			}
			b.WriteString(strings.Repeat(fill, w))
		}
		b.WriteString(r + "\n")
	}
	row := func(sep string, cells ...string) {
		b.WriteString(sep)
		for i, c := range cells {
			if i > 0 {
				b.WriteString(sep)
			}
			w := widths[i] - 2
			if len([]rune(c)) > w {
				c = string([]rune(c)[:w-1]) + "…"
			}
			pad := strings.Repeat(" ", w-len([]rune(c)))
			if i == 2 {
				b.WriteString(" " + pad + c + " ")
			} else {
				b.WriteString(" " + c + pad + " ")
			}
		}
		b.WriteString(sep + "\n")
	}
	fmt.Fprintf(&b, "Model: %q\n", name)
	line("┏", "┳", "┓", "━")
	row("┃", "Layer (type)", "Output Shape", "Param #")
	line("┡", "╇", "┩", "━")
	var trainable, nonTrainable int
	for i, l := range m.Layers {
		n := 0
		for _, v := range l.Variables() {
			n += len(v.Value)
			if v.Trainable {
				trainable += len(v.Value)
			} else {
				nonTrainable += len(v.Value)
			}
		}
		row("│", fmt.Sprintf("%s (%s)", l.Name(), className(l)), fmt.Sprintf("(None, %d)", l.OutputWidth()), thousands(n))
		if i < len(m.Layers)-1 {
			line("├", "┼", "┤", "─")
		}
	}
	line("└", "┴", "┘", "─")
	total := trainable + nonTrainable
	fmt.Fprintf(&b, " Total params: %s (%s)\n", thousands(total), memorySize(4*total))
	fmt.Fprintf(&b, " Trainable params: %s (%s)\n", thousands(trainable), memorySize(4*trainable))
	fmt.Fprintf(&b, " Non-trainable params: %s (%s)\n", thousands(nonTrainable), memorySize(4*nonTrainable))
	return b.String()
}

// className is the Keras class of a layer.
func className(l Layer) string {
	if c, ok := ConfigOf(l); ok {
		return c.ClassName
	}
	if _, ok := l.(*ActivationLayer); ok {
		return "Activation"
	}
	return reflect.TypeOf(l).Elem().Name()
}

// thousands writes n with comma separators, as Keras's f"{n:,}".
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// memorySize is Keras's readable_memory_size: 1024-based units, two
// decimals.
func memorySize(bytes int) string {
	units := []string{"B", "KB", "MB", "GB", "TB", "PB"}
	size := float64(bytes)
	i := 0
	for size >= 1024 && i < len(units)-1 {
		size /= 1024
		i++
	}
	return fmt.Sprintf("%.2f %s", size, units[i])
}
