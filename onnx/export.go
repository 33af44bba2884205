// Package onnx writes a trained cifarnet model as a standard ONNX model, so
// that ONNX Runtime (Python, Node.js, a browser, C++, Java, ...) and the other
// frameworks that read ONNX can run it.
//
// The graph is the Keras model layer by layer: each Dense layer a Gemm
// (x·kernel + bias, the kernel in Keras's [in, out] layout), each activation
// its ONNX operator or the exact composition of operators that Keras's
// formula names, and a Softmax at the end. Tensors take the Keras layer names:
// the input is "input_layer", the initializers "dense/kernel",
// "dense/bias", ..., and the output of every layer (the graph's output
// included) is named after the layer ("dense_4" holds the probabilities of
// the exercise's model). The class names are in the metadata ("class_names",
// a JSON array).
//
// Two inputs are offered (see Input): the float32 features cifarnet feeds
// the network, or raw uint8 images with the preprocessing inside the graph.
//
// The model is written with opset 17 and IR version 8: every ONNX Runtime
// since 1.14 reads it, and so does the ONNX checker of Debian's python3-onnx
// (1.12), which knows no later versions.
package onnx

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/onnx/onnxpb"
	"github.com/cifarnet/cifarnet/saving"
)

// Versions of the ONNX format and of the standard operator set written.
const (
	IRVersion = 8
	Opset     = 17
)

// Input selects the exported model's input.
type Input string

const (
	// Uint8 takes raw images, uint8 [batch, height, width, channels] as
	// decoded from PNG or JPEG (channels last, RGB); the graph casts them to
	// float32, divides by 255 and flattens them channels-last, as cifarnet
	// does before its first layer.
	Uint8 Input = "uint8"
	// Float32 takes the features cifarnet feeds its first layer: float32
	// [batch, features], each image flattened channels-last and divided by
	// 255.
	Float32 Input = "float32"
)

// Inputs lists the accepted Input values.
var Inputs = []Input{Uint8, Float32}

// InputName is the graph input's name, Keras 3's default name of a
// Sequential model's input layer.
const InputName = "input_layer"

// BatchDim is the symbolic name of the batch dimension.
const BatchDim = "batch"

// Export builds the ONNX model of m, described by c (as saving.Load returns
// them), with the given input. It fails, naming the field, where c does not
// describe m or describes something ONNX export does not support.
func Export(m *nn.Sequential, c *saving.Config, in Input) (*onnxpb.ModelProto, error) {
	b := &builder{names: map[string]bool{}}
	x, err := b.input(m, c, in)
	if err != nil {
		return nil, err
	}
	last := len(m.Layers) - 1
	for i, l := range m.Layers {
		if i < last {
			x, err = b.layer(l, x)
		} else {
			x, err = b.output(l, x)
		}
		if err != nil {
			return nil, err
		}
	}
	b.g.Output = []*onnxpb.ValueInfoProto{tensorInfo(x, onnxpb.TensorProto_FLOAT, dimParam(BatchDim), dimValue(m.Outputs()))}
	names, _ := json.Marshal(c.ClassNames)
	mp := b.model()
	mp.DocString = proto.String(docString(m, c, in))
	mp.MetadataProps = []*onnxpb.StringStringEntryProto{
		{Key: proto.String("class_names"), Value: proto.String(string(names))},
		{Key: proto.String("input"), Value: proto.String(string(in))},
	}
	return mp, nil
}

// model wraps the graph built so far into a model of this package's IR
// version and opset.
func (b *builder) model() *onnxpb.ModelProto {
	b.g.Name = proto.String("cifarnet")
	return &onnxpb.ModelProto{
		IrVersion:    proto.Int64(IRVersion),
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(Opset)}},
		ProducerName: proto.String("cifarnet"),
		Graph:        &b.g,
	}
}

// Marshal writes the serialized model to w (deterministically: the same
// model gives the same bytes).
func Marshal(w io.Writer, mp *onnxpb.ModelProto) error {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(mp)
	if err != nil {
		return fmt.Errorf("onnx: %v", err)
	}
	_, err = w.Write(b)
	return err
}

func docString(m *nn.Sequential, c *saving.Config, in Input) string {
	p := c.Preprocessing
	s := fmt.Sprintf("cifarnet model, %d classes, softmax probabilities out. ", m.Outputs())
	if in == Uint8 {
		return s + fmt.Sprintf("Input: uint8 images [batch, %s] (height, width, channels; RGB), preprocessed inside the graph.", joinInts(p.InputShape, ", "))
	}
	return s + fmt.Sprintf("Input: float32 [batch, %d]: uint8 images [%s] flattened channels-last and divided by 255.", m.Inputs(), joinInts(p.InputShape, ", "))
}

func joinInts(v []int, sep string) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, sep)
}

// builder accumulates a graph, refusing a tensor name used twice.
type builder struct {
	g     onnxpb.GraphProto
	names map[string]bool
}

// name claims a tensor name.
func (b *builder) name(n string) string {
	if b.names[n] {
		panic(fmt.Sprintf("onnx: tensor name %q used twice", n)) // a bug of this package, not of the model
	}
	b.names[n] = true
	return n
}

// node adds the node op(inputs...) writing the tensor out, and returns out.
func (b *builder) node(op, out string, inputs []string, attrs ...*onnxpb.AttributeProto) string {
	b.g.Node = append(b.g.Node, &onnxpb.NodeProto{
		OpType: proto.String(op), Name: proto.String(out), Input: inputs,
		Output: []string{b.name(out)}, Attribute: attrs,
	})
	return out
}

// floats adds a float32 initializer of the given shape.
func (b *builder) floats(name string, dims []int, v []float32) string {
	raw := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
	}
	d := make([]int64, len(dims))
	for i, n := range dims {
		d[i] = int64(n)
	}
	b.g.Initializer = append(b.g.Initializer, &onnxpb.TensorProto{
		Name: proto.String(b.name(name)), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: d, RawData: raw,
	})
	return name
}

// scalar adds a float32 scalar initializer.
func (b *builder) scalar(name string, v float32) string { return b.floats(name, nil, []float32{v}) }

func floatAttr(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func dimParam(p string) *onnxpb.TensorShapeProto_Dimension {
	return &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: p}}
}

func dimValue(n int) *onnxpb.TensorShapeProto_Dimension {
	return &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(n)}}
}

func tensorInfo(name string, t onnxpb.TensorProto_DataType, dims ...*onnxpb.TensorShapeProto_Dimension) *onnxpb.ValueInfoProto {
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(t)), Shape: &onnxpb.TensorShapeProto{Dim: dims},
		}}},
	}
}

// input declares the graph's input and, for Uint8, the preprocessing that
// turns images into the first layer's features; it returns the features.
func (b *builder) input(m *nn.Sequential, c *saving.Config, in Input) (string, error) {
	p := c.Preprocessing
	size := 1
	for _, n := range p.InputShape {
		if n <= 0 || n > 1<<20 {
			return "", fmt.Errorf("preprocessing.input_shape %v: want positive sizes", p.InputShape)
		}
		size *= n
	}
	if len(p.InputShape) != 3 || size != m.Inputs() {
		return "", fmt.Errorf("preprocessing.input_shape %v does not match the model's %d inputs: want [height, width, channels] whose product is the inputs", p.InputShape, m.Inputs())
	}
	if p.Flatten != "channels_last" {
		return "", fmt.Errorf("preprocessing.flatten %q: only channels_last is supported", p.Flatten)
	}
	if !(p.Scale > 0) || math.IsInf(p.Scale, 0) {
		return "", fmt.Errorf("preprocessing.scale %v: want a positive number", p.Scale)
	}
	if len(c.ClassNames) != m.Outputs() {
		return "", fmt.Errorf("class_names has %d names, the model has %d classes", len(c.ClassNames), m.Outputs())
	}
	switch in {
	case Float32:
		b.g.Input = []*onnxpb.ValueInfoProto{tensorInfo(b.name(InputName), onnxpb.TensorProto_FLOAT, dimParam(BatchDim), dimValue(m.Inputs()))}
		return InputName, nil
	case Uint8:
		dims := []*onnxpb.TensorShapeProto_Dimension{dimParam(BatchDim)}
		for _, n := range p.InputShape {
			dims = append(dims, dimValue(n))
		}
		b.g.Input = []*onnxpb.ValueInfoProto{tensorInfo(b.name(InputName), onnxpb.TensorProto_UINT8, dims...)}
		x := b.node("Cast", "preprocessing/cast", []string{InputName}, intAttr("to", int64(onnxpb.TensorProto_FLOAT)))
		x = b.rescale(x, p.Scale)
		// Flatten(axis=1) keeps the batch and lays each image out in
		// memory order: height, width, channels, i.e. channels-last.
		return b.node("Flatten", "preprocessing/flatten", []string{x}, intAttr("axis", 1)), nil
	}
	return "", fmt.Errorf("input %q: want one of %v", in, Inputs)
}

// rescale multiplies x by scale. cifarnet (like the Keras
// exercise, x.astype('float32') / 255) divides by the reciprocal where it is
// a whole number, so the graph does the same division and gets the same bits.
func (b *builder) rescale(x string, scale float64) string {
	if r := math.Round(1 / scale); math.Abs(1/scale-r) < 1e-9*r {
		return b.node("Div", "preprocessing/rescale", []string{x, b.scalar("preprocessing/divisor", float32(r))})
	}
	return b.node("Mul", "preprocessing/rescale", []string{x, b.scalar("preprocessing/scale", float32(scale))})
}

// layer exports one layer of the model, each kind by its own function,
// and returns its output tensor, named after the layer. Layers that are the
// identity at inference (dropout, noise, Flatten of rows already flat) add
// nothing.
func (b *builder) layer(l nn.Layer, x string) (string, error) {
	switch l := l.(type) {
	case *nn.Dense:
		return b.dense(l, l.Act.Name, x)
	case *nn.ActivationLayer:
		return b.activation(x, l.Act.Name, l.Name())
	case *nn.BatchNormalization:
		return b.batchNormalization(l, x)
	case *nn.Normalization:
		return b.normalization(l, x)
	case *nn.Rescaling:
		return b.rescaling(l, x)
	case *nn.Flatten, *nn.Dropout, *nn.AlphaDropout, *nn.GaussianNoise, *nn.GaussianDropout:
		return x, nil
	}
	return "", fmt.Errorf("layer %s (%T) has no ONNX export", l.Name(), l)
}

// output exports the last layer and the softmax that cifarnet, like Keras's
// loss, applies to its logits: folded back into the layer as Keras writes
// it (Dense(..., activation="softmax"), Activation("softmax")) where the
// layer's own activation is linear, else as a Softmax node of its own.
func (b *builder) output(l nn.Layer, x string) (string, error) {
	switch l := l.(type) {
	case *nn.Dense:
		if l.Act.Name == "linear" {
			return b.dense(l, "softmax", x)
		}
	case *nn.ActivationLayer:
		if l.Act.Name == "linear" {
			return b.activation(x, "softmax", l.Name())
		}
	}
	x, err := b.layer(l, x)
	if err != nil {
		return "", err
	}
	return b.activation(x, "softmax", "softmax")
}

// dense exports keras.layers.Dense: Gemm(x, kernel[, bias]) then the
// activation act.
func (b *builder) dense(l *nn.Dense, act string, x string) (string, error) {
	name := l.Name()
	if len(l.Kernel) != l.In*l.Out || (len(l.Bias) != l.Out && (l.UseBias || len(l.Bias) != 0)) {
		return "", fmt.Errorf("layer %s: kernel %d and bias %d values, want %dx%d and %d", name, len(l.Kernel), len(l.Bias), l.In, l.Out, l.Out)
	}
	in := []string{x, b.floats(name+"/kernel", []int{l.In, l.Out}, l.Kernel)}
	if l.UseBias {
		in = append(in, b.floats(name+"/bias", []int{l.Out}, l.Bias))
	}
	if act == "linear" {
		return b.node("Gemm", name, in), nil
	}
	return b.activation(b.node("Gemm", name+"/gemm", in), act, name)
}

// batchNormalization exports keras.layers.BatchNormalization in inference
// form: ONNX's BatchNormalization with the moving statistics,
// (x - moving_mean) / sqrt(moving_variance + epsilon) * gamma + beta
// (gamma 1 without scale, beta 0 without center).
func (b *builder) batchNormalization(l *nn.BatchNormalization, x string) (string, error) {
	name, n := l.Name(), len(l.MovingMean)
	if len(l.MovingVariance) != n || (l.Scale && len(l.Gamma) != n) || (l.Center && len(l.Beta) != n) {
		return "", fmt.Errorf("layer %s: variables of different sizes", name)
	}
	gamma, beta := name+"/gamma", name+"/beta"
	if l.Scale {
		b.floats(gamma, []int{n}, l.Gamma)
	} else {
		gamma = b.floats(name+"/ones", []int{n}, filled(n, 1))
	}
	if l.Center {
		b.floats(beta, []int{n}, l.Beta)
	} else {
		beta = b.floats(name+"/zeros", []int{n}, filled(n, 0))
	}
	mean := b.floats(name+"/moving_mean", []int{n}, l.MovingMean)
	variance := b.floats(name+"/moving_variance", []int{n}, l.MovingVariance)
	return b.node("BatchNormalization", name, []string{x, gamma, beta, mean, variance}, floatAttr("epsilon", l.Epsilon)), nil
}

// normalizationEpsilon is Keras's backend.epsilon(), the smallest divisor
// keras.layers.Normalization uses.
const normalizationEpsilon = 1e-7

// normalization exports keras.layers.Normalization (keras/src/layers/
// preprocessing/normalization.py): (x - mean) / max(sqrt(variance), 1e-7).
func (b *builder) normalization(l *nn.Normalization, x string) (string, error) {
	name, n := l.Name(), len(l.Mean)
	if len(l.Variance) != n {
		return "", fmt.Errorf("layer %s: mean of %d values, variance of %d", name, n, len(l.Variance))
	}
	mean := b.floats(name+"/mean", []int{n}, l.Mean)
	variance := b.floats(name+"/variance", []int{n}, l.Variance)
	sd := b.node("Sqrt", name+"/sqrt", []string{variance})
	div := b.node("Max", name+"/divisor", []string{sd, b.scalar(name+"/epsilon", normalizationEpsilon)})
	centred := b.node("Sub", name+"/sub", []string{x, mean})
	return b.node("Div", name, []string{centred, div}), nil
}

// rescaling exports keras.layers.Rescaling: x * scale + offset.
func (b *builder) rescaling(l *nn.Rescaling, x string) (string, error) {
	name := l.Name()
	if l.Offset == 0 {
		return b.node("Mul", name, []string{x, b.scalar(name+"/scale", l.Scale)}), nil
	}
	y := b.node("Mul", name+"/mul", []string{x, b.scalar(name+"/scale", l.Scale)})
	return b.node("Add", name, []string{y, b.scalar(name+"/offset", l.Offset)}), nil
}

func filled(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// activation applies the Keras activation act to x into the tensor out.
func (b *builder) activation(x, act, out string) (string, error) {
	f, ok := activations[act]
	if !ok {
		return "", fmt.Errorf("layer %s: activation %q has no ONNX export (exported: %s)", out, act, strings.Join(ActivationNames(), ", "))
	}
	return f(b, x, out), nil
}
