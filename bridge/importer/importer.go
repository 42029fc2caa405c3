// Package importer turns the configuration of another alerting tool into
// an alertbridge configuration: Alertmanager's receivers
// (alertmanager.yml), prometheus-webhook-dingtalk's config.yml and
// prometheus-msteams' config.yml. Each source format has its own file.
//
// The contract of Import:
//
//   - It reads only the given file and the files it names (templates; a
//     chat id file), never the network, and never panics on bad input:
//     unreadable files, broken YAML, a configuration the source tool itself
//     would refuse (for Alertmanager: in the parts the importer reads, see
//     amconfig.go), and a file with nothing importable are errors that say
//     what is wrong.
//   - Result.Config is a complete alertbridge configuration (YAML) with one
//     target per source receiver or target that could be carried. Together
//     with Result.Files, written to Options.OutDir, it passes the bridge's
//     check-config once the environment variables of Result.Env are set and
//     the files of Result.FileRefs exist and the keys of Result.Keys,
//     written empty, are filled in.
//   - Secrets of the input (URLs with tokens, signing secrets, passwords)
//     never appear in the output unless Options.IncludeSecrets is set. A
//     secret the input reads from a file stays a *_file reference; an
//     inline one becomes a ${VARIABLE} reference (url, secret) or a *_file
//     reference (http_config), listed in Result.Env or Result.FileRefs
//     with what to put there. A Rocket.Chat token_id, an account's id
//     the bridge takes only as it is (user_id), is the exception: given
//     inline it is written as it is; it is never in the report.
//   - Every part of the input that is not carried (a receiver type the
//     bridge lacks, a field without an equivalent) is listed in
//     Result.Notes with the reason.
package importer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Format names a source configuration format.
type Format string

// The formats Import reads.
const (
	Alertmanager Format = "alertmanager"
	DingTalk     Format = "dingtalk"
	MSTeams      Format = "msteams"
)

// Formats lists the formats in the order --from shows them.
var Formats = []Format{Alertmanager, DingTalk, MSTeams}

// DefaultBridgeURL is the bridge address the Alertmanager snippet uses
// when Options.BridgeURL is empty.
const DefaultBridgeURL = "http://alertbridge:9097"

// Options configure Import.
type Options struct {
	// Format is the source format; empty means detect it from the file.
	Format Format
	// IncludeSecrets writes secrets of the input into the output as they
	// are. Off, they become references (see the package comment).
	IncludeSecrets bool
	// OutDir is the folder the configuration will be written to: paths in
	// it are made relative to this folder where they can be. Empty means
	// the working directory.
	OutDir string
	// BridgeURL is the bridge's address as Alertmanager reaches it, for
	// the webhook_configs of Result.Snippet.
	BridgeURL string
}

// Note kinds.
const (
	// Imported: a source receiver or target became a bridge target.
	Imported = "imported"
	// NotCarried: a receiver, integration or field is not in the output.
	NotCarried = "not carried"
	// Todo: the output needs something from the user (a URL to create, a
	// variable to set) before it works.
	Todo = "to do"
	// Differs: carried, but the bridge behaves differently.
	Differs = "differs"
)

// Note is one line of the import report.
type Note struct {
	// Source names the part of the input, such as
	// `receiver "team-x" slack_configs[0]` or `target "webhook1"`.
	Source string
	// Field is the key within Source the note is about; empty for the
	// whole of it.
	Field string
	// Kind is Imported, NotCarried, Todo or Differs.
	Kind string
	// Target is the bridge target that carries Source, if any.
	Target string
	// Text says what happened and why.
	Text string
}

// EnvVar is an environment variable the output refers to instead of an
// inline secret.
type EnvVar struct {
	Name   string
	Target string
	// Meaning says what the value is, Example gives its shape (never the
	// input's value).
	Meaning string
	Example string
}

// FileRef is a file the output refers to that the import did not write:
// a *_file of the input, or a file to create for an http_config secret.
type FileRef struct {
	Target string
	Key    string
	Path   string
	// Example is a value of the right shape, for tests and the report.
	Example string
	// Create is set when the file does not exist yet and must be created
	// with the input's secret (which the output leaves out).
	Create bool
}

// KeyRef is a key of a target that the output writes empty, for the user
// to fill in: the bridge takes the value only as it is (no ${VARIABLE})
// and the input does not have it.
type KeyRef struct {
	Target string
	Key    string
	// Meaning says what the value is, Example gives its shape.
	Meaning string
	Example string
}

// Result is what Import produced.
type Result struct {
	Format Format
	// Config is the alertbridge configuration, YAML.
	Config []byte
	// Files are further files the configuration needs (template files),
	// by path relative to Options.OutDir.
	Files    map[string][]byte
	Notes    []Note
	Env      []EnvVar
	FileRefs []FileRef
	// Keys are target keys the configuration leaves empty, for values
	// the input does not have in a form the bridge takes (such as a
	// Rocket.Chat room id); check-config refuses them until filled in.
	Keys []KeyRef
	// Snippet is Alertmanager configuration that sends the imported
	// receivers to the bridge (YAML, with comments); empty when the
	// source is not Alertmanager's.
	Snippet string
	// Targets counts the targets in Config.
	Targets int
}

// ErrNothingImported is returned (wrapped) when the input is valid but has
// nothing the bridge can carry; the Result still holds the report.
var ErrNothingImported = errors.New("nothing to import")

// Import reads the configuration file at path and converts it. With
// ErrNothingImported the Result is still returned, for its notes.
func Import(path string, opts Options) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if opts.OutDir == "" {
		opts.OutDir = "."
	}
	if opts.BridgeURL == "" {
		opts.BridgeURL = DefaultBridgeURL
	}
	f := opts.Format
	if f == "" {
		if f, err = Detect(b); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	c := newConv(opts, f)
	switch f {
	case Alertmanager:
		err = c.alertmanager(path)
	case DingTalk:
		err = c.dingtalk(path, b)
	case MSTeams:
		err = c.msteams(path, b)
	default:
		return nil, fmt.Errorf("unknown format %q (want one of alertmanager, dingtalk, msteams)", f)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	res, err := c.result()
	if err != nil {
		return nil, err
	}
	if res.Targets == 0 {
		return res, fmt.Errorf("%s: %w: no receiver or target the bridge can carry", path, ErrNothingImported)
	}
	return res, nil
}

// Detect tells the format from the file's top-level keys: Alertmanager has
// receivers and a route, prometheus-webhook-dingtalk a targets mapping,
// prometheus-msteams connectors. A bridge configuration (a targets list)
// and anything else are errors.
func Detect(b []byte) (Format, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return "", fmt.Errorf("not YAML: %w", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return "", errors.New("not a configuration file: expected a YAML mapping")
	}
	keys := map[string]*yaml.Node{}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		keys[root.Content[i].Value] = root.Content[i+1]
	}
	_, receivers := keys["receivers"]
	_, route := keys["route"]
	_, connectors := keys["connectors"]
	_, custom := keys["connectors_with_custom_templates"]
	targets := keys["targets"]
	switch {
	case receivers || route:
		return Alertmanager, nil
	case connectors || custom:
		return MSTeams, nil
	case targets != nil && targets.Kind == yaml.MappingNode:
		return DingTalk, nil
	case targets != nil && targets.Kind == yaml.SequenceNode:
		return "", errors.New("this is already an alertbridge configuration (targets is a list)")
	}
	return "", errors.New("cannot tell the format (no receivers, route, connectors or targets mapping); name it with --from")
}

// nameRE is what the bridge accepts as a target name.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// targetName turns a source name into a unique, URL-safe target name.
func (c *conv) targetName(parts ...string) string {
	var words []string
	for _, p := range parts {
		if p != "" {
			words = append(words, p)
		}
	}
	s := strings.Join(words, "-")
	s = regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(s, "-")
	s = strings.TrimLeft(s, "_.-")
	if s == "" {
		s = "target"
	}
	name := s
	for i := 2; c.names[name]; i++ {
		name = fmt.Sprintf("%s-%d", s, i)
	}
	c.names[name] = true
	return name
}

// rel makes p relative to the output folder where possible, so the
// configuration can move with the files it names.
func (c *conv) rel(p string) string {
	if p == "" || !filepath.IsAbs(p) {
		return p
	}
	out, err := filepath.Abs(c.opts.OutDir)
	if err != nil {
		return p
	}
	r, err := filepath.Rel(out, p)
	if err != nil || strings.HasPrefix(r, ".."+string(filepath.Separator)+"..") {
		return p
	}
	return filepath.ToSlash(r)
}
