package experiment

import (
	"fmt"
	"path/filepath"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/train"
)

// fileSettings are the settings whose value names a file whose content is
// part of a run's configuration (a Keras model file).
var fileSettings = map[string]bool{"model": true}

// FileChangedError is a file a setting names whose content is no longer
// what it was when the experiment began: its runs, named by the
// configuration's hash, would silently become other runs.
type FileChangedError struct {
	Setting, Path string
	Was, Now      string // SHA-256, hex
}

func (e *FileChangedError) Error() string {
	return fmt.Sprintf("%s %s changed since the experiment began (SHA-256 %.12s… then, %.12s… now): its recorded runs are of the old file; restore it, or run the new one in another --dir",
		e.Setting, e.Path, e.Was, e.Now)
}

// Pin records where the experiment begins (workdir, which relative file
// paths in its settings are relative to) and the SHA-256 of each file a
// setting names, so that the experiment reads the same files from any
// directory later (experiment report, collect, a Slurm task) and refuses
// one that changed. A file that cannot be read is left for its setting to
// report.
func (s *Spec) Pin(workdir string) {
	abs, err := filepath.Abs(workdir)
	if err != nil {
		return
	}
	s.Workdir, s.Files = abs, nil
	visit := func(st Setting) {
		if !fileSettings[st.Name] || st.Value == "" {
			return
		}
		if sum := s.sum(s.path(st.Value)); sum != "" {
			if s.Files == nil {
				s.Files = map[string]string{}
			}
			s.Files[st.Value] = sum
		}
	}
	for _, st := range s.Base {
		visit(st)
	}
	for _, c := range s.Configs {
		for _, st := range c.Settings {
			visit(st)
		}
	}
	for _, a := range s.Grid {
		for _, v := range a.Values {
			visit(Setting{a.Name, v})
		}
	}
}

// sum is the SHA-256 of file p ("" if it cannot be read), read once per
// spec: a command plans and checks a spec several times.
func (s *Spec) sum(p string) string {
	if v, ok := s.sums[p]; ok {
		return v
	}
	v, _ := dataset.FileSHA256(p)
	if s.sums == nil {
		s.sums = map[string]string{}
	}
	s.sums[p] = v
	return v
}

// path is a setting's file path resolved against the spec's Workdir (an
// experiment recorded before there was one: as given, against the
// current directory).
func (s *Spec) path(p string) string {
	if s.Workdir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.Workdir, p)
}

// withFiles returns apply with the spec's file settings resolved against
// its Workdir and checked against the content Pin recorded.
func (s *Spec) withFiles(apply Apply) Apply {
	if s.Workdir == "" && len(s.Files) == 0 {
		return apply
	}
	return func(settings []Setting) (train.Config, error) {
		out := append([]Setting(nil), settings...)
		for i, st := range out {
			if !fileSettings[st.Name] || st.Value == "" {
				continue
			}
			p := s.path(st.Value)
			if want, ok := s.Files[st.Value]; ok {
				if now := s.sum(p); now != "" && now != want { // unreadable: its setting says why
					return train.Config{}, &FileChangedError{Setting: st.Name, Path: st.Value, Was: want, Now: now}
				}
			}
			if here, err := filepath.Abs(st.Value); err != nil || here != p {
				// Only where the current directory would read another
				// file: errors then name the one given, as typed.
				out[i].Value = p
			}
		}
		return apply(out)
	}
}
