package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"math"

	"github.com/cifarnet/cifarnet/train"
)

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"f4":  func(v float64) string { return fmtMetric(v, "%.4f") },
	"pct": func(v float64) string { return fmtMetric(100*v, "%.1f%%") },
	"s1":  func(v float64) string { return fmt.Sprintf("%.2f s", v) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cifarnet run: test accuracy {{f4 .M.TestAccuracy}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<main>
<h1>CIFAR-10 training run</h1>
<div class="cards">
  <div class="card main"><div class="v" id="test-accuracy">{{f4 .M.TestAccuracy}}</div><div class="k">test accuracy ({{len .M.TestLabels}} images)</div></div>
  <div class="card"><div class="v">{{f4 .M.TestLoss}}</div><div class="k">test loss</div></div>
  <div class="card"><div class="v">{{.M.BestEpoch}}</div><div class="k">best epoch (val_loss {{f4 .M.BestValLoss}})</div></div>
  <div class="card"><div class="v">{{.M.EpochsRun}}</div><div class="k">epochs run{{if .M.StoppedEarly}}, stopped early{{end}}</div></div>
  <div class="card"><div class="v">{{s1 .M.TrainSeconds}}</div><div class="k">training time</div></div>
</div>
{{range .Figs}}{{if eq .Name "loss" "accuracy" "per_class" "samples"}}
<h2>{{.Title}}</h2>
<figure><div class="fig"><img src="{{.URI}}" alt="{{.Title}}">{{.Overlay}}</div><figcaption>{{.Caption}} <span class="links">(<a href="{{.Name}}.svg">SVG</a>, <a href="{{.Name}}.png">PNG</a>)</span></figcaption></figure>
{{if eq .Name "per_class"}}
<div class="scroll"><table>
<tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>
{{range $.PerClass}}<tr><td>{{.Name}}</td><td>{{f4 .Precision}}</td><td>{{f4 .Recall}}</td><td>{{f4 .F1}}</td><td>{{.Support}}</td></tr>
{{end}}</table></div>
{{end}}{{end}}{{if eq .Name "accuracy"}}
<h2>Confusion matrix</h2>
<div class="two">{{range $.Figs}}{{if eq .Name "confusion_counts" "confusion_normalized"}}
<figure><div class="fig"><img src="{{.URI}}" alt="{{.Title}}">{{.Overlay}}</div><figcaption>{{.Caption}} <span class="links">(<a href="{{.Name}}.svg">SVG</a>)</span></figcaption></figure>{{end}}{{end}}
</div>{{end}}{{end}}
{{if .Warning}}<p><em>{{.Warning}}</em></p>{{end}}

<h2>History</h2>
<div class="scroll"><table>
<tr><th>epoch</th><th>loss</th><th>accuracy</th><th>val_loss</th><th>val_accuracy</th><th>time</th></tr>
{{range .H.Epochs}}<tr{{if eq .Epoch $.M.BestEpoch}} class="best"{{end}}><td>{{.Epoch}}</td><td>{{f4 .Loss}}</td><td>{{f4 .Accuracy}}</td><td>{{f4 .ValLoss}}</td><td>{{f4 .ValAccuracy}}</td><td>{{s1 .Seconds}}</td></tr>
{{end}}</table></div>
<p style="color:var(--muted);font-size:.9rem">The highlighted row is the epoch whose weights the model keeps.</p>

<h2>Configuration</h2>
<div class="scroll"><table class="kv">{{range .Config}}<tr><td>{{.K}}</td><td>{{.V}}</td></tr>{{end}}</table></div>

<h2>Environment</h2>
<div class="scroll"><table class="kv">{{range .Env}}<tr><td>{{.K}}</td><td>{{.V}}</td></tr>{{end}}</table></div>

<footer>Made by cifarnet. <span id="figure-status">{{len .Figs}} figures embedded</span>.</footer>
</main>
<script>
// Reports whether every figure decoded, for the reader and for the tests.
window.addEventListener("load", function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++; }
  document.getElementById("figure-status").textContent = ok + " of " + imgs.length + " figures loaded";
});
</script>
</body>
</html>
`))

type kv struct{ K, V string }

type figView struct {
	Figure
	URI     template.URL
	Overlay template.HTML
}

type classRow struct {
	Name string
	train.ClassScores
}

func fmtMetric(v float64, format string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf(format, v)
}

// HTML renders report.html for r with its figures embedded.
func HTML(r Run, figs []Figure) ([]byte, error) {
	var fv []figView
	for _, f := range figs {
		fv = append(fv, figView{f, template.URL(dataURI(f.png)), f.geom.overlay()})
	}
	conf := train.NewConfusion(r.Metrics.TestLabels, r.Metrics.TestPredictions, len(r.Classes))
	var rows []classRow
	for i, s := range conf.PerClass() {
		rows = append(rows, classRow{r.Classes[i], s})
	}
	env := r.Metrics.Env
	data := map[string]any{
		"CSS": template.CSS(pageCSS), "M": r.Metrics, "H": r.History, "Figs": fv, "PerClass": rows,
		"Config": configRows(r.Metrics.Config),
		"Env": []kv{{"Go", env.GoVersion}, {"OS / arch", env.OS + " / " + env.Arch}, {"CPU", env.CPU},
			{"threads", fmt.Sprint(env.Threads)}, {"Gemm kernel", env.Kernel}, {"seed", fmt.Sprint(r.Metrics.Seed)},
			{"data", env.Data}, {"SHA-256 of the samples used", env.DataSHA256}, {"started", env.Start}, {"run directory", r.Dir}},
	}
	if r.Test == nil {
		data["Warning"] = "The test images were not available, so the report has no image grid."
	}
	var b bytes.Buffer
	if err := page.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// configRows lists the configuration in its JSON spelling.
func configRows(c train.Config) []kv {
	b, _ := json.Marshal(c)
	var m map[string]any
	json.Unmarshal(b, &m)
	order := []string{"hidden", "activation", "initializer", "optimizer", "learning_rate", "epochs", "batch_size",
		"validation_split", "patience", "min_delta", "restore_best_weights", "shuffle", "train_samples", "test_samples", "seed", "eval_batch_size", "threads"}
	var out []kv
	for _, k := range order {
		if v, ok := m[k]; ok {
			js, _ := json.Marshal(v)
			out = append(out, kv{k, string(js)})
		}
	}
	return out
}
