package train

import (
	"encoding/json"
	"testing"

	"github.com/cifarnet/cifarnet/optim"
)

// TestSetKerasOptimizer: a compile_config optimizer whose learning_rate is
// a serialized schedule becomes the run's optimizer and schedule.
func TestSetKerasOptimizer(t *testing.T) {
	c := Exercise()
	raw := `{"module": "keras.optimizers", "class_name": "SGD", "config": {"name": "SGD", "momentum": 0.9, "nesterov": true,
		"learning_rate": {"module": "keras.optimizers.schedules", "class_name": "CosineDecay",
		"config": {"initial_learning_rate": 0.0, "decay_steps": 100, "alpha": 0.0, "warmup_target": 0.1, "warmup_steps": 10, "name": "CosineDecay"},
		"registered_name": null}}, "registered_name": null}`
	if err := c.SetKerasOptimizer(json.RawMessage(raw)); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	o, err := c.NewOptimizer()
	if err != nil {
		t.Fatal(err)
	}
	sgd := o.(*optim.SGD)
	if sgd.Momentum != 0.9 || !sgd.Nesterov || !o.Scheduled() || o.LearningRate() != 0 {
		t.Fatalf("%+v", sgd)
	}
	s, _ := c.Schedule()
	if s.At(5) != 0.05 || s.At(10) != 0.1 {
		t.Fatalf("warmup: %v %v", s.At(5), s.At(10))
	}
	if err := c.SetKerasOptimizer(json.RawMessage(`{"class_name": "SGD", "config": {"rho": 0.9}}`)); err == nil {
		t.Fatal("an SGD with rho accepted")
	}
}
