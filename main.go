// Command alertbridge receives Alertmanager webhook notifications and
// delivers them to chat tools and generic webhooks.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	zaplogfmt "github.com/jsternberg/zap-logfmt"
	"github.com/prometheus/common/version"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/alertbridge/alertbridge/bridge"
	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/server"
	"github.com/alertbridge/alertbridge/bridge/store"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	// Release builds set the version with -ldflags; a plain `go build`
	// still reports what the module knows.
	if version.Version == "" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			version.Version = bi.Main.Version
		}
	}
	app := kingpin.New("alertbridge", "Delivers Prometheus Alertmanager notifications to chat tools and webhooks.")
	app.HelpFlag.Short('h')
	app.Version(version.Print("alertbridge"))
	configFile := app.Flag("config.file", "Configuration file path.").Default("alertbridge.yml").String()
	targetFilesPoll := app.Flag("config.target-files-poll-interval", "How often the files target_files names are checked for changes, which reload the configuration; 0 turns the check off (SIGHUP and /-/reload still load them).").Default("5s").Duration()
	listen := app.Flag("web.listen-address", "Address to listen on for the webhook, API and health endpoints.").Default(":9097").String()
	webConfig := app.Flag("web.config.file", "Path to a web configuration file (exporter-toolkit format) that enables TLS or basic authentication.").Default("").String()
	maxBody := app.Flag("web.max-request-bytes", "Largest webhook body accepted; larger ones get 413.").Default("4MiB").Bytes()
	maxAlerts := app.Flag("web.max-alerts", "Most alerts one notification may carry; one with more gets 413 (its alerts are counted, not decoded).").Default(strconv.Itoa(server.DefaultMaxAlerts)).Int()
	decodeBudget := app.Flag("web.decode-budget", "Memory that webhook requests being decoded at once may use, estimated from their sizes; a request beyond it waits up to 2s, then gets 503 with Retry-After. 0 means half the Go memory limit (GOMEMLIMIT, itself 90% of the cgroup memory limit when unset), or 256MiB when there is no limit.").Default("0").Bytes()
	enableAdmin := app.Flag("web.enable-admin-api", "Enable the admin endpoints: dead letter retry and delete, test sends, render with signatures. Off, they answer 403.").Bool()
	enableLifecycle := app.Flag("web.enable-lifecycle", "Enable reload over HTTP (POST /-/reload). SIGHUP reloads either way.").Bool()
	enablePprof := app.Flag("web.enable-pprof", "Enable the Go profiling endpoints under /debug/pprof/.").Bool()
	externalURL := app.Flag("web.external-url", "The URL people reach the bridge at, when it differs from the listen address (behind a reverse proxy, say). The console's links and redirects start with its path, and --web.route-prefix defaults to it.").Default("").String()
	routePrefix := app.Flag("web.route-prefix", "Prefix for every endpoint (webhook, API, health, console). Defaults to the path of --web.external-url.").Default("").String()
	allowedHosts := app.Flag("web.allowed-hosts", "Host names (or host:port) the bridge answers to; others get 421, which defeats DNS rebinding. Repeat the flag or separate with commas. Default: any host. Health and readiness answer any host.").Strings()
	readHeaderTimeout := app.Flag("web.read-header-timeout", "How long a client may take to send a request's headers.").Default(bridge.DefaultReadHeaderTimeout.String()).Duration()
	readTimeout := app.Flag("web.read-timeout", "How long a client may take to send a whole request, body included.").Default(bridge.DefaultReadTimeout.String()).Duration()
	writeTimeout := app.Flag("web.write-timeout", "How long a request may take from the end of its headers to the end of the answer.").Default(bridge.DefaultWriteTimeout.String()).Duration()
	idleTimeout := app.Flag("web.idle-timeout", "How long a keep-alive connection may stay open without a request.").Default(bridge.DefaultIdleTimeout.String()).Duration()
	maxConns := app.Flag("web.max-connections", "Most client connections held open; at the limit, a new connection replaces the oldest idle (or slowest) one.").Default(strconv.Itoa(bridge.DefaultMaxConnections)).Int()
	storage := app.Flag("storage.path", "Folder for the embedded database.").Default("data/").String()
	grace := app.Flag("shutdown.timeout", "How long in-flight deliveries may take to finish on shutdown.").Default("30s").Duration()
	level := app.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").Default("info").Enum("debug", "info", "warn", "error")
	format := app.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").Default("logfmt").Enum("logfmt", "json")
	app.Command("run", "Run the bridge (the default command).").Default()
	checkCmd := app.Command("check-config", "Check configuration files: strict parsing, referenced files, matchers, templates, and every target rendered against sample data.")
	checkFiles := checkCmd.Arg("config-files", "The configuration files to check.").Required().Strings()
	renderCmd := app.Command("render", "Print exactly the body (and headers, to stderr) a target would send, for the built-in sample alerts or a payload file.")
	renderTarget := renderCmd.Flag("target", "Target name.").Required().String()
	var renderPayloadSet bool
	renderPayload := renderCmd.Flag("payload", "Alertmanager webhook payload file; '-' for standard input. Default: built-in sample.").IsSetByUser(&renderPayloadSet).String()
	sendTestCmd := app.Command("send-test", "Ask a running bridge (started with --web.enable-admin-api) to deliver a sample notification to a target (POST /api/v1/targets/{name}/test).")
	sendTestTarget := sendTestCmd.Flag("target", "Target name.").Required().String()
	sendTestURL := sendTestCmd.Flag("bridge.url", "Base URL of the running bridge. Default: --web.listen-address on the loopback address, over HTTPS when --web.config.file sets TLS.").String()
	sendTestToken := sendTestCmd.Flag("bridge.token-file", "File holding the bearer token to send. Default: api.bearer_token (or api.bearer_token_file) of --config.file.").String()
	sendTestTimeout := sendTestCmd.Flag("timeout", "How long to wait for the answer.").Default("10s").Duration()
	storeCmd := app.Command("store", "Inspect or rescue the store under --storage.path (run these while the bridge is stopped).")
	storeCheckCmd := storeCmd.Command("check", "Read the whole store and report what it holds (jobs per state and target, alerts, size) and any damage; exit code 1 on damage, 2 if it cannot be checked.")
	storeCheckJSON := storeCheckCmd.Flag("json", "Print the report as JSON.").Bool()
	storeSalvageCmd := storeCmd.Command("salvage", "Copy every readable job and alert of a damaged store into a new store in --to; then point --storage.path at it.")
	salvageTo := storeSalvageCmd.Flag("to", "Folder for the new store; must be missing or empty.").Required().String()
	healthCmd := app.Command("healthcheck", "Ask the bridge on --web.listen-address for GET /-/healthy (or /-/ready); exit code 0 when it answers 200, 1 otherwise. For container health checks.")
	healthReady := healthCmd.Flag("ready", "Check readiness (/-/ready) instead of liveness (/-/healthy).").Bool()
	healthTimeout := healthCmd.Flag("timeout", "How long to wait for the answer.").Default("5s").Duration()
	importCmd := app.Command("import", "Convert an Alertmanager configuration's receivers, or a prometheus-webhook-dingtalk or prometheus-msteams configuration, into bridge targets; prints the configuration (or writes --out) and reports what was not carried to stderr.")
	var importOpts importOptions
	importCmd.Arg("file", "The configuration file to import.").Required().StringVar(&importOpts.File)
	importCmd.Flag("from", "Its format; detected from the file when left out.").EnumVar(&importOpts.From, "alertmanager", "dingtalk", "msteams")
	importCmd.Flag("out", "Write the configuration to this file, and any template files it needs next to it, instead of standard output.").StringVar(&importOpts.Out)
	importCmd.Flag("include-secrets", "Write the input's secrets (URLs with tokens, signing secrets, passwords) into the output. Default: ${VARIABLE} and *_file references.").BoolVar(&importOpts.IncludeSecrets)
	importCmd.Flag("bridge-url", "The bridge's address as Alertmanager reaches it, for the webhook_configs the report suggests.").Default("http://alertbridge:9097").StringVar(&importOpts.BridgeURL)
	cmd, err := app.Parse(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "alertbridge: %v\n", err)
		return 2
	}
	prefix, err := routePrefixOf(*externalURL, *routePrefix)
	if err != nil {
		fmt.Fprintf(os.Stderr, "alertbridge: %v\n", err)
		return 2
	}
	switch cmd {
	case checkCmd.FullCommand():
		return checkConfig(os.Stdout, *checkFiles, *webConfig)
	case importCmd.FullCommand():
		return runImport(os.Stdout, os.Stderr, importOpts)
	case renderCmd.FullCommand():
		payload := *renderPayload
		if renderPayloadSet && payload == "" {
			// The flag parser reads "--payload -" as the flag with an empty
			// value; "-" is the only way to get there.
			payload = "-"
		}
		return render(os.Stdout, os.Stderr, *configFile, *renderTarget, payload)
	case sendTestCmd.FullCommand():
		return sendTest(os.Stdout, os.Stderr, sendTestOptions{
			URL: *sendTestURL, Listen: *listen, WebConfigFile: *webConfig, RoutePrefix: prefix,
			TokenFile: *sendTestToken, ConfigFile: *configFile, Target: *sendTestTarget, Timeout: *sendTestTimeout,
		})
	case storeCheckCmd.FullCommand():
		return storeCheck(os.Stdout, *storage, *storeCheckJSON)
	case storeSalvageCmd.FullCommand():
		return storeSalvage(os.Stdout, *storage, *salvageTo)
	case healthCmd.FullCommand():
		return healthcheckAt(os.Stdout, *listen, *webConfig, prefix, *healthReady, *healthTimeout)
	}
	log, err := newLogger(*level, *format)
	if err != nil {
		fmt.Fprintf(os.Stderr, "alertbridge: %v\n", err)
		return 2
	}
	defer log.Sync() //nolint:errcheck

	log.Info("starting alertbridge", zap.String("version", version.Version), zap.String("build", version.BuildContext()))
	setMemoryLimit(log)
	setGCPercent(log)
	b, err := bridge.New(bridge.Options{
		ConfigFile:              *configFile,
		TargetFilesPollInterval: pollInterval(*targetFilesPoll),
		StoragePath:             *storage,
		MaxBodyBytes:            int64(*maxBody),
		MaxAlerts:               *maxAlerts,
		DecodeBudget:            int64(*decodeBudget),
		WebConfigFile:           *webConfig,
		Logger:                  log,
		Version:                 version.Version,

		EnableAdminAPI:    *enableAdmin,
		EnableLifecycle:   *enableLifecycle,
		EnablePprof:       *enablePprof,
		AllowedHosts:      splitList(*allowedHosts),
		ReadHeaderTimeout: *readHeaderTimeout,
		ReadTimeout:       *readTimeout,
		WriteTimeout:      *writeTimeout,
		IdleTimeout:       *idleTimeout,
		MaxConnections:    *maxConns,
		RoutePrefix:       prefix,
		ExternalURL:       *externalURL,
	})
	if err != nil {
		log.Error("cannot start", zap.Error(err))
		return 1
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Error("cannot listen", zap.Error(err))
		_ = b.Close(context.Background())
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			_ = b.Reload() // Reload logs its own outcome
		}
	}()
	if err := b.Serve(ctx, l, *grace); err != nil {
		log.Error("stopped with error", zap.Error(err))
		return 1
	}
	log.Info("stopped")
	return 0
}

// checkConfig prints a verdict per file, as promtool does, and returns the
// exit code: 0 when every file passes, 1 otherwise. webConfigFile is the
// --web.config.file the bridge would be started with (empty for none).
func checkConfig(w io.Writer, files []string, webConfigFile string) int {
	code := 0
	for _, f := range files {
		fmt.Fprintf(w, "Checking %s\n", f)
		errs := bridge.CheckConfigWithWeb(f, webConfigFile)
		if len(errs) == 0 {
			fmt.Fprintln(w, "  SUCCESS")
			continue
		}
		code = 1
		fmt.Fprintln(w, "  FAILED:")
		for _, err := range errs {
			for _, line := range strings.Split(err.Error(), "\n") {
				fmt.Fprintf(w, "    %s\n", line)
			}
		}
	}
	return code
}

// render prints the bodies a target would send to out, one per request,
// and each request's headers to diag. The URL is never printed.
func render(out, diag io.Writer, configFile, target, payloadFile string) int {
	var payload io.Reader
	switch payloadFile {
	case "":
	case "-":
		payload = os.Stdin
	default:
		f, err := os.Open(payloadFile)
		if err != nil {
			fmt.Fprintf(diag, "alertbridge: %v\n", err)
			return 1
		}
		defer f.Close()
		payload = f
	}
	reqs, err := bridge.Render(configFile, target, payload)
	if err != nil {
		fmt.Fprintf(diag, "alertbridge: %v\n", err)
		return 1
	}
	for i, req := range reqs {
		fmt.Fprintf(diag, "# request %d of %d: %s %s\n", i+1, len(reqs), req.Method, notify.RedactURL(req.URL))
		for _, k := range slices.Sorted(maps.Keys(req.Header)) {
			fmt.Fprintf(diag, "# %s: %s\n", k, strings.Join(req.Header[k], ", "))
		}
		if i > 0 {
			fmt.Fprintln(out) // separates bodies; a single body is printed byte for byte
		}
		out.Write(req.Body)
	}
	return 0
}

// storeCheck prints what the store in dir holds and any damage; exit code
// 1 when damaged, 2 when it could not be checked (no store there, or one
// a running bridge holds).
func storeCheck(out io.Writer, dir string, asJSON bool) int {
	rep, err := store.Check(dir)
	if err != nil {
		fmt.Fprintf(out, "alertbridge: %v\n", err)
		return 2
	}
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		fmt.Fprintf(out, "store %s (%.1f MiB on disk)\n", rep.Dir, float64(rep.Bytes)/(1<<20))
		for _, state := range []string{store.StatePending, store.StateDead, store.StateDelivered} {
			total := 0
			for _, n := range rep.Jobs[state] {
				total += n
			}
			fmt.Fprintf(out, "  %-10s %d", state, total)
			for _, target := range slices.Sorted(maps.Keys(rep.Jobs[state])) {
				fmt.Fprintf(out, "  %s=%d", target, rep.Jobs[state][target])
			}
			fmt.Fprintln(out)
		}
		fmt.Fprintf(out, "  alerts     %d\n  dedup keys %d\n", rep.Alerts, rep.DedupKeys)
		if rep.Damaged() {
			fmt.Fprintln(out, "DAMAGED:")
			for _, p := range rep.Problems {
				fmt.Fprintf(out, "  %s\n", p)
			}
			fmt.Fprintf(out, "Copy what is readable into a new store with: alertbridge store salvage --storage.path=%s --to=NEW_FOLDER\n", dir)
		} else {
			fmt.Fprintln(out, "OK: no damage found")
		}
	}
	if rep.Damaged() {
		return 1
	}
	return 0
}

// storeSalvage copies what is readable of the store in from into a new
// store in to.
func storeSalvage(out io.Writer, from, to string) int {
	rep, err := store.Salvage(from, to)
	if err != nil {
		fmt.Fprintf(out, "alertbridge: %v\n", err)
		return 1
	}
	fmt.Fprintf(out, "salvaged into %s: pending %d, dead %d, delivered %d, alerts %d; %d jobs lost (payload unreadable)\n",
		to, rep.Jobs[store.StatePending], rep.Jobs[store.StateDead], rep.Jobs[store.StateDelivered], rep.Alerts, rep.Lost)
	for _, p := range rep.Problems {
		fmt.Fprintf(out, "  %s\n", p)
	}
	fmt.Fprintf(out, "Start the bridge with --storage.path=%s\n", to)
	return 0
}

// splitList splits repeated, comma-separated flag values.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
	}
	return out
}

func newLogger(level, format string) (*zap.Logger, error) {
	var lvl zapcore.Level
	if err := lvl.Set(level); err != nil {
		return nil, err
	}
	ec := zap.NewProductionEncoderConfig()
	ec.TimeKey = "ts"
	ec.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	ec.MessageKey = "msg"
	var enc zapcore.Encoder
	if format == "json" {
		enc = zapcore.NewJSONEncoder(ec)
	} else {
		enc = zaplogfmt.NewEncoder(ec)
	}
	core := zapcore.NewCore(enc, zapcore.Lock(os.Stderr), lvl)
	return zap.New(core, zap.AddCaller()), nil
}

// pollInterval maps --config.target-files-poll-interval to
// Options.TargetFilesPollInterval, where 0 means the default and a
// negative value no polling.
func pollInterval(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}
