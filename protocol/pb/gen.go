// Package pb holds the generated protobuf types of hiso's wire protocol.
// Only package protocol uses them; everything else sees protocol's own types.
package pb

// protoc comes from Debian's protobuf-compiler; protoc-gen-go from
// `go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.11`.
//go:generate protoc --go_out=. --go_opt=paths=source_relative chat.proto request.proto file.proto mailbox.proto
