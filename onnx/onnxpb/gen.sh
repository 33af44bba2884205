#!/bin/sh
# Regenerates onnx.pb.go from onnx.proto (go generate ./onnx/onnxpb).
# Needs protoc (Debian: protobuf-compiler); protoc-gen-go is built from the
# google.golang.org/protobuf version go.mod pins, so the generator always
# matches the runtime library.
set -eu
cd "$(dirname "$0")"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
protoc --plugin=protoc-gen-go="$bin/protoc-gen-go" \
  --go_out=. --go_opt=paths=source_relative \
  --go_opt=Monnx.proto=github.com/cifarnet/cifarnet/onnx/onnxpb \
  onnx.proto
