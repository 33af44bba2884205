package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// docCommand is one cifarnet command line found in a document.
type docCommand struct {
	where string // file:line
	args  []string
	// inline is a command in the prose, where "`cifarnet predict`" may
	// only name the command.
	inline bool
}

var inlineCommand = regexp.MustCompile("`(cifarnet [^`]+)`")

// docCommands returns every cifarnet command of a Markdown document: the
// lines of its sh (and unlabelled) code blocks that run cifarnet (after a
// "$ " prompt, "go run ./cmd/cifarnet", "do" of a for loop), joined over
// trailing backslashes, and the inline code spans that start with
// "cifarnet ".
func docCommands(t *testing.T, path string) []docCommand {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(path)
	var out []docCommand
	add := func(line int, cmdline string, inline bool) {
		cmdline = strings.ReplaceAll(cmdline, "go run ./cmd/cifarnet ", "cifarnet ")
		cmdline = strings.ReplaceAll(cmdline, "$s", "0") // the for loop's seed
		words, err := shellWords(cmdline)
		if err != nil {
			t.Errorf("%s:%d: %v: %q", name, line, err, cmdline)
			return
		}
		if len(words) > 0 && words[0] == "cifarnet" {
			out = append(out, docCommand{where: name + ":" + strconv.Itoa(line), args: words[1:], inline: inline})
		}
	}
	lines := strings.Split(string(b), "\n")
	var prose strings.Builder
	proseStart := 0
	flushProse := func() {
		for _, m := range inlineCommand.FindAllStringSubmatch(strings.ReplaceAll(prose.String(), "\n", " "), -1) {
			add(proseStart, m[1], true)
		}
		prose.Reset()
	}
	inBlock, shell := false, false
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "```") {
			if !inBlock {
				flushProse()
				lang := strings.TrimPrefix(l, "```")
				inBlock, shell = true, lang == "" || lang == "sh" || lang == "bash" || lang == "console"
			} else {
				inBlock = false
				proseStart = i + 2
			}
			continue
		}
		if !inBlock {
			if prose.Len() == 0 {
				proseStart = i + 1
			}
			prose.WriteString(l + "\n")
			continue
		}
		if !shell {
			continue
		}
		start := i + 1
		for strings.HasSuffix(l, "\\") && i+1 < len(lines) {
			i++
			l = strings.TrimSuffix(l, "\\") + " " + strings.TrimSpace(lines[i])
		}
		l = strings.TrimSpace(strings.TrimPrefix(l, "$ "))
		if j := strings.Index(l, "; do cifarnet "); j >= 0 {
			l = strings.TrimSuffix(l[j+len("; do "):], "; done")
		}
		if strings.HasPrefix(l, "cifarnet ") || strings.HasPrefix(l, "go run ./cmd/cifarnet ") {
			add(start, l, false)
		}
	}
	flushProse()
	return out
}

// shellWords splits a command line as sh does for the simple lines of the
// documents: single and double quotes, a comment from an unquoted "#" after
// a blank, and nothing else (no expansions).
func shellWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	for i, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				w.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			if inWord {
				words = append(words, w.String())
			}
			return words, nil
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// TestDocumentedCommandsParse: every cifarnet command that README.md and
// docs/ show names an existing command, and its flags and arguments are
// accepted as written (parsed by the real command tree, not run).
func TestDocumentedCommandsParse(t *testing.T) {
	docs, _ := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	docs = append([]string{filepath.Join("..", "..", "README.md")}, docs...)
	total := 0
	for _, doc := range docs {
		for _, c := range docCommands(t, doc) {
			total++
			if err := parseCommandLine(c.args, c.inline); err != nil {
				t.Errorf("%s: cifarnet %s: %v", c.where, strings.Join(c.args, " "), err)
			}
		}
	}
	if total < 40 {
		t.Fatalf("only %d documented commands found: the extraction is broken", total)
	}
}

// parseCommandLine finds the command of args in a fresh command tree and
// parses its flags and positional arguments as Execute would, without
// running it. An inline command that is only a command's name is a
// mention: it need not have the command's arguments.
func parseCommandLine(args []string, inline bool) error {
	root := newRoot()
	root.InitDefaultHelpCmd()
	cmd, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if cmd == root {
		return errors.New("no such command")
	}
	if inline && len(rest) == 0 && len(args) > 0 && args[len(args)-1] == cmd.Name() {
		return nil // a mention of the command by its name, as in "`cifarnet predict` composites ..."
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return err
	}
	if cmd.Name() == "help" {
		if a := cmd.Flags().Args(); len(a) == 1 && a[0] == "COMMAND" {
			return nil // "cifarnet help COMMAND"
		}
		if c, _, err := root.Find(cmd.Flags().Args()); err != nil || c == root {
			return fmt.Errorf("help %v: no such command", cmd.Flags().Args())
		}
		return nil
	}
	return cmd.ValidateArgs(cmd.Flags().Args())
}

// TestDocCommandExtraction: the extraction finds what it should, and the
// check refuses a wrong flag, an unknown command and a bad value, so that
// the test above can fail.
func TestDocCommandExtraction(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "x.md")
	text := "Run `cifarnet train --seed 3`.\n\n```sh\n$ go run ./cmd/cifarnet train \\\n  --epochs 2   # two\n" +
		"for s in $(seq 0 2); do cifarnet train --seed $s -q; done\n```\n\n```toml\n# cifarnet train --nope\n```\n"
	if err := os.WriteFile(doc, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	got := docCommands(t, doc)
	want := []string{"train --seed 3", "train --epochs 2", "train --seed 0 -q"}
	if len(got) != len(want) {
		t.Fatalf("found %v, want %v", got, want)
	}
	for i, c := range got {
		if strings.Join(c.args, " ") != want[i] {
			t.Errorf("command %d: %q, want %q", i, strings.Join(c.args, " "), want[i])
		}
		if err := parseCommandLine(c.args, c.inline); err != nil {
			t.Errorf("%v: %v", c.args, err)
		}
	}
	for _, bad := range [][]string{{"train", "--learning-rate", "0.1"}, {"trian"}, {"train", "--epochs", "ten"},
		{"report"}, {"lr-find", "--max-lr", "x"}, {"experiment", "slurm", "--shards"}, {"help", "nosuch"}} {
		if parseCommandLine(bad, false) == nil {
			t.Errorf("cifarnet %v accepted", bad)
		}
	}
	if w, _ := shellWords(`a "b c" 'd#e' f # g`); strings.Join(w, "|") != "a|b c|d#e|f" {
		t.Errorf("shellWords: %q", w)
	}
}

// TestDocumentedSpecsPlan: every TOML experiment spec README.md shows is
// accepted whole (settings, grid, seeds, baseline) by the real command:
// "experiment slurm" plans it and writes its script without training.
func TestDocumentedSpecsPlan(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var specs []string
	var cur *strings.Builder
	for _, l := range strings.Split(string(b), "\n") {
		switch {
		case cur == nil && l == "```toml":
			cur = &strings.Builder{}
		case cur != nil && strings.HasPrefix(l, "```"):
			specs = append(specs, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(l + "\n")
		}
	}
	if len(specs) == 0 {
		t.Fatal("no TOML spec found in README.md")
	}
	for i, s := range specs {
		dir := t.TempDir()
		file := filepath.Join(dir, "spec.toml")
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, stderr, code := run(t, "experiment", "slurm", "--spec", file, "--dir", filepath.Join(dir, "exp"), "--shards", "1"); code != 0 {
			t.Errorf("README's spec %d: exit %d: %s\n%s", i+1, code, stderr, s)
		}
	}
}
