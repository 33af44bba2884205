package optim

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseKeras(t *testing.T) {
	// As Keras 3.x's model.to_json() writes compile_config's optimizer.
	adam := `{"module": "keras.optimizers", "class_name": "Adam", "config": {"name": "adam", "learning_rate": 0.0005,
		"weight_decay": null, "clipnorm": null, "global_clipnorm": null, "clipvalue": 0.5, "use_ema": false, "ema_momentum": 0.99,
		"ema_overwrite_frequency": null, "loss_scale_factor": null, "gradient_accumulation_steps": null,
		"beta_1": 0.8, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": true}, "registered_name": null}`
	k, err := ParseKeras(json.RawMessage(adam))
	if err != nil {
		t.Fatal(err)
	}
	if k.Name != "adam" || k.LearningRate != 0.0005 || k.Schedule != nil || k.Args["beta_1"] != 0.8 || k.Args["amsgrad"] != true {
		t.Fatalf("%+v", k)
	}
	o, err := Build(k.Name, Constant(k.LearningRate), k.Args)
	if err != nil {
		t.Fatal(err)
	}
	if a := o.(*Adam); a.Beta1 != 0.8 || !a.AMSGrad || a.clipValue != 0.5 {
		t.Fatalf("built %+v", a)
	}

	sgd := `{"module": "keras.optimizers", "class_name": "SGD", "config": {"name": "SGD", "momentum": 0.9, "nesterov": true,
		"learning_rate": {"module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
		"config": {"initial_learning_rate": 0.1, "decay_steps": 1000, "decay_rate": 0.96, "staircase": false, "name": "ExponentialDecay"},
		"registered_name": null}}}`
	k, err = ParseKeras(json.RawMessage(sgd))
	if err != nil {
		t.Fatal(err)
	}
	s, err := k.Schedule.Schedule()
	if err != nil || k.Name != "sgd" || s != (ExponentialDecay{0.1, 1000, 0.96, false}) || k.Args["nesterov"] != true {
		t.Fatalf("%+v %v %v", k, s, err)
	}

	if k, err := ParseKeras(json.RawMessage(`"rmsprop"`)); err != nil || k.Name != "rmsprop" || k.LearningRate != 0.001 {
		t.Fatalf("a name: %+v %v", k, err)
	}
	for _, bad := range []struct{ js, want string }{
		{`"adagrd"`, `"adagrd": unknown`},
		{`{"class_name": "Ftrl", "config": {}}`, `"Ftrl": unknown`},
		{`{"class_name": "SGD", "config": {"beta_1": 0.9}}`, "sgd has no argument beta_1"},
		{`{"class_name": "Adam", "config": {"learning_rate": {"class_name": "Warmup", "config": {}}}}`, "unknown learning rate schedule"},
		{`{"class_name": "Adam", "config": {"learning_rate": "fast"}}`, "want a number or a serialized schedule"},
		// A field left out or null is said to be (it read as "= 0"), and a
		// number float64 cannot hold is out of range (it read as "want a
		// number or a serialized schedule").
		{`{"class_name": "Adam", "config": {"learning_rate": {"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1, "decay_rate": 0.5}}}}`,
			"ExponentialDecay: decay_steps is missing"},
		{`{"class_name": "Adam", "config": {"learning_rate": {"class_name": "ExponentialDecay", "config": {"initial_learning_rate": null, "decay_steps": 3, "decay_rate": 0.5}}}}`,
			"ExponentialDecay: initial_learning_rate is null"},
		{`{"class_name": "Adam", "config": {"learning_rate": {"class_name": "ExponentialDecay"}}}`, "ExponentialDecay: initial_learning_rate is missing"},
		{`{"class_name": "Adam", "config": {"learning_rate": {"class_name": "PiecewiseConstantDecay", "config": {"values": [0.1]}}}}`, "boundaries is missing"},
		{`{"class_name": "Adam", "config": {"learning_rate": {"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 1e400, "decay_rate": 0.5}}}}`,
			"learning_rate: ExponentialDecay config: number 1e400 is out of range"},
		{`{"class_name": "Adam", "config": {"learning_rate": 1e400}}`, "learning_rate: number 1e400 is out of range"},
		{`{"class_name": "Adam", "module": "my.optimizers", "config": {}}`, "not keras.optimizers"},
		{`{"class_name": "Adam", "config": {"gradient_accumulation_steps": 4}}`, "not supported"},
		{`[1, 2]`, "want a name or a Keras optimizer object"},
	} {
		if _, err := ParseKeras(json.RawMessage(bad.js)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want %q", bad.js, err, bad.want)
		}
	}
}
