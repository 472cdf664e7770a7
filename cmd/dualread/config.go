package main

import (
	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/config"
)

// resolveConfig merges the config file, the environment and the flags that
// were set explicitly (changed), in that order of precedence, and validates
// the result before anything is opened.
func resolveConfig(c serveConfig, changed func(string) bool, getenv func(string) string) (serveConfig, error) {
	flag := func(name string, dst *string, v string) {
		if changed(name) {
			*dst = v
		}
	}
	f, err := config.Load(c.configFile, getenv, func(f *config.File) {
		flag("listen", &f.Listen, c.listen)
		flag("region", &f.Region, c.region)
		flag("auth", &f.Auth, c.auth)
		flag("credentials", &f.Credentials, c.credentials)
		flag("bigtable-project", &f.Backends.Bigtable.Project, c.bigtableProject)
		flag("bigtable-instance", &f.Backends.Bigtable.Instance, c.bigtableInstance)
		flag("spanner-database", &f.Backends.Spanner.Database, c.spannerDatabase)
		if changed("backend") {
			f.SetStore(config.DefaultTable, c.backend)
		}
	})
	if err != nil {
		return c, err
	}
	keep := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	keep(&c.listen, f.Listen)
	keep(&c.region, f.Region)
	keep(&c.auth, f.Auth)
	keep(&c.credentials, f.Credentials)
	var ac adapter.Config
	f.Apply(&ac)
	c.modeRules = f.ModeRules(c.shadow.baseMode())
	c.backend, c.routes = ac.Backend, ac.Routes
	c.bigtableProject, c.bigtableInstance, c.spannerDatabase = ac.BigtableProject, ac.BigtableInstance, ac.SpannerDatabase
	return c, nil
}
