package importer

import (
	"fmt"
	"io"
	"strings"
)

// WriteReport prints the import report for people: what became which
// target, what was not carried and why, what the user must still do
// (variables, files), and the Alertmanager snippet. It never prints a
// secret: notes, variables and files carry names and shapes only.
func (r *Result) WriteReport(w io.Writer) {
	fmt.Fprintf(w, "# import report (%s): %d target(s)\n", r.Format, r.Targets)
	for _, n := range r.Notes {
		where := n.Source
		if n.Field != "" {
			where += " " + n.Field
		}
		line := fmt.Sprintf("%-11s %s", n.Kind+":", where)
		if n.Target != "" && n.Kind == Imported {
			line += " -> target " + n.Target
		}
		fmt.Fprintf(w, "%s: %s\n", line, n.Text)
	}
	if len(r.Env) > 0 {
		fmt.Fprintln(w, "\n# environment variables the configuration refers to:")
		for _, e := range r.Env {
			fmt.Fprintf(w, "%s  # %s, for example %s\n", e.Name, e.Meaning, e.Example)
		}
	}
	if len(r.Keys) > 0 {
		fmt.Fprintln(w, "\n# keys the configuration leaves empty, to fill in:")
		for _, k := range r.Keys {
			fmt.Fprintf(w, "%s of target %s  # %s, for example %s\n", k.Key, k.Target, k.Meaning, k.Example)
		}
	}
	var create []string
	for _, f := range r.FileRefs {
		if f.Create {
			create = append(create, fmt.Sprintf("%s  # %s of target %s", f.Path, f.Key, f.Target))
		}
	}
	if len(create) > 0 {
		fmt.Fprintln(w, "\n# files to create (the secrets were left out):")
		fmt.Fprintln(w, strings.Join(create, "\n"))
	}
	if r.Snippet != "" {
		fmt.Fprintln(w, "\n# Alertmanager: replace these receivers' integrations with the bridge")
		fmt.Fprint(w, r.Snippet)
	}
}
