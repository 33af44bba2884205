package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/cifarnet/cifarnet/internal/finitejson"
	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/train"
)

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"f4":  func(v float64) string { return fmtMetric(v, "%.4f") },
	"pct": func(v float64) string { return fmtMetric(100*v, "%.1f%%") },
	"s1":  func(v float64) string { return fmt.Sprintf("%.2f s", v) },
	"lr":  func(v float64) string { return fmtMetric(v, "%.4g") },
	// count says n things, in the singular for one.
	"count": Count,
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
<h1>{{.Dataset}} training run</h1>
{{with .NotOfficial}}<p id="data-not-official"><em>{{.}}</em></p>{{end}}
<div class="cards">
  <div class="card main"><div class="v" id="test-accuracy">{{f4 .M.TestAccuracy}}</div><div class="k">test accuracy ({{count (len .M.TestLabels) "image"}})</div></div>
  <div class="card"><div class="v">{{f4 .M.TestLoss}}</div><div class="k">test loss</div></div>
  <div class="card"><div class="v">{{.M.BestEpoch}}</div><div class="k">epoch kept{{if eq .M.BestEpoch .BestValEpoch}} (lowest val_loss {{f4 .M.BestValLoss}}){{else if .BestValEpoch}} (lowest val_loss was at epoch {{.BestValEpoch}}){{end}}</div></div>
  <div class="card"><div class="v">{{.M.EpochsRun}}</div><div class="k">{{if eq .M.EpochsRun 1}}epoch{{else}}epochs{{end}} run{{if .M.StoppedEarly}}, stopped early{{end}}</div></div>
  <div class="card"><div class="v">{{s1 .M.TrainSeconds}}</div><div class="k">training time</div></div>
</div>

<h2>Reading of this run</h2>
<div class="explain reading" id="reading">{{range .Reading}}<p data-topic="{{.Topic}}">{{.Text}}</p>{{end}}</div>

{{with index .Fig "loss"}}<h2>Loss</h2>{{template "figure" .}}{{end}}
<div class="explain">
<p><b>Training loss</b> is the model's error (cross-entropy) on the training images, averaged over each epoch's batches while it learns from them. It should fall as training goes on: it shows how well the model fits the images it learns from.</p>
<p><b>Validation loss</b> is the same error on the validation images, the {{pct .M.Config.ValidationSplit}} of the training images held out and never learned from. It shows how well the model does on images it has not seen. It should fall at first too; if it starts to rise while training loss keeps falling, the model is <b>overfitting</b>: it learns details of its training images that do not carry over to new ones. Validation loss is what early stopping watches.</p>
</div>

{{with index .Fig "accuracy"}}<h2>Accuracy</h2>{{template "figure" .}}{{end}}
<div class="explain">
<p><b>Accuracy</b> is the share of images whose most probable class is the right one (guessing at random gives {{pct .Chance}}). Loss also counts how sure the model was, so the two curves do not always move together: validation loss can rise while validation accuracy stays flat, because the model grows more confident in its mistakes.</p>
<p><b>The gap between the curves</b> is how much better the model does on images it learned from than on new ones. Some gap is normal; a gap that keeps widening is overfitting.</p>
</div>

{{with index .Fig "learning_rate"}}<h2>Learning rate</h2>{{template "figure" .}}
<div class="explain" id="learning-rate">
<p><b>The learning rate</b> is the size of the optimizer's steps. Here the schedule or ReduceLROnPlateau changed it as training went on; the figure shows it per epoch as Keras logs it: the rate at the end of the epoch, the one the next step uses.</p>
</div>

{{end}}<h2>Early stopping</h2>
<div class="explain" id="early-stopping">
{{if lt .M.Config.Patience 0}}<p>Early stopping was off: training ran its {{count .M.EpochsRun "epoch"}} and the model keeps the last one.</p>
{{else}}<p><b>Early stopping</b> watches validation loss after every epoch. When it has not improved for {{count .M.Config.Patience "epoch"}} in a row (the patience), training stops{{if .M.Config.RestoreBest}} and the weights of the best epoch are put back{{end}}.</p>
{{if .M.StoppedEarly}}{{if .M.Config.RestoreBest}}<p>Here it stopped after epoch {{.M.EpochsRun}} and restored epoch {{.M.BestEpoch}}. The restored epoch is not the last because early stopping can only know an epoch was the best after seeing {{if eq .M.Config.Patience 1}}a worse one{{else}}{{.M.Config.Patience}} worse ones{{end}}; those later epochs fit the training images better but new images worse, so the model keeps epoch {{.M.BestEpoch}}. The test accuracy above is that epoch's.</p>
{{else}}<p>Here it stopped after epoch {{.M.EpochsRun}}, but restoring was off, so the model keeps the last epoch, not the best one (epoch {{.BestValEpoch}}).</p>{{end}}
{{else if .M.Terminated}}<p>Here training did not end normally: {{.M.Terminated}}.</p>
{{else}}<p>Here it never stopped training: validation loss never went {{count .M.Config.Patience "epoch"}} without improving, so {{if eq .M.EpochsRun 1}}its only epoch ran{{else}}all {{.M.EpochsRun}} epochs ran{{end}}{{if .M.Config.RestoreBest}} and the model keeps epoch {{.M.BestEpoch}}, the best one{{end}}.</p>{{end}}{{end}}
</div>

<h2>Confusion matrix</h2>
<div class="two">{{with index .Fig "confusion_counts"}}{{template "figure" .}}{{end}}{{with index .Fig "confusion_normalized"}}{{template "figure" .}}{{end}}</div>
<div class="explain">
<p>Each row is a true class and each column the class the model predicted; a cell counts the test images of the row's class that the model called the column's class. The <b>diagonal</b> holds the right answers. Dark cells off the diagonal show which classes the model mixes up, often classes that look alike{{with .Confused}} (in this run most often {{.}}){{end}}. The right-hand matrix divides each row by its total, so every row adds up to 1 and its diagonal cell is that class's recall.</p>
</div>

{{with index .Fig "per_class"}}<h2>Per-class precision, recall and F1</h2>{{template "figure" .}}{{end}}
<div class="explain">
<p><b>Precision</b> of a class: of the images the model called that class, the share that really are. <b>Recall</b>: of the images of that class, the share the model found. <b>F1</b> is their harmonic mean, high only when both are. A class with high recall but low precision is one the model names too often; low recall with high precision, one it rarely dares to name. Support is the number of test images of the class.</p>
</div>
<div class="scroll"><table>
<tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>
{{range .PerClass}}<tr><td>{{.Name}}</td><td>{{f4 .Precision}}</td><td>{{f4 .Recall}}</td><td>{{f4 .F1}}</td><td>{{.Support}}</td></tr>
{{end}}</table></div>

<h2>Calibration</h2>
{{with index .Fig "calibration"}}{{template "figure" .}}{{end}}
<div class="explain" id="calibration">
<p>For every image the model gives each class a probability; its <b>confidence</b> is the probability of the class it predicts. The test images are put in {{.Bins}} equal-width bins by confidence (0 to 0.1, 0.1 to 0.2, ...). A <b>well-calibrated</b> model is right on about 70% of the images it is 70% sure about, so its bars reach the diagonal; bars below the diagonal mean it is surer than it should be (overconfident), above it less sure. The <b>expected calibration error</b> (ECE) averages each bin's distance between accuracy and mean confidence, weighted by its share of the images: 0 is perfect.</p>
{{if .Calibration}}<p id="ece">{{.Calibration}}</p>{{else}}<p><em>{{.NoCalibration}}</em></p>{{end}}
</div>

{{with index .Fig "samples"}}<h2>Test images and predictions</h2>{{template "figure" .}}{{end}}
{{if .Warning}}<p><em>{{.Warning}}</em></p>{{end}}

<h2>History</h2>
<div class="scroll"><table>
<tr><th>epoch</th><th>loss</th><th>accuracy</th><th>val_loss</th><th>val_accuracy</th>{{if .LRColumn}}<th>learning_rate</th>{{end}}<th>time</th></tr>
{{range .H.Epochs}}<tr{{if eq .Epoch $.M.BestEpoch}} class="best"{{end}}><td>{{.Epoch}}</td><td>{{f4 .Loss}}</td><td>{{f4 .Accuracy}}</td><td>{{f4 .ValLoss}}</td><td>{{f4 .ValAccuracy}}</td>{{if $.LRColumn}}<td>{{if .HasLearningRate}}{{lr .LearningRate}}{{else}}–{{end}}</td>{{end}}<td>{{s1 .Seconds}}</td></tr>
{{end}}</table></div>
<p style="color:var(--muted);font-size:.9rem">The highlighted row is the epoch whose weights the model keeps.{{if .LRColumn}} learning_rate is the rate at the end of the epoch, as Keras logs it (the rate the next step uses).{{end}}</p>

<h2>Configuration</h2>
<div class="scroll"><table class="kv">{{range .Config}}<tr><td>{{.K}}</td><td>{{.V}}</td></tr>{{end}}</table></div>

<h2>Environment</h2>
<div class="scroll"><table class="kv">{{range .Env}}<tr><td>{{.K}}</td><td>{{.V}}</td></tr>{{end}}</table></div>

<footer>Made by cifarnet. <span id="figure-status">{{len .Figs}} figures embedded</span>.<span id="layout-status" hidden></span></footer>
</main>
<script>
// Reports whether every figure decoded, for the reader and for the tests.
window.addEventListener("load", function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++; }
  document.getElementById("figure-status").textContent = ok + " of " + imgs.length + " figures loaded";
  var d = document.documentElement;
  document.getElementById("layout-status").textContent = "content " + d.scrollWidth + " px wide in a " + window.innerWidth + " px window";
});
</script>
</body>
</html>
{{define "figure"}}<figure id="fig-{{.Name}}"><div class="fig"><img src="{{.URI}}" alt="{{.Title}}">{{.Overlay}}</div><figcaption>{{.Caption}} <span class="links">(<a href="{{.Name}}.svg">SVG</a>, <a href="{{.Name}}.png">PNG</a>)</span></figcaption></figure>{{end}}`))

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
func HTML(r Input, figs []Figure) ([]byte, error) {
	var fv []figView
	byName := map[string]*figView{} // pointers: a missing figure is nil, which "with" skips
	for i, f := range figs {
		v := figView{f, template.URL(figureURI(i)), f.geom.overlay()}
		fv = append(fv, v)
		byName[f.Name] = &v
	}
	calibration := ""
	// Why there is no calibration figure, when there is none.
	noCalibration := "This run did not record the confidence of its test predictions (runs made before cifarnet stored it), so there is no calibration figure."
	if _, diverged := Diverged(*r.Metrics); diverged {
		noCalibration = "The model's outputs are not finite (its training diverged), so its predictions have no confidence to calibrate and there is no calibration figure."
	}
	if c, ok := calibrationOf(r.Metrics.TestLabels, r.Metrics.TestPredictions, r.Metrics.TestConfidence); ok {
		calibration = c.Sentence()
	}
	bestVal := 0
	if vl := r.History.Series("val_loss"); len(vl) > 0 {
		bestVal = argmin(vl) + 1
	}
	conf := train.NewConfusion(r.Metrics.TestLabels, r.Metrics.TestPredictions, len(r.Classes))
	var rows []classRow
	for i, s := range conf.PerClass() {
		rows = append(rows, classRow{r.Classes[i], s})
	}
	env := r.Metrics.Env
	data := map[string]any{
		"CSS": template.CSS(pageCSS), "M": r.Metrics, "H": r.History, "Figs": fv, "Fig": byName, "PerClass": rows,
		"Reading": ReadingOf(r), "Calibration": calibration, "NoCalibration": noCalibration, "Bins": CalibrationBins, "BestValEpoch": bestVal,
		"Chance": 1 / float64(max(1, len(r.Classes))), "Dataset": datasetTitle(r.Metrics.Config),
		"Config": configRows(r.Metrics.Config), "LRColumn": learningRateChanges(r.History), "Confused": confusedExamples(conf, r.Classes),
		"Env": []kv{{"Go", env.GoVersion}, {"OS / arch", env.OS + " / " + env.Arch}, {"CPU", env.CPU},
			{"threads", threadsText(env)}, {"Gemm kernel", env.Kernel}, {"seed", fmt.Sprint(r.Metrics.Seed)},
			{"data", env.Data}, {"SHA-256 of the samples used", env.DataSHA256}, {"started", env.Start}, {"run directory", r.Dir}},
	}
	if len(env.DataNotOfficial) > 0 {
		data["NotOfficial"] = fmt.Sprintf("Not the official data: %s (SHA-256 not the published one). These results are not comparable with published %s results.",
			strings.Join(env.DataNotOfficial, ", "), datasetTitle(r.Metrics.Config))
		data["Env"] = append(data["Env"].([]kv), kv{"data files not official", strings.Join(env.DataNotOfficial, ", ")})
	}
	if r.Test == nil {
		data["Warning"] = "The test images were not available, so the report has no image grid."
	}
	var b bytes.Buffer
	if err := page.Execute(&b, data); err != nil {
		return nil, err
	}
	return embedFigures(b.Bytes(), figs), nil
}

// figureURI is the placeholder of figure i's data URI that the page is
// executed with: html/template would run the megabytes of base64 through
// its URL normaliser and attribute escaper byte by byte, for every run's
// report, and embedFigures puts in what they would write.
func figureURI(i int) string { return fmt.Sprintf("cifarnet-figure-%s-%d.png", placeholderNonce, i) }

// placeholderNonce is in every placeholder (figureURI, svgMarker), drawn
// afresh by each process, so that no text of the user's on a page (a
// directory's name, a label) can be taken for one and replaced.
var placeholderNonce = strconv.FormatUint(rand.Uint64(), 36)

// embedFigures replaces the placeholders of figs' data URIs in page by the
// URIs as html/template writes them in a src attribute: the normaliser
// leaves "data:image/png;base64," and base64 as they are, and the
// attribute escaper writes '+' as "&#43;" and nothing else of them
// differently (TestEmbedFiguresAsTemplate).
func embedFigures(page []byte, figs []Figure) []byte {
	pairs := make([]string, 0, 2*len(figs))
	size := len(page)
	for i, f := range figs {
		uri := strings.ReplaceAll(dataURI(f.png), "+", "&#43;")
		pairs = append(pairs, figureURI(i), uri)
		size += len(uri)
	}
	var b bytes.Buffer
	b.Grow(size)
	strings.NewReplacer(pairs...).WriteString(&b, string(page))
	return b.Bytes()
}

// datasetTitle names the run's data set for people ("CIFAR-10").
func datasetTitle(c train.Config) string {
	info, err := c.Info()
	if err != nil {
		return c.Dataset
	}
	return info.Title()
}

// configRows lists the configuration in its JSON spelling: the network
// (the exercise's hidden, activation and initializer, or the model's
// layers when it was described by --model or --layers, which the
// exercise's fields do not describe), the optimizer with its arguments
// and schedule, and the rest.
func configRows(c train.Config) []kv {
	b, _ := finitejson.Marshal(c)
	var m map[string]any
	json.Unmarshal(b, &m)
	order := []string{"dataset", "label_mode", "hidden", "activation", "initializer", "model", "optimizer", "learning_rate", "optimizer_args",
		"lr_schedule", "reduce_lr_on_plateau", "epochs", "batch_size", "validation_split", "patience", "monitor", "mode", "min_delta",
		"baseline", "start_from_epoch", "restore_best_weights", "shuffle", "train_samples", "test_samples", "seed", "eval_batch_size", "threads"}
	var out []kv
	for _, k := range order {
		v, ok := m[k]
		switch {
		case !ok:
		case k == "model":
			out = append(out, kv{k, layersText(*c.Model)})
		case c.Model != nil && (k == "hidden" || k == "activation" || k == "initializer"):
			// The exercise's network, which a model of its own replaces.
		default:
			js, _ := json.Marshal(v)
			out = append(out, kv{k, string(js)})
		}
	}
	return out
}

// layersText names a model's layers with their main arguments, as the
// short form writes them: "Dense(128, selu, LecunNormal),
// BatchNormalization, Dropout(0.2), Dense(10, softmax, GlorotUniform)".
func layersText(mc nn.ModelConfig) string {
	parts := make([]string, len(mc.Layers))
	for i, l := range mc.Layers {
		var args []string
		for _, k := range []string{"units", "activation", "kernel_initializer", "rate", "stddev", "scale"} {
			switch v := l.Config[k].(type) {
			case nil:
			case string:
				args = append(args, v)
			case map[string]any: // a serialized Keras object
				if cls, ok := v["class_name"].(string); ok {
					args = append(args, cls)
				}
			default:
				js, _ := json.Marshal(v)
				args = append(args, string(js))
			}
		}
		parts[i] = l.ClassName
		if len(args) > 0 {
			parts[i] += "(" + strings.Join(args, ", ") + ")"
		}
	}
	return strings.Join(parts, ", ")
}

// confusedExamples names the run's own most confused pairs of classes for
// the confusion matrix's explanation ("cat and dog, then automobile and truck"
// for a CIFAR-10 run, "4 and 9, then 3 and 5" for MNIST's), up to two; "" when
// the model confused no two classes.
func confusedExamples(c train.Confusion, classes []string) string {
	var parts []string
	for _, p := range topConfused(c, 2) {
		parts = append(parts, classes[p.a]+" and "+classes[p.b])
	}
	return strings.Join(parts, ", then ")
}

// threadsText is the threads a run trained on: "1, then 2" when an
// experiment gave it more once others had finished.
func threadsText(env train.Env) string {
	if env.ThreadsRaisedTo > env.Threads {
		return fmt.Sprintf("%d, then %d", env.Threads, env.ThreadsRaisedTo)
	}
	return fmt.Sprint(env.Threads)
}
