package model

import (
	"encoding/json"
	"net/url"
	"strings"

	"switchyard/common/crypto"
	"switchyard/common/errs"
)

// A channel's proxy is the "proxy" string of its config JSON: an http://,
// https://, socks5:// or socks5h:// URL, with user:password@ when the
// proxy asks for them. Every call to the channel goes through it
// (relay/adaptor/proxy.go). The API shows it with the password masked
// (url.URL.Redacted's "xxxxx"); an edit that sends the masked form back
// keeps the stored password, and an empty or absent "proxy" removes it.
// With CRYPTO_SECRET set the proxy is sealed at rest, as the channel's key
// and its type's config secrets are (channel_config.go).

// configProxyKey is the config key of the proxy.
const configProxyKey = "proxy"

const maxProxyURL = 2048

// ConfigProxy reads the "proxy" of a channel's config (nil when it has
// none), or says what is wrong with it.
func ConfigProxy(config string) (*url.URL, error) {
	raw, ok := configProxyText(config)
	if !ok {
		return nil, errs.BadRequest(`config "proxy" must be a URL string`).WithParam("config")
	}
	if raw == "" {
		return nil, nil
	}
	bad := errs.BadRequest(`config "proxy" must be an http://, https://, socks5:// or socks5h:// URL with a host, of at most %d bytes`, maxProxyURL).WithParam("config")
	if len(raw) > maxProxyURL || strings.ContainsAny(raw, " \t\r\n\x00") {
		return nil, bad
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" || u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, bad
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, bad
	}
	return u, nil
}

// configProxyText is the config's "proxy" text: "" when it has none (or
// the config is not an object, which validation reports on its own); ok
// is false when "proxy" is there but not a string.
func configProxyText(config string) (string, bool) {
	config = strings.TrimSpace(config)
	if config == "" {
		return "", true
	}
	var c struct {
		Proxy json.RawMessage `json:"proxy"`
	}
	if json.Unmarshal([]byte(config), &c) != nil || len(c.Proxy) == 0 || string(c.Proxy) == "null" {
		return "", true
	}
	var s string
	if json.Unmarshal(c.Proxy, &s) != nil {
		return "", false
	}
	return strings.TrimSpace(s), true
}

// openProxy is config with its sealed proxy opened, for the API's masked
// view and an edit's comparison; a proxy that does not open stays as it
// is stored.
func openProxy(sealer *crypto.Sealer, config string) string {
	return mapKeys([]string{configProxyKey}, config, sealer.Open)
}

// maskProxy is config with its proxy's password masked, for the API.
func maskProxy(config string) string {
	raw, _ := configProxyText(config)
	u, err := url.Parse(raw)
	if raw == "" || err != nil {
		return config
	}
	if _, has := u.User.Password(); !has {
		return config
	}
	return withConfigProxy(config, u.Redacted())
}

// keepProxyPassword is an edited config whose proxy is the stored one as
// the API showed it (password masked) with the stored proxy put back.
func keepProxyPassword(edited, stored string) string {
	old, _ := configProxyText(stored)
	now, _ := configProxyText(edited)
	u, err := url.Parse(old)
	if old == "" || now == "" || err != nil || now == old || now != u.Redacted() {
		return edited
	}
	return withConfigProxy(edited, old)
}

// withConfigProxy is config with "proxy" set to proxy; config comes back
// unchanged when it is not a JSON object.
func withConfigProxy(config, proxy string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(config), &m) != nil || m == nil {
		return config
	}
	m["proxy"], _ = json.Marshal(proxy)
	out, err := json.Marshal(m)
	if err != nil {
		return config
	}
	return string(out)
}
