package report

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"

	"github.com/cifarnet/cifarnet/stats"
)

var experimentPage = template.Must(template.New("experiment").Funcs(template.FuncMap{
	"f4":  func(v float64) string { return fmtMetric(v, "%.4f") },
	"f2":  func(v float64) string { return fmtMetric(v, "%.2f") },
	"f1":  func(v float64) string { return fmtMetric(v, "%.1f") },
	"sf4": func(v float64) string { return fmtMetric(v, "%+.4f") },
	"p":   stats.P,
	// few: an interval from too few runs to take at its word.
	"few": func(n int) bool { return n >= 2 && n < stats.FewRuns },
	// count says n things, in the singular for one.
	"count": Count,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cifarnet {{.Dataset}} experiment: {{count (len .S.Configurations) "configuration"}}, {{.Finished}} of {{count .Total "run"}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<main>
<h1>{{.Dataset}} experiment</h1>
<div class="cards">
  <div class="card main"><div class="v" id="configurations">{{len .S.Configurations}}</div><div class="k">{{if .Several}}configurations{{if .Factors}} ({{.Factors}}){{end}}{{else}}configuration, several seeds{{end}}</div></div>
  <div class="card"><div class="v" id="runs">{{.Finished}} / {{.Total}}</div><div class="k">runs finished</div></div>
  <div class="card"><div class="v">{{len .S.Missing}}</div><div class="k">{{if eq (len .S.Missing) 1}}run{{else}}runs{{end}} missing</div></div>
  <div class="card"><div class="v">{{len .S.Diverged}}</div><div class="k">{{if eq (len .S.Diverged) 1}}run{{else}}runs{{end}} diverged</div></div>
{{if .Several}}  <div class="card"><div class="v name">{{.S.Baseline}}</div><div class="k">baseline: the others are compared with it</div></div>{{end}}
</div>
{{if or .S.Missing .S.Diverged}}<div class="explain" id="missing"><p><strong>Not every run has a result.</strong> The statistics below use only the runs with a finite test accuracy; these are left out:</p><ul>
{{range .S.Missing}}<li>{{.Config}}, seed {{.Seed}}: {{.Reason}} ({{.Dir}})</li>{{end}}
{{range .S.Diverged}}<li>{{.Config}}, seed {{.Seed}}: diverged, {{.Reason}} ({{.Dir}})</li>{{end}}
</ul>{{if .S.Missing}}<p>Rerun the experiment (or resubmit its shard) to finish the missing runs; finished runs are kept.</p>{{end}}</div>{{end}}

<div class="explain reading">
<p>Each configuration was trained several times with different seeds (the random initial weights and the shuffling). The spread of those runs is the noise of a single run: a difference between configurations smaller than that noise cannot be told apart from luck with this many runs.</p>
<p>The {{.Pct}} confidence interval (CI) of a mean is a range computed from the runs (by the bootstrap) so that, over many experiments like this one, {{.Pct}} of such ranges hold the configuration's true mean, its mean over all possible seeds; more runs make it narrower.{{if .Several}} A p-value is the chance of a difference at least this large if the configurations were in fact the same; below 0.05 (after the correction for making several comparisons) the difference is called detectable.{{end}}</p>
</div>

{{if .S.Comparisons}}<h2>Comparisons with {{.S.Baseline}}</h2>
{{range .S.Comparisons}}<p class="sentence">{{.Sentence}}</p>
{{end}}
<div class="scroll"><table id="comparisons">
<tr><th>configuration</th><th>difference of means</th><th>{{.Pct}} CI</th><th>Welch p (Holm)</th><th>Mann-Whitney p (Holm)</th><th>Hedges' g</th><th>P(improvement)</th><th>{{.Pct}} CI</th></tr>
{{range .S.Comparisons}}<tr><td>{{.Name}}</td><td>{{sf4 .Diff}}</td><td>{{sf4 .DiffLow}} to {{sf4 .DiffHigh}}</td><td>{{p .Welch.P}} ({{p .WelchHolm}})</td><td>{{p .MannWhitney.P}} ({{p .MannWhitneyHolm}})</td><td>{{f2 .HedgesG}}</td><td>{{f2 .Improvement}}</td><td>{{f2 .ImprovementLow}} to {{f2 .ImprovementHigh}}</td></tr>
{{end}}</table></div>
{{end}}
{{range .Named}}<p class="sentence" id="named-seed">{{.}}</p>{{end}}

<h2>Test accuracy per configuration</h2>
<div class="scroll"><table id="summary">
<tr><th>configuration</th><th>n</th><th>mean</th><th>SD</th><th>{{.Pct}} CI of the mean</th><th>median</th><th>IQR</th><th>min</th><th>max</th><th>test loss (mean)</th><th>epochs (mean)</th><th>seed {{.NamedSeed}} (rank)</th></tr>
{{range .S.Configurations}}<tr{{if and $.Several (eq .Config $.S.Baseline)}} class="best"{{end}}><td>{{.Config}}</td><td>{{.TestAccuracy.N}}{{if ne .TestAccuracy.N .Runs}} of {{.Runs}}{{end}}</td><td>{{f4 .TestAccuracy.Mean}}</td><td>{{f4 .TestAccuracy.SD}}</td><td>{{f4 .TestAccuracy.CILow}} to {{f4 .TestAccuracy.CIHigh}}{{if few .TestAccuracy.N}}*{{end}}</td><td>{{f4 .TestAccuracy.Median}}</td><td>{{f4 .TestAccuracy.IQR}}</td><td>{{f4 .TestAccuracy.Min}}</td><td>{{f4 .TestAccuracy.Max}}</td><td>{{f4 .TestLoss.Mean}}</td><td>{{f1 .EpochsRun.Mean}}</td><td>{{with .Named}}{{f4 .Value}} ({{.Rank}} of {{.N}}){{else}}–{{end}}</td></tr>
{{end}}</table></div>
<p style="color:var(--muted);font-size:.9rem">{{if .Several}}The highlighted row is the baseline. {{end}}{{if .Few}}* From fewer than {{.FewRuns}} runs a bootstrap interval is too narrow: it can hardly reach beyond the runs' own range (from 2 runs it is about their minimum to maximum), so the uncertainty is larger than it shows. {{end}}All figures are in <a href="summary.csv">summary.csv</a>. The base settings of every run: {{or .E.Base "the exercise, train's defaults"}}.</p>
{{if .E.Named}}
<h2>Named configurations</h2>
<div class="scroll"><table id="named-configs">
<tr><th>name</th><th>its settings (beyond the base)</th></tr>
{{range .E.Named}}<tr><td>{{.Name}}</td><td>{{or .Settings "none: the base itself"}}</td></tr>
{{end}}</table></div>
{{end}}
{{range .Figs}}
<h2>{{.Title}}</h2>
<figure><div class="fig"><img src="{{.URI}}" alt="{{.Title}}">{{.Overlay}}</div><figcaption>{{.Caption}} <span class="links">(<a href="{{.Name}}.svg">SVG</a>, <a href="{{.Name}}.png">PNG</a>)</span></figcaption></figure>
{{end}}

<h2>Runs</h2>
<div class="scroll"><table id="runs-table">
<tr><th>configuration</th><th>seed</th><th>test accuracy</th><th>test loss</th><th>epochs</th><th>report</th></tr>
{{range .Runs}}<tr><td>{{.Config}}</td><td>{{.Seed}}</td>{{if .Done}}<td>{{f4 .Accuracy}}</td><td>{{f4 .Loss}}</td><td>{{.Epochs}}</td>{{else}}<td colspan="3">missing: not finished</td>{{end}}<td>{{if .Link}}<a href="{{.Link}}">report</a>{{else}}{{.Dir}}{{end}}</td></tr>
{{end}}</table></div>

<h2>How the figures are computed</h2>
<ul id="methods">{{range .S.Methods}}<li>{{.}}</li>{{end}}</ul>

<footer>Made by cifarnet from the runs' saved files (cifarnet experiment report redraws it). <span id="figure-status">{{len .Figs}} figures embedded</span>.</footer>
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

// experimentDataset names the data set of the experiment's finished runs
// for people ("MNIST"); "Mixed data sets" when they differ.
func experimentDataset(e *Experiment) string {
	name := ""
	for i := range e.Runs {
		if r := &e.Runs[i]; r.finished() {
			t := datasetTitle(r.Metrics.Config)
			if name != "" && t != name {
				return "Mixed data sets"
			}
			name = t
		}
	}
	if name == "" {
		return "cifarnet"
	}
	return name
}

// runRow is one run in the page's table of runs.
type runRow struct {
	Config         string
	Seed           uint64
	Done           bool
	Accuracy, Loss float64
	Epochs         int
	Dir            string
	Link           string // the run's own report, relative to the page
}

// experimentHTML renders the experiment's report.html with its figures
// embedded.
func experimentHTML(e *Experiment, st *ExperimentStats, figs []Figure) ([]byte, error) {
	var fv []figView
	for i, f := range figs {
		fv = append(fv, figView{f, template.URL(figureURI(i)), f.geom.overlay()})
	}
	var rows []runRow
	finished := 0
	for i := range e.Runs {
		r := &e.Runs[i]
		row := runRow{Config: r.Config, Seed: r.Seed, Dir: r.Dir, Done: r.finished()}
		if row.Done {
			finished++
			row.Accuracy, row.Loss, row.Epochs = r.Metrics.TestAccuracy, r.Metrics.TestLoss, r.Metrics.EpochsRun
		}
		if _, err := os.Stat(filepath.Join(r.Dir, HTMLFile)); err == nil {
			if rel, err := filepath.Rel(e.Dir, filepath.Join(r.Dir, HTMLFile)); err == nil {
				row.Link = filepath.ToSlash(rel)
			}
		}
		rows = append(rows, row)
	}
	var factors []string
	if len(st.Configurations) > 0 {
		for _, f := range st.Configurations[0].Factors {
			factors = append(factors, f.Name)
		}
	}
	if len(e.Named) > 0 && len(factors) > 0 { // "name" is the first factor
		factors[0] = "named"
		if len(factors) > 1 {
			factors = []string{"named; " + strings.Join(factors[1:], ", ") + " varied"}
		}
	} else if len(factors) > 0 {
		factors = []string{strings.Join(factors, ", ") + " varied"}
	}
	few := false
	for _, c := range st.Configurations {
		few = few || c.TestAccuracy.N >= 2 && c.TestAccuracy.N < stats.FewRuns
	}
	// The named seed's place in a sentence for a single seed sweep; with
	// several configurations the summary table has it.
	var named []string
	if len(st.Configurations) == 1 && st.Configurations[0].Named != nil {
		named = append(named, st.Configurations[0].Named.Sentence)
	}
	data := map[string]any{
		"CSS": template.CSS(pageCSS + experimentCSS), "S": st, "Figs": fv, "Runs": rows, "Named": named,
		"Finished": finished, "Total": len(e.Runs), "Factors": strings.Join(factors, ", "), "E": e, "Dataset": experimentDataset(e),
		"Pct": fmt.Sprintf("%.0f%%", 100*st.Bootstrap.Level), "Several": len(st.Configurations) > 1, "NamedSeed": e.NamedSeed,
		"Few": few, "FewRuns": stats.FewRuns,
	}
	var b bytes.Buffer
	if err := experimentPage.Execute(&b, data); err != nil {
		return nil, err
	}
	return embedFigures(b.Bytes(), figs), nil
}

// experimentCSS adds to pageCSS what only the experiment page has.
const experimentCSS = `
main { max-width: 1200px; }
#summary, #comparisons { font-size: .86rem; }
p.sentence { background: var(--card); border-radius: 6px; padding: .5rem .8rem; margin: .5rem 0; }
#missing { border-left-color: #d55e00; }
#missing ul { margin: .3rem 0; }
.card .v.name { font-size: 1.1rem; overflow-wrap: anywhere; }
`
