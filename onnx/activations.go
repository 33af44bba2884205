package onnx

import (
	"maps"
	"math"
	"slices"

	"github.com/cifarnet/cifarnet/onnx/onnxpb"
)

// An activation exporter adds the nodes computing the activation of the
// tensor x and names its result out.
type activationExporter func(b *builder, x, out string) string

// activations maps each Keras 3 activation name to its ONNX form: the
// operator of the same definition where opset 17 has one, else the exact
// composition of Keras's formula (keras/src/activations/activations.py).
var activations = map[string]activationExporter{
	"linear":   op("Identity"),
	"elu":      op("Elu", floatAttr("alpha", 1)), // x > 0 ? x : alpha*(exp(x)-1), alpha = 1
	"relu":     op("Relu"),
	"tanh":     op("Tanh"),
	"sigmoid":  op("Sigmoid"),
	"softmax":  op("Softmax", intAttr("axis", -1)),
	"softplus": op("Softplus"), // log(exp(x) + 1)
	"softsign": op("Softsign"), // x / (|x| + 1)
	// Keras: ops.selu, scale*elu(x, alpha) with the constants of Klambauer
	// et al. (2017).
	"selu":        op("Selu", floatAttr("alpha", 1.6732632423543772), floatAttr("gamma", 1.0507009873554805)),
	"exponential": op("Exp"),
	"log_softmax": op("LogSoftmax", intAttr("axis", -1)),
	"leaky_relu":  op("LeakyRelu", floatAttr("alpha", 0.2)), // Keras's default negative_slope
	// relu6(x + 3) / 6 = clip(x/6 + 1/2, 0, 1).
	"hard_sigmoid": op("HardSigmoid", floatAttr("alpha", 1.0/6), floatAttr("beta", 0.5)),
	// x * relu6(x + 3) / 6, ONNX's HardSwish with the same constants.
	"hard_silu":  op("HardSwish"),
	"hard_swish": op("HardSwish"),
	"relu6":      relu6,
	"silu":       silu,
	"swish":      silu,
	"gelu":       gelu,
	"gelu_tanh":  geluTanh,
	"mish":       mish,
}

// op exports an activation that is one ONNX operator.
func op(name string, attrs ...*onnxpb.AttributeProto) activationExporter {
	return func(b *builder, x, out string) string { return b.node(name, out, []string{x}, attrs...) }
}

// relu6 is min(max(x, 0), 6): Clip with its bounds as inputs (opset 11+).
func relu6(b *builder, x, out string) string {
	return b.node("Clip", out, []string{x, b.scalar(out+"/min", 0), b.scalar(out+"/max", 6)})
}

// silu (swish) is x * sigmoid(x).
func silu(b *builder, x, out string) string {
	s := b.node("Sigmoid", out+"/sigmoid", []string{x})
	return b.node("Mul", out, []string{x, s})
}

// gelu is Keras's default, exact form: 0.5 * x * (1 + erf(x / sqrt(2)))
// (opset 20's Gelu is later than the opset written).
func gelu(b *builder, x, out string) string {
	d := b.node("Div", out+"/div", []string{x, b.scalar(out+"/sqrt2", float32(math.Sqrt2))})
	e := b.node("Erf", out+"/erf", []string{d})
	one := b.node("Add", out+"/add", []string{e, b.scalar(out+"/one", 1)})
	xm := b.node("Mul", out+"/mul", []string{x, one})
	return b.node("Mul", out, []string{xm, b.scalar(out+"/half", 0.5)})
}

// geluTanh is gelu(x, approximate=True):
// 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x³))).
func geluTanh(b *builder, x, out string) string {
	x2 := b.node("Mul", out+"/x2", []string{x, x})
	x3 := b.node("Mul", out+"/x3", []string{x2, x})
	c3 := b.node("Mul", out+"/c3", []string{x3, b.scalar(out+"/k", 0.044715)})
	in := b.node("Add", out+"/in", []string{x, c3})
	sc := b.node("Mul", out+"/scaled", []string{in, b.scalar(out+"/c", float32(math.Sqrt(2/math.Pi)))})
	t := b.node("Tanh", out+"/tanh", []string{sc})
	one := b.node("Add", out+"/add", []string{t, b.scalar(out+"/one", 1)})
	xm := b.node("Mul", out+"/mul", []string{x, one})
	return b.node("Mul", out, []string{xm, b.scalar(out+"/half", 0.5)})
}

// mish is x * tanh(softplus(x)) (opset 18's Mish is later than the opset
// written).
func mish(b *builder, x, out string) string {
	sp := b.node("Softplus", out+"/softplus", []string{x})
	t := b.node("Tanh", out+"/tanh", []string{sp})
	return b.node("Mul", out, []string{x, t})
}

// ActivationNames lists the Keras activations the exporter writes.
func ActivationNames() []string { return slices.Sorted(maps.Keys(activations)) }
