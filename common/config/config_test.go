package config_test

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"switchyard/common/config"
)

// env returns a getenv that reads only vars.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestDefaults(t *testing.T) {
	c, err := config.Load(nil, env(nil))
	if err != nil {
		t.Fatalf("Load with nothing set: %v", err)
	}
	want := map[string][2]any{
		"Port":                {c.Port, 3000},
		"Host":                {c.Host, ""},
		"SQLDSN":              {c.SQLDSN, ""},
		"LogSQLDSN":           {c.LogSQLDSN, ""},
		"SQLitePath":          {c.SQLitePath, "switchyard.db"},
		"SQLMaxIdleConns":     {c.SQLMaxIdleConns, 100},
		"SQLMaxOpenConns":     {c.SQLMaxOpenConns, 1000},
		"SQLMaxLifetime":      {c.SQLMaxLifetime, 60 * time.Second},
		"RedisConnString":     {c.RedisConnString, ""},
		"RedisKeyPrefix":      {c.RedisKeyPrefix, "switchyard:"},
		"SyncFrequency":       {c.SyncFrequency, 600 * time.Second},
		"NodeType":            {c.NodeType, "master"},
		"InitialRootPassword": {c.InitialRootPassword, ""},
		"BcryptCost":          {c.BcryptCost, 10},
		"GlobalAPIRateLimit":  {c.GlobalAPIRateLimit, 480},
		"GlobalWebRateLimit":  {c.GlobalWebRateLimit, 240},
		"CriticalRateLimit":   {c.CriticalRateLimit, 20},
		"RelayTimeout":        {c.RelayTimeout, 300 * time.Second},
		"StreamIdleTimeout":   {c.StreamIdleTimeout, 120 * time.Second},
		"ServerReadTimeout":   {c.ServerReadTimeout, 60 * time.Second},
		"ServerIdleTimeout":   {c.ServerIdleTimeout, 120 * time.Second},
		"ServerWriteTimeout":  {c.ServerWriteTimeout, 60 * time.Second},
		"SQLStatementTimeout": {c.SQLStatementTimeout, 30 * time.Second},
		"MaxRequestBodyMB":    {c.MaxRequestBodyMB, 32},
		"MetricsEnabled":      {c.MetricsEnabled, false},
		"TurnstileVerifyURL":  {c.TurnstileVerifyURL, "https://challenges.cloudflare.com/turnstile/v0/siteverify"},
		"GitHubURL":           {c.GitHubURL, "https://github.com"},
		"GitHubAPIURL":        {c.GitHubAPIURL, "https://api.github.com"},
		"LarkURL":             {c.LarkURL, "https://open.feishu.cn"},
		"LarkPassportURL":     {c.LarkPassportURL, "https://passport.feishu.cn"},
		"ShutdownTimeout":     {c.ShutdownTimeout, 30 * time.Second},
		"Debug":               {c.Debug, false},
		"TrustedProxies":      {len(c.TrustedProxies), 0},
		"IsMaster":            {c.IsMaster(), true},
	}
	for name, gw := range want {
		if !reflect.DeepEqual(gw[0], gw[1]) {
			t.Errorf("%s = %v, want %v", name, gw[0], gw[1])
		}
	}
	// No SESSION_SECRET: a random one, and it says so.
	if !c.SessionSecretRandom || len(c.SessionSecret) < 32 {
		t.Errorf("random session secret: %q random=%v", c.SessionSecret, c.SessionSecretRandom)
	}
	c2, _ := config.Load(nil, env(nil))
	if c2.SessionSecret == c.SessionSecret {
		t.Error("two loads made the same random session secret")
	}
}

func TestValuesFromEnv(t *testing.T) {
	c, err := config.Load(nil, env(map[string]string{
		"PORT":                  " 8080 ",
		"SQL_DSN":               "postgres://u:p@db:5432/yard",
		"LOG_SQL_DSN":           "u:p@tcp(logs:3306)/logs",
		"SESSION_SECRET":        "s3cret",
		"NODE_TYPE":             "slave",
		"INITIAL_ROOT_PASSWORD": "  spaces kept  ",
		"TRUSTED_PROXIES":       "10.0.0.1, 192.168.7.9/16,::1,",
		"GLOBAL_API_RATE_LIMIT": "0",
		"METRICS_ENABLED":       "true",
		"SHUTDOWN_TIMEOUT":      "0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8080 || c.SQLDSN != "postgres://u:p@db:5432/yard" || c.LogSQLDSN != "u:p@tcp(logs:3306)/logs" ||
		c.SessionSecret != "s3cret" || c.SessionSecretRandom || c.IsMaster() || c.GlobalAPIRateLimit != 0 ||
		!c.MetricsEnabled || c.ShutdownTimeout != 0 {
		t.Fatalf("config = %+v", c)
	}
	// A password is taken byte for byte: spaces may be part of it.
	if c.InitialRootPassword != "  spaces kept  " {
		t.Fatalf("INITIAL_ROOT_PASSWORD = %q", c.InitialRootPassword)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32"), netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("::1/128")}
	if !reflect.DeepEqual(c.TrustedProxies, want) {
		t.Fatalf("TrustedProxies = %v, want %v", c.TrustedProxies, want)
	}
}

func TestFlagsBeatEnv(t *testing.T) {
	vars := env(map[string]string{"PORT": "5000"})
	for _, args := range [][]string{{"--port", "4000"}, {"--port=4000"}, {"-port", "4000"}} {
		c, err := config.Load(args, vars)
		if err != nil || c.Port != 4000 {
			t.Fatalf("%v: port %d, err %v", args, c.Port, err)
		}
	}
	for _, tc := range []struct {
		args []string
		env  string
		want string
	}{
		{nil, "", ""},
		{nil, "127.0.0.1", "127.0.0.1"},
		{[]string{"--host", "::1"}, "0.0.0.0", "::1"},
		{[]string{"--host=localhost"}, "", "localhost"},
	} {
		c, err := config.Load(tc.args, env(map[string]string{"HOST": tc.env}))
		if err != nil || c.Host != tc.want {
			t.Fatalf("%v with HOST=%q: host %q, err %v; want %q", tc.args, tc.env, c.Host, err, tc.want)
		}
	}
	c, err := config.Load([]string{"--log-dir", "./logs"}, vars)
	if err != nil || c.Port != 5000 {
		t.Fatalf("--log-dir (accepted for One API): port %d, err %v", c.Port, err)
	}
	if _, err := config.Load([]string{"--no-such-flag"}, vars); err == nil {
		t.Fatal("an unknown flag was accepted")
	}
	if _, err := config.Load([]string{"--port", "http"}, vars); err == nil || !strings.Contains(err.Error(), "PORT") {
		t.Fatalf("bad --port: err %v, want it to name PORT", err)
	}
}

func TestInvalidValuesNameTheirVariable(t *testing.T) {
	cases := []struct{ name, value string }{
		{"PORT", "http"},
		{"PORT", "70000"},
		{"PORT", "-1"},
		{"SQL_MAX_IDLE_CONNS", "many"},
		{"SQL_MAX_OPEN_CONNS", "0"},
		{"SQL_MAX_LIFETIME", "-5"},
		{"SYNC_FREQUENCY", "0"},
		{"SYNC_FREQUENCY", "10m"},
		{"NODE_TYPE", "worker"},
		{"INITIAL_ROOT_PASSWORD", "short"},
		{"INITIAL_ROOT_PASSWORD", strings.Repeat("p", 65)},
		{"BCRYPT_COST", "3"},
		{"BCRYPT_COST", "32"},
		{"TRUSTED_PROXIES", "10.0.0.1, not-an-ip"},
		{"TRUSTED_PROXIES", "10.0.0.0/33"},
		{"GLOBAL_API_RATE_LIMIT", "-1"},
		{"GLOBAL_WEB_RATE_LIMIT", "lots"},
		{"CRITICAL_RATE_LIMIT", "1.5"},
		{"RELAY_TIMEOUT", "30s"},
		{"MAX_REQUEST_BODY_MB", "0"},
		{"METRICS_ENABLED", "yes please"},
		{"SHUTDOWN_TIMEOUT", "soon"},
		{"DEBUG", "maybe"},
		{"HOST", "0.0.0.0:3000"},
		{"HOST", "a host"},
	}
	for _, tc := range cases {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			_, err := config.Load(nil, env(map[string]string{tc.name: tc.value}))
			if err == nil {
				t.Fatalf("%s=%q was accepted", tc.name, tc.value)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tc.name+":") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q does not start by naming %s on one line", msg, tc.name)
			}
		})
	}
}

// TestInvalidPasswordIsNotEchoed pins that a refused root password does
// not end up in the start-up error, which goes to logs.
func TestInvalidPasswordIsNotEchoed(t *testing.T) {
	_, err := config.Load(nil, env(map[string]string{"INITIAL_ROOT_PASSWORD": "hunter2"}))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
}
