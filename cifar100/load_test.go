package cifar100

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/dataset"
)

// The test images: n planar images, image i's pixel byte j is i*7+j%251,
// coarse label (i*3)%20 and fine label (i*7)%100.
func planar(n int) (coarse, fine, data []byte) {
	for i := range n {
		coarse = append(coarse, byte(i*3%20))
		fine = append(fine, byte(i*7%100))
		for j := range Features {
			data = append(data, byte(i*7+j%251))
		}
	}
	return
}

// binaryFile is the binary version's layout: per record the coarse
// label, the fine label, the 3072 planar bytes.
func binaryFile(coarse, fine, data []byte) []byte {
	var b []byte
	for i := range coarse {
		b = append(b, coarse[i], fine[i])
		b = append(b, data[i*Features:(i+1)*Features]...)
	}
	return b
}

// pickler writes values opcode by opcode as Python 2's cPickle does with
// protocol 2, the official cifar-100-python files' writer.
type pickler struct{ bytes.Buffer }

func (p *pickler) str(s string) { p.WriteByte('U'); p.WriteByte(byte(len(s))); p.WriteString(s) }
func (p *pickler) ints(v []byte) {
	p.WriteString("](")
	for _, x := range v {
		p.Write([]byte{'K', x})
	}
	p.WriteString("e")
}
func (p *pickler) strs(v []string) {
	p.WriteString("](")
	for _, s := range v {
		p.str(s)
	}
	p.WriteString("e")
}

// array writes numpy's _reconstruct(ndarray, (0,), 'b') with the BUILD
// state (1, (n, 3072), dtype('u1'), False, data).
func (p *pickler) array(n int, data []byte) {
	p.WriteString("cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R(K\x01M")
	binary.Write(p, binary.LittleEndian, uint16(n))
	p.WriteByte('M')
	binary.Write(p, binary.LittleEndian, uint16(Features))
	p.WriteString("\x86cnumpy\ndtype\nU\x02u1K\x00K\x01\x87R(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89T")
	binary.Write(p, binary.LittleEndian, uint32(len(data)))
	p.Write(data)
	p.WriteString("tb")
}

func batchPickle(coarse, fine, data []byte) []byte {
	var p pickler
	p.Write([]byte{0x80, 2, '}', '('})
	p.str("filenames")
	names := make([]string, len(coarse))
	for i := range names {
		names[i] = "img.png"
	}
	p.strs(names)
	p.str("batch_label")
	p.str("training batch 1 of 1")
	p.str("fine_labels")
	p.ints(fine)
	p.str("coarse_labels")
	p.ints(coarse)
	p.str("data")
	p.array(len(coarse), data)
	p.WriteString("u.")
	return p.Bytes()
}

func metaPickle() []byte {
	var p pickler
	p.Write([]byte{0x80, 2, '}', '('})
	p.str("fine_label_names")
	p.strs(FineClassNames[:])
	p.str("coarse_label_names")
	p.strs(CoarseClassNames[:])
	p.WriteString("u.")
	return p.Bytes()
}

// files writes a version's files (4 training, 3 test images) and returns
// them by name.
func files(binaryVersion bool) map[string][]byte {
	c, f, d := planar(4)
	tc, tf, td := planar(3)
	if binaryVersion {
		return map[string][]byte{
			"train.bin": binaryFile(c, f, d), "test.bin": binaryFile(tc, tf, td),
			"fine_label_names.txt":   []byte(strings.Join(FineClassNames[:], "\n") + "\n"),
			"coarse_label_names.txt": []byte(strings.Join(CoarseClassNames[:], "\n") + "\n"),
		}
	}
	return map[string][]byte{"train": batchPickle(c, f, d), "test": batchPickle(tc, tf, td), "meta": metaPickle()}
}

func writeDir(t *testing.T, fs map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for n, b := range fs {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func writeArchive(t *testing.T, top string, fs map[string][]byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: top + "/", Typeflag: tar.TypeDir, Mode: 0o755})
	for _, n := range []string{"meta", "fine_label_names.txt", "coarse_label_names.txt", "test", "test.bin", "train", "train.bin"} {
		if b, ok := fs[n]; ok {
			tw.WriteHeader(&tar.Header{Name: top + "/" + n, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b))})
			tw.Write(b)
		}
	}
	tw.Close()
	zw.Close()
	name := filepath.Join(t.TempDir(), top+".tar.gz")
	os.WriteFile(name, buf.Bytes(), 0o644)
	return name
}

func TestLoadEveryForm(t *testing.T) {
	c, f, d := planar(4)
	_, tf, _ := planar(3)
	for _, bin := range []bool{true, false} {
		top := PyDirName
		if bin {
			top = BinDirName
		}
		fs := files(bin)
		for _, src := range []string{writeDir(t, fs), writeArchive(t, top, fs)} {
			for _, mode := range []string{Fine, Coarse} {
				info, _ := Info(mode)
				got, err := Load(info, src, 3, 2)
				if err != nil {
					t.Fatalf("%s %s: %v", src, mode, err)
				}
				want := f[:3]
				if mode == Coarse {
					want = c[:3]
				}
				if !slices.Equal(got.Train.Labels, want) || (mode == Fine && !slices.Equal(got.Test.Labels, tf[:2])) {
					t.Errorf("%s %s: labels %v %v", src, mode, got.Train.Labels, got.Test.Labels)
				}
				// Channels-last: image 2's pixel (y=1, x=2) channel 2 is planar byte 2*1024 + 1*32+2.
				if px := got.Train.Pixels[2*Features+(1*32+2)*3+2]; px != d[2*Features+2*1024+34] {
					t.Errorf("%s: pixel %d, want %d", src, px, d[2*Features+2*1024+34])
				}
				if got.NumClasses() != map[string]int{Fine: 100, Coarse: 20}[mode] || got.Classes[1] != info.Classes[1] {
					t.Errorf("%s %s: %d classes", src, mode, got.NumClasses())
				}
			}
		}
	}
}

func TestBrokenFiles(t *testing.T) {
	info, _ := Info(Fine)
	c, f, d := planar(4)
	bad := binaryFile(c, f, d)
	bad[RecordSize] = 20 // record 1's coarse label
	tests := []struct {
		name  string
		fs    map[string][]byte
		n     int
		want  string
		short bool
	}{
		{"truncated", map[string][]byte{"train.bin": binaryFile(c, f, d)[:RecordSize*2+5], "test.bin": nil}, 1, "not a multiple of the 3074-byte record", false},
		{"label", map[string][]byte{"train.bin": bad, "test.bin": nil}, 3, "record 1: labels coarse 20", false},
		{"short", map[string][]byte{"train.bin": binaryFile(c, f, d), "test.bin": nil}, 5, "has 4 training images, want at least 5", true},
		{"pickle labels", map[string][]byte{"train": batchPickle(c, f[:3], d)}, 1, "3 fine_labels for 4 images", false},
		{"not a pickle", map[string][]byte{"train": []byte("hello")}, 1, "cifar100", false},
		{"missing", map[string][]byte{}, 1, "train", false},
	}
	for _, tt := range tests {
		_, err := Load(info, writeDir(t, tt.fs), tt.n, 0)
		var se *dataset.ShortError
		if err == nil || !strings.Contains(err.Error(), tt.want) || errors.As(err, &se) != tt.short {
			t.Errorf("%s: %v, want %q (short %v)", tt.name, err, tt.want, tt.short)
		}
	}
	// An archive whose gzip checksum fails is refused though its members read.
	name := writeArchive(t, BinDirName, files(true))
	b, _ := os.ReadFile(name)
	b[len(b)-8] ^= 1
	os.WriteFile(name, b, 0o644)
	if _, err := Load(info, name, 1, 1); err == nil || !strings.Contains(err.Error(), "cannot be trusted") {
		t.Errorf("bad CRC: %v", err)
	}
	if _, err := Info("medium"); err == nil {
		t.Error("label mode medium accepted")
	}
}

// TestNotADataDirectory: a directory of neither layout is refused saying
// what is wanted, and naming CIFAR-10 when it holds CIFAR-10's batches;
// so is a file that is not an archive.
func TestNotADataDirectory(t *testing.T) {
	empty := t.TempDir()
	c10 := t.TempDir()
	if err := os.WriteFile(filepath.Join(c10, "data_batch_1.bin"), []byte{0}, 0o644); err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]string{
		empty: "is not a cifar-100-binary directory (train.bin, test.bin) nor a cifar-100-python one (train, test, meta)",
		c10:   "looks like CIFAR-10's cifar-10-batches-bin: data set cifar10",
	} {
		info, _ := Info(Fine)
		_, err := Load(info, dir, 10, 10)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want it to say %q", dir, err, want)
		}
	}
	// A file of the directory given for it names the directory; another
	// file that is not an archive says what is wanted.
	bin := filepath.Join(writeDir(t, map[string][]byte{"test.bin": nil}), "test.bin")
	other := filepath.Join(c10, "data_batch_1.bin")
	for file, want := range map[string]string{
		bin:   bin + ": one of the data set's files: --data takes the directory that holds them (here " + filepath.Dir(bin) + ") or their .tar.gz",
		other: other + ": not a directory nor a .tar.gz archive: --data takes a cifar-100-binary or cifar-100-python directory or their .tar.gz",
	} {
		info, _ := Info(Fine)
		if _, err := Load(info, file, 10, 10); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want it to say %q", file, err, want)
		}
	}
}
