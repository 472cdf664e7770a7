package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/config"
	"github.com/dualread/dualread/adapter/modes"
	"github.com/dualread/dualread/adapter/server"
)

// serveConfig is everything `dualread serve` is told on its command line.
type serveConfig struct {
	configFile       string
	listen           string
	backend          string
	bigtableProject  string
	bigtableInstance string
	spannerDatabase  string
	routes           []adapter.Route
	region           string
	auth             string
	credentials      string
	logLevel         string
	logFormat        string
	shutdownTimeout  time.Duration
	shadow           shadowFlags
	adminListen      string
	accessInflux     string
	accessDB         string
	serviceHeader    string
	modeRules        []modes.Rule
}

// opener builds the adapter; tests swap it to avoid a real backend.
type opener func(ctx context.Context, cfg adapter.Config) (*adapter.Adapter, error)

func newServeCmd() *cobra.Command {
	var c serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the DynamoDB API",
		Long: "Serve DynamoDB's JSON protocol on --listen. Point any AWS SDK or the AWS CLI at it\n" +
			"with an endpoint URL, e.g. aws --endpoint-url http://127.0.0.1:8000 dynamodb list-tables.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rc, err := resolveConfig(c, cmd.Flags().Changed, os.Getenv)
			if err != nil {
				return err
			}
			return runServe(cmd.Context(), rc, cmd.OutOrStdout(), cmd.ErrOrStderr(), openBackend)
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.configFile, "config", "", "dualread.yaml: backends and per-table routing (see docs/configuration.md); DUALREAD_* variables override it, flags override both")
	f.StringVar(&c.listen, "listen", "127.0.0.1:8000", "address to serve the DynamoDB API on")
	f.StringVar(&c.backend, "backend", adapter.BackendEmbedded, "home store backend: embedded (in-process Bigtable emulator, data lost on exit), bigtable or spanner")
	f.StringVar(&c.spannerDatabase, "spanner-database", "", "Spanner database projects/P/instances/I/databases/D (--backend spanner, or tables routed there); SPANNER_EMULATOR_HOST selects an emulator")
	f.StringVar(&c.bigtableProject, "bigtable-project", "", "Google Cloud project of the Bigtable instance (--backend bigtable)")
	f.StringVar(&c.bigtableInstance, "bigtable-instance", "", "Bigtable instance id (--backend bigtable); BIGTABLE_EMULATOR_HOST selects an emulator")
	f.StringVar(&c.region, "region", "us-east-1", "AWS region this endpoint answers as (ARNs, health text, SigV4 scope under --auth verify)")
	f.StringVar(&c.auth, "auth", string(server.AuthIdentify), "request authentication: none, identify (caller from the SigV4 access key id, unchecked) or verify (full SigV4 against --credentials)")
	f.StringVar(&c.credentials, "credentials", "", "YAML or JSON file mapping access key id to {secret, service}; required by --auth verify")
	f.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&c.logFormat, "log-format", "json", "log format: json or text")
	f.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long to let in-flight requests finish on SIGINT/SIGTERM")
	c.shadow.register(f)
	f.StringVar(&c.accessInflux, "access-influx", "", "InfluxDB 1.8 URL for the access-pattern audit (service, table, operation counts; 24 h retention)")
	f.StringVar(&c.accessDB, "access-db", "dualread", "InfluxDB database of the access-pattern audit (must exist)")
	f.StringVar(&c.serviceHeader, "service-header", "", "request header naming the calling service (e.g. X-Dualread-Service) for the access audit and shadow records, used when --credentials does not map the SigV4 access key to a service; empty: none")
	f.StringVar(&c.adminListen, "admin-listen", "", "address of the admin API (modes, shadow metrics, health); empty: none. Never expose it beyond the operators' network")
	return cmd
}

// runServe serves until ctx is cancelled, then shuts down gracefully.
func runServe(ctx context.Context, c serveConfig, stdout, stderr io.Writer, open opener) error {
	log, err := newLogger(stderr, c.logLevel, c.logFormat)
	if err != nil {
		return err
	}
	// Check every flag before opening the backend, which may take a while.
	mode, err := server.ParseAuthMode(c.auth)
	if err != nil {
		return fmt.Errorf("--auth: %w", err)
	}
	opts := server.Options{Auth: mode, Region: c.region, Logger: log, ServiceHeader: c.serviceHeader}
	if c.credentials != "" {
		if opts.Credentials, err = server.LoadCredentials(c.credentials); err != nil {
			return fmt.Errorf("--credentials: %w", err)
		}
		log.Info("credentials loaded", "file", c.credentials, "access_key_ids", opts.Credentials.KeyIDs())
	}
	if mode == server.AuthVerify && opts.Credentials == nil {
		return errors.New("--auth verify needs --credentials FILE")
	}

	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return err
	}
	defer ln.Close()

	sh, err := c.shadow.setup(ctx, log)
	if err != nil {
		return err
	}
	var shadowCfg *adapter.ShadowConfig
	if sh != nil {
		shadowCfg = sh.cfg
	}
	set, err := modes.NewSet(c.modeRules)
	if err != nil {
		return err
	}
	var forward modes.Forwarder
	if sh != nil {
		forward = sh.cfg.Caller
	}
	counter, stopAccess, err := startAccessAudit(ctx, c, log)
	if err != nil {
		return err
	}
	defer stopAccess()
	ad, err := open(ctx, adapter.Config{
		Access:           counter,
		Shadow:           shadowCfg,
		Modes:            set,
		DynamoDB:         forward,
		Backend:          c.backend,
		BigtableProject:  c.bigtableProject,
		BigtableInstance: c.bigtableInstance,
		SpannerDatabase:  c.spannerDatabase,
		Routes:           c.routes,
		Region:           c.region,
		Server:           opts,
		Logger:           log,
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := ad.Close(); err != nil {
			log.Error("closing backend", "error", err)
		}
		if sh != nil && sh.close != nil {
			cctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
			defer cancel()
			if err := sh.close(cctx); err != nil {
				log.Error("closing audit", "error", err)
			}
		}
	}()
	// Admin overrides naming a backend must name the table's own.
	set.SetPlacement(ad.BackendFor)
	var metrics []func(io.Writer)
	if sh != nil {
		if err := sh.start(ad); err != nil {
			return err
		}
		if sh.metrics != nil {
			metrics = append(metrics, sh.metrics)
		}
		log.Info("shadow reads on", "endpoint", c.shadow.endpoint, "sample", c.shadow.sample, "audit", c.shadow.audit)
	}

	if c.adminListen != "" {
		stopAdmin, err := startAdmin(c.adminListen, ad, log, metrics...)
		if err != nil {
			return err
		}
		defer stopAdmin()
	}
	stopReload := reloadOnHangup(ctx, c, set, log)
	defer stopReload()

	srv := &http.Server{
		Handler:           ad.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// No WriteTimeout: a Scan page may legitimately take long on a slow
		// backend, and requests end with their own context on shutdown.
	}
	addr := "http://" + ln.Addr().String()
	log.Info("serving", "address", addr, "backend", c.backend, "auth", string(mode), "version", buildVersion())
	fmt.Fprintf(stdout, "dualread %s serving the DynamoDB API on %s (backend %s, auth %s)\n",
		buildVersion(), addr, c.backend, mode)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", c.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// reloadOnHangup re-reads the config file on SIGHUP and swaps the tables'
// migration modes. Backends and table placement are fixed at start: a
// changed route applies to tables created after a restart.
func reloadOnHangup(ctx context.Context, c serveConfig, set *modes.Set, log *slog.Logger) func() {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case <-hup:
				f, err := config.Load(c.configFile, os.Getenv, nil)
				if err != nil {
					log.Error("config reload failed; keeping the running modes", "error", err)
					continue
				}
				if err := set.Replace(f.ModeRules(c.shadow.baseMode())); err != nil {
					log.Error("config reload failed; keeping the running modes", "error", err)
					continue
				}
				log.Info("config reloaded", "file", c.configFile)
			}
		}
	}()
	return func() { signal.Stop(hup); close(done) }
}
