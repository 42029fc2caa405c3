// Command alertbridge receives Alertmanager webhook notifications and
// delivers them to chat tools and generic webhooks.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/alecthomas/kingpin/v2"
	zaplogfmt "github.com/jsternberg/zap-logfmt"
	"github.com/prometheus/common/version"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/alertbridge/alertbridge/bridge"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	app := kingpin.New("alertbridge", "Delivers Prometheus Alertmanager notifications to chat tools and webhooks.")
	app.HelpFlag.Short('h')
	app.Version(version.Print("alertbridge"))
	configFile := app.Flag("config.file", "Configuration file path.").Default("alertbridge.yml").String()
	listen := app.Flag("web.listen-address", "Address to listen on for the webhook, API and health endpoints.").Default(":9097").String()
	maxBody := app.Flag("web.max-request-bytes", "Largest webhook body accepted; larger ones get 413.").Default("4MiB").Bytes()
	storage := app.Flag("storage.path", "Folder for the embedded database.").Default("data/").String()
	grace := app.Flag("shutdown.timeout", "How long in-flight deliveries may take to finish on shutdown.").Default("30s").Duration()
	level := app.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").Default("info").Enum("debug", "info", "warn", "error")
	format := app.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").Default("logfmt").Enum("logfmt", "json")
	app.Command("run", "Run the bridge (the default command).").Default()
	checkCmd := app.Command("check-config", "Check configuration files: strict parsing, referenced files, matchers, templates, and every target rendered against sample data.")
	checkFiles := checkCmd.Arg("config-files", "The configuration files to check.").Required().Strings()
	cmd, err := app.Parse(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "alertbridge: %v\n", err)
		return 2
	}
	if cmd == checkCmd.FullCommand() {
		return checkConfig(os.Stdout, *checkFiles)
	}
	log, err := newLogger(*level, *format)
	if err != nil {
		fmt.Fprintf(os.Stderr, "alertbridge: %v\n", err)
		return 2
	}
	defer log.Sync() //nolint:errcheck

	log.Info("starting alertbridge", zap.String("version", version.Version), zap.String("build", version.BuildContext()))
	b, err := bridge.New(bridge.Options{
		ConfigFile:   *configFile,
		StoragePath:  *storage,
		MaxBodyBytes: int64(*maxBody),
		Logger:       log,
		Version:      version.Version,
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
// exit code: 0 when every file passes, 1 otherwise.
func checkConfig(w io.Writer, files []string) int {
	code := 0
	for _, f := range files {
		fmt.Fprintf(w, "Checking %s\n", f)
		errs := bridge.CheckConfig(f)
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
