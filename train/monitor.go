package train

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cifarnet/cifarnet/optim"
)

// monitor is what Keras 3's MonitorCallback (keras/src/callbacks/
// monitor_callback.py) gives EarlyStopping and ReduceLROnPlateau: a logged
// metric, a direction and a minimum change. In mode "auto" a loss is
// minimised and an accuracy maximised (the direction of Keras's metric of
// that name); any other metric needs mode "min" or "max", as in Keras.
type monitor struct {
	maximize bool
	minDelta float64
}

// MonitorNames lists the names a callback may monitor (Logs.Get).
var MonitorNames = []string{"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"}

// newMonitor checks a callback's monitor and mode (owner names it in errors).
func newMonitor(owner, metric, mode string, minDelta float64) (monitor, error) {
	known := false
	for _, m := range MonitorNames {
		known = known || m == metric
	}
	if !known {
		return monitor{}, &optim.ArgError{Owner: owner, Key: "monitor", Value: strconv.Quote(metric), Want: "want one of " + strings.Join(MonitorNames, ", ")}
	}
	if math.IsNaN(minDelta) || math.IsInf(minDelta, 0) {
		return monitor{}, &optim.ArgError{Owner: owner, Key: "min_delta", Value: fmt.Sprint(minDelta), Want: "want a finite number"}
	}
	m := monitor{minDelta: math.Abs(minDelta)}
	switch mode {
	case "min":
	case "max":
		m.maximize = true
	case "auto", "":
		switch strings.TrimPrefix(metric, "val_") {
		case "loss":
		case "accuracy":
			m.maximize = true
		default:
			return monitor{}, &ModeError{Owner: owner, Monitor: metric}
		}
	default:
		return monitor{}, &optim.ArgError{Owner: owner, Key: "mode", Value: strconv.Quote(mode), Want: "want auto, min or max"}
	}
	return m, nil
}

// ModeError is a callback's mode auto with a metric whose direction it
// cannot tell (learning_rate): Owner's mode must be min or max. A caller
// names its own setting of the mode (the command line, its flag).
type ModeError struct{ Owner, Monitor string }

func (e *ModeError) Error() string {
	return fmt.Sprintf("%s: cannot tell whether %s should be maximized or minimized: give mode min or max", e.Owner, e.Monitor)
}

// improves is Keras's _is_improvement: always against no reference yet,
// else current beats reference by more than min_delta (strictly).
func (m monitor) improves(current float64, reference *float64) bool {
	if reference == nil {
		return true
	}
	if m.maximize {
		return current-m.minDelta > *reference
	}
	return current+m.minDelta < *reference
}
