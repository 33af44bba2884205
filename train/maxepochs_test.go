package train

import (
	"encoding/json"
	"testing"

	"github.com/cifarnet/cifarnet/internal/finitejson"
	"github.com/cifarnet/cifarnet/safetensors"
)

// TestMaxEpochsFit: the history of the longest run the settings allow,
// every value at its longest in JSON, fits history.json as the run's
// readers take it and a checkpoint's header: a run of 1,048,576 epochs
// wrote a history.json, and an interrupted one a checkpoint, that cifarnet
// then refused to read.
func TestMaxEpochsFit(t *testing.T) {
	const long = -1.2345678901234567e-300
	h := &History{Epochs: make([]Epoch, MaxEpochs)}
	for i := range h.Epochs {
		h.Epochs[i] = Epoch{Epoch: i + 1, Seconds: long, Logs: Logs{Loss: long, Accuracy: long, ValLoss: long, ValAccuracy: long,
			HasVal: true, LearningRate: long, HasLearningRate: true}}
	}
	dir := t.TempDir()
	if err := WriteHistory(dir, h); err != nil {
		t.Fatal(err)
	}
	var back History
	if err := readRunFile(dir, HistoryJSON, &back); err != nil || len(back.Epochs) != MaxEpochs {
		t.Fatalf("history.json of %d epochs read back: %v", MaxEpochs, err)
	}
	js, err := finitejson.Marshal(&Checkpoint{History: h})
	if err != nil {
		t.Fatal(err)
	}
	header, _ := json.Marshal(map[string]map[string]string{"__metadata__": {checkpointKey: string(js)}})
	if len(header) > safetensors.MaxHeader/2 { // half for the rest: tensors' entries, the early stopping's state
		t.Errorf("a checkpoint of %d epochs has a header of %d bytes, more than half of the %d its reader takes", MaxEpochs, len(header), safetensors.MaxHeader)
	}
}
