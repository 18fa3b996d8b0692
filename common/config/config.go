// Package config holds the one typed configuration of a Switchyard process.
// It is filled once at start from flags and environment and passed down;
// nothing reads the environment after Load returns.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Config is everything a process needs to know at start. The environment
// names follow One API's where One API has one.
type Config struct {
	// Port is the HTTP listen port (PORT, --port). Zero means 3000.
	Port int
	// Host is the address to listen on (HOST, --host). Empty listens on
	// every interface, as One API does; 127.0.0.1 keeps the server to this
	// machine.
	Host string
	// SQLDSN selects the database (SQL_DSN): empty means SQLite at SQLitePath,
	// a postgres:// prefix PostgreSQL, anything else a MySQL DSN.
	SQLDSN string
	// LogSQLDSN puts the logs table in a separate database (LOG_SQL_DSN).
	LogSQLDSN string
	// SQLitePath is the SQLite file when SQLDSN is empty (SQLITE_PATH).
	SQLitePath string
	// SQLMaxIdleConns, SQLMaxOpenConns and SQLMaxLifetime size the pool.
	SQLMaxIdleConns int
	SQLMaxOpenConns int
	SQLMaxLifetime  time.Duration
	// RedisConnString enables Redis (REDIS_CONN_STRING), a redis:// URL.
	RedisConnString string
	// RedisKeyPrefix starts every Redis key and channel name
	// (REDIS_KEY_PREFIX), so deployments can share one Redis.
	RedisKeyPrefix string
	// SessionSecret signs and encrypts session cookies (SESSION_SECRET).
	// Empty means a random secret: sessions then end with the process.
	SessionSecret string
	// SessionSecretRandom reports that SessionSecret was generated.
	SessionSecretRandom bool
	// SyncFrequency is how often caches are fully reloaded (SYNC_FREQUENCY, seconds).
	SyncFrequency time.Duration
	// NodeType is "master" (runs migrations and background jobs) or "slave".
	NodeType string
	// InitialRootToken creates a relay token for root at first start.
	InitialRootToken string
	// InitialRootAccessToken gives root this management access token at first start.
	InitialRootAccessToken string
	// InitialRootPassword is root's password at first start. Empty means a
	// random one, printed once to the log.
	InitialRootPassword string
	// BcryptCost is the bcrypt work factor for passwords (BCRYPT_COST, 4-31).
	BcryptCost int
	// CryptoSecret encrypts channel keys at rest when set.
	CryptoSecret string
	// TrustedProxies lists peers whose X-Forwarded-For / X-Real-IP is believed.
	TrustedProxies []netip.Prefix
	// GlobalAPIRateLimit and GlobalWebRateLimit are requests per IP per three
	// minutes, as in One API. Zero turns the limit off.
	GlobalAPIRateLimit int
	GlobalWebRateLimit int
	// CriticalRateLimit is requests per IP per twenty minutes on login,
	// registration and mail routes. Zero turns it off.
	CriticalRateLimit int
	// RelayTimeout bounds one upstream attempt up to its response headers
	// (RELAY_TIMEOUT, seconds; default 300). Zero means no bound beyond the
	// client's own, which a client that never leaves makes unbounded.
	RelayTimeout time.Duration
	// StreamIdleTimeout ends a stream whose upstream sent nothing for this
	// long (STREAM_IDLE_TIMEOUT, seconds; default 120; zero turns it off).
	StreamIdleTimeout time.Duration
	// ServerReadTimeout bounds reading one request, headers and body
	// (SERVER_READ_TIMEOUT, seconds; default 60), so a client that trickles
	// its body cannot hold a connection. Headers alone get at most 10 s.
	ServerReadTimeout time.Duration
	// ServerIdleTimeout closes a keep-alive connection idle this long
	// (SERVER_IDLE_TIMEOUT, seconds; default 120).
	ServerIdleTimeout time.Duration
	// ServerWriteTimeout bounds writing a reply that is not a relay
	// stream (SERVER_WRITE_TIMEOUT, seconds; default 60). It is set per
	// request, not on the server, because a server-wide write timeout
	// would cut long streams; relay routes (/v1) are left to their own
	// bounds (RELAY_TIMEOUT, STREAM_IDLE_TIMEOUT).
	ServerWriteTimeout time.Duration
	// SQLStatementTimeout bounds every database statement (SQL_STATEMENT_TIMEOUT,
	// seconds; default 30): a context deadline on each query, MySQL's
	// readTimeout/writeTimeout and PostgreSQL's statement_timeout. A
	// statement that runs out answers 503.
	SQLStatementTimeout time.Duration
	// MaxRequestBodyMB caps request bodies (MAX_REQUEST_BODY_MB).
	MaxRequestBodyMB int
	// MetricsEnabled serves Prometheus metrics at /metrics (METRICS_ENABLED).
	MetricsEnabled bool
	// TurnstileVerifyURL is Cloudflare's siteverify endpoint; tests point it
	// at a local stand-in (TURNSTILE_VERIFY_URL).
	TurnstileVerifyURL string
	// GitHubURL and GitHubAPIURL are where GitHub sign-in goes
	// (GITHUB_URL, GITHUB_API_URL): github.com's by default, a GitHub
	// Enterprise server's or a test's stand-in otherwise.
	GitHubURL, GitHubAPIURL string
	// LarkURL and LarkPassportURL are where Lark sign-in goes (LARK_URL,
	// LARK_PASSPORT_URL): the authorize page's host and the passport that
	// trades codes, Feishu's by default ("https://open.feishu.cn",
	// "https://passport.feishu.cn"); Lark's international ones
	// ("https://open.larksuite.com", "https://passport.larksuite.com") or a
	// test's stand-in otherwise.
	LarkURL, LarkPassportURL string
	// ShutdownTimeout is how long in-flight requests get after SIGTERM.
	ShutdownTimeout time.Duration
	// Debug turns on debug logging (DEBUG).
	Debug bool
}

// IsMaster reports whether this node runs migrations and background jobs.
func (c Config) IsMaster() bool { return c.NodeType != "slave" }

// Load parses args (without the program name) and then the environment;
// a flag wins over its variable. An invalid value returns an error that
// names the variable.
func Load(args []string, getenv func(string) string) (Config, error) {
	c := Config{}
	fs := flag.NewFlagSet("switchyard", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	port := fs.String("port", "", "listen port (PORT)")
	host := fs.String("host", "", "listen address, empty for every interface (HOST)")
	logDir := fs.String("log-dir", "", "ignored, accepted for One API compatibility")
	_ = logDir
	if err := fs.Parse(args); err != nil {
		return c, fmt.Errorf("flags: %w", err)
	}
	env := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	var errs []error
	intVar := func(name string, raw string, min int) int {
		n, err := strconv.Atoi(raw)
		if err != nil || n < min {
			errs = append(errs, fmt.Errorf("%s: want a whole number >= %d, got %q", name, min, raw))
		}
		return n
	}
	boolVar := func(name, raw string) bool {
		b, err := strconv.ParseBool(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: want true or false, got %q", name, raw))
		}
		return b
	}

	portRaw := env("PORT", "3000")
	if *port != "" {
		portRaw = *port
	}
	c.Port = intVar("PORT", portRaw, 0)
	if c.Port > 65535 {
		errs = append(errs, fmt.Errorf("PORT: %d is not a TCP port", c.Port))
	}
	c.Host = env("HOST", "")
	if *host != "" {
		c.Host = strings.TrimSpace(*host)
	}
	if c.Host != "" {
		if _, err := netip.ParseAddr(strings.Trim(c.Host, "[]")); err != nil && !validHostname(c.Host) {
			errs = append(errs, fmt.Errorf("HOST: %q is neither an IP address nor a host name", c.Host))
		}
	}
	c.SQLDSN = env("SQL_DSN", "")
	c.LogSQLDSN = env("LOG_SQL_DSN", "")
	c.SQLitePath = env("SQLITE_PATH", "switchyard.db")
	c.SQLMaxIdleConns = intVar("SQL_MAX_IDLE_CONNS", env("SQL_MAX_IDLE_CONNS", "100"), 0)
	c.SQLMaxOpenConns = intVar("SQL_MAX_OPEN_CONNS", env("SQL_MAX_OPEN_CONNS", "1000"), 1)
	c.SQLMaxLifetime = time.Duration(intVar("SQL_MAX_LIFETIME", env("SQL_MAX_LIFETIME", "60"), 0)) * time.Second
	c.RedisConnString = env("REDIS_CONN_STRING", "")
	c.RedisKeyPrefix = env("REDIS_KEY_PREFIX", "switchyard:")
	c.SessionSecret = env("SESSION_SECRET", "")
	if c.SessionSecret == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		c.SessionSecret = hex.EncodeToString(b)
		c.SessionSecretRandom = true
	}
	c.SyncFrequency = time.Duration(intVar("SYNC_FREQUENCY", env("SYNC_FREQUENCY", "600"), 1)) * time.Second
	c.NodeType = env("NODE_TYPE", "master")
	if c.NodeType != "master" && c.NodeType != "slave" {
		errs = append(errs, fmt.Errorf("NODE_TYPE: want master or slave, got %q", c.NodeType))
	}
	c.InitialRootToken = env("INITIAL_ROOT_TOKEN", "")
	c.InitialRootAccessToken = env("INITIAL_ROOT_ACCESS_TOKEN", "")
	c.InitialRootPassword = getenv("INITIAL_ROOT_PASSWORD")
	if c.InitialRootPassword != "" && (len(c.InitialRootPassword) < 8 || len(c.InitialRootPassword) > 64) {
		errs = append(errs, errors.New("INITIAL_ROOT_PASSWORD: want 8 to 64 bytes"))
	}
	c.BcryptCost = intVar("BCRYPT_COST", env("BCRYPT_COST", "10"), 4)
	if c.BcryptCost > 31 {
		errs = append(errs, fmt.Errorf("BCRYPT_COST: want 4 to 31, got %d", c.BcryptCost))
	}
	c.CryptoSecret = env("CRYPTO_SECRET", "")
	if raw := env("TRUSTED_PROXIES", ""); raw != "" {
		for _, part := range strings.Split(raw, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			if !strings.Contains(part, "/") {
				if a, err := netip.ParseAddr(part); err == nil {
					c.TrustedProxies = append(c.TrustedProxies, netip.PrefixFrom(a, a.BitLen()))
					continue
				}
			}
			p, err := netip.ParsePrefix(part)
			if err != nil {
				errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %q is not an IP or CIDR", part))
				continue
			}
			c.TrustedProxies = append(c.TrustedProxies, p.Masked())
		}
	}
	c.GlobalAPIRateLimit = intVar("GLOBAL_API_RATE_LIMIT", env("GLOBAL_API_RATE_LIMIT", "480"), 0)
	c.GlobalWebRateLimit = intVar("GLOBAL_WEB_RATE_LIMIT", env("GLOBAL_WEB_RATE_LIMIT", "240"), 0)
	c.CriticalRateLimit = intVar("CRITICAL_RATE_LIMIT", env("CRITICAL_RATE_LIMIT", "20"), 0)
	c.RelayTimeout = time.Duration(intVar("RELAY_TIMEOUT", env("RELAY_TIMEOUT", "300"), 0)) * time.Second
	c.StreamIdleTimeout = time.Duration(intVar("STREAM_IDLE_TIMEOUT", env("STREAM_IDLE_TIMEOUT", "120"), 0)) * time.Second
	c.ServerReadTimeout = time.Duration(intVar("SERVER_READ_TIMEOUT", env("SERVER_READ_TIMEOUT", "60"), 1)) * time.Second
	c.ServerIdleTimeout = time.Duration(intVar("SERVER_IDLE_TIMEOUT", env("SERVER_IDLE_TIMEOUT", "120"), 1)) * time.Second
	c.ServerWriteTimeout = time.Duration(intVar("SERVER_WRITE_TIMEOUT", env("SERVER_WRITE_TIMEOUT", "60"), 1)) * time.Second
	c.SQLStatementTimeout = time.Duration(intVar("SQL_STATEMENT_TIMEOUT", env("SQL_STATEMENT_TIMEOUT", "30"), 1)) * time.Second
	c.MaxRequestBodyMB = intVar("MAX_REQUEST_BODY_MB", env("MAX_REQUEST_BODY_MB", "32"), 1)
	c.MetricsEnabled = boolVar("METRICS_ENABLED", env("METRICS_ENABLED", "false"))
	c.TurnstileVerifyURL = env("TURNSTILE_VERIFY_URL", "https://challenges.cloudflare.com/turnstile/v0/siteverify")
	c.GitHubURL = env("GITHUB_URL", "https://github.com")
	c.GitHubAPIURL = env("GITHUB_API_URL", "https://api.github.com")
	c.LarkURL = env("LARK_URL", "https://open.feishu.cn")
	c.LarkPassportURL = env("LARK_PASSPORT_URL", "https://passport.feishu.cn")
	c.ShutdownTimeout = time.Duration(intVar("SHUTDOWN_TIMEOUT", env("SHUTDOWN_TIMEOUT", "30"), 0)) * time.Second
	c.Debug = boolVar("DEBUG", env("DEBUG", "false"))
	if len(errs) > 0 {
		return c, errs[0]
	}
	return c, nil
}

// validHostname accepts a DNS name such as "localhost": letters, digits,
// dots and dashes, at most 253 bytes.
func validHostname(h string) bool {
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}
