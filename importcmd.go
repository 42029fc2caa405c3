package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/alertbridge/alertbridge/bridge/importer"
)

// importOptions are the flags of `alertbridge import`.
type importOptions struct {
	File, From, Out, BridgeURL string
	IncludeSecrets             bool
}

// runImport converts another tool's configuration, writes the bridge
// configuration to out (or --out, with any template files next to it) and
// the report to diag. Exit code 0: imported (the report lists what was
// not carried); 1: the input cannot be imported or the output not written.
func runImport(out, diag io.Writer, o importOptions) int {
	outDir := "."
	if o.Out != "" {
		outDir = filepath.Dir(o.Out)
	}
	res, err := importer.Import(o.File, importer.Options{
		Format: importer.Format(o.From), IncludeSecrets: o.IncludeSecrets, OutDir: outDir, BridgeURL: o.BridgeURL,
	})
	if res != nil {
		res.WriteReport(diag)
	}
	if err != nil {
		fmt.Fprintf(diag, "alertbridge: %v\n", err)
		return 1
	}
	if o.Out == "" {
		out.Write(res.Config)
		for name := range res.Files {
			fmt.Fprintf(diag, "alertbridge: the configuration needs %s; run with --out FILE to write it\n", name)
		}
		return 0
	}
	if err := writeFile(o.Out, res.Config); err != nil {
		fmt.Fprintf(diag, "alertbridge: %v\n", err)
		return 1
	}
	for name, b := range res.Files {
		if err := writeFile(filepath.Join(outDir, name), b); err != nil {
			fmt.Fprintf(diag, "alertbridge: %v\n", err)
			return 1
		}
	}
	return 0
}

// writeFile writes b to path, readable by its owner only when it may
// carry secrets.
func writeFile(path string, b []byte) error {
	return os.WriteFile(path, b, 0o600)
}
