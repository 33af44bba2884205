package stats

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// python is Debian's interpreter, which has python3-scipy (version 1.10
// on Debian 12); a python3 earlier in PATH may be another installation.
const python = "/usr/bin/python3"

// scipy runs a Python script that reads the JSON of in from stdin and
// prints its answer as JSON, and decodes that answer into out. Without
// python3-scipy the test is skipped, unless CIFARNET_REQUIRE_SCIPY is set
// (CI sets it), when it fails.
func scipy(t *testing.T, script string, in, out any) {
	t.Helper()
	if err := exec.Command(python, "-c", "import scipy.stats").Run(); err != nil {
		if os.Getenv("CIFARNET_REQUIRE_SCIPY") != "" {
			t.Fatalf("CIFARNET_REQUIRE_SCIPY is set but %s cannot import scipy.stats: %v (apt-get install python3-scipy)", python, err)
		}
		t.Skipf("no scipy (%s -c 'import scipy.stats': %v); set CIFARNET_REQUIRE_SCIPY=1 to fail instead", python, err)
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", "import json, sys, math\nimport numpy as np\nfrom scipy import stats\n"+
		"def nn(v):\n    v = float(v)\n    return None if math.isnan(v) else v\n"+
		"data = json.load(sys.stdin)\n"+script)
	cmd.Stdin = bytes.NewReader(b)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(res, out); err != nil {
		t.Fatalf("python answer %q: %v", res, err)
	}
}
