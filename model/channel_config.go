package model

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"switchyard/common/channeltype"
	"switchyard/common/crypto"
)

// HiddenConfig is what the API shows in place of a secret config value
// (a Bedrock sk, a Vertex service account key); sent back unchanged, or
// empty, it keeps the stored value, as an empty key does.
const HiddenConfig = "(hidden)"

// hideSecrets is a channel's config with its type's secret values hidden.
func hideSecrets(typ int, config string) string {
	keys := channeltype.SecretConfig(typ)
	if len(keys) == 0 || config == "" {
		return config
	}
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(config), &m) != nil {
		return config
	}
	hidden, _ := json.Marshal(HiddenConfig)
	changed := false
	for _, k := range keys {
		if _, ok := m[k]; ok {
			m[k] = hidden
			changed = true
		}
	}
	if !changed {
		return config
	}
	out, err := json.Marshal(m)
	if err != nil {
		return config
	}
	return string(out)
}

// keepSecrets is an edited config with the stored secret values put back
// where the edit left them hidden, empty or out.
func keepSecrets(typ int, edited, stored string) string {
	keys := channeltype.SecretConfig(typ)
	if len(keys) == 0 || stored == "" {
		return edited
	}
	var old map[string]json.RawMessage
	if json.Unmarshal([]byte(stored), &old) != nil {
		return edited
	}
	m := map[string]json.RawMessage{}
	if edited != "" && json.Unmarshal([]byte(edited), &m) != nil {
		return edited
	}
	for _, k := range keys {
		var v string
		raw, ok := m[k]
		if ok && json.Unmarshal(raw, &v) == nil && v != "" && v != HiddenConfig {
			continue
		}
		if ok && raw != nil && v == "" && string(raw) != `""` {
			continue // a non-string value the operator set
		}
		if prev, had := old[k]; had {
			m[k] = prev
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return edited
	}
	return string(out)
}

// sealSecrets is config with its type's secret string values sealed by
// sealer, as channel keys are: the JSON keeps its shape (each value stays
// a string, "enc:v1:…" at rest), so One API's config layout holds on the
// API side and in the table. Values already sealed stay as they are.
func sealSecrets(sealer *crypto.Sealer, typ int, config string) string {
	return mapSecrets(typ, config, func(v string) (string, error) {
		if crypto.IsSealed(v) || v == HiddenConfig {
			return v, nil
		}
		return sealer.Seal(v), nil
	})
}

// openSecrets is config with its type's sealed values opened, for the
// relay; values stored in clear (rows older than sealing, or written
// without CRYPTO_SECRET) pass through.
func openSecrets(sealer *crypto.Sealer, typ int, config string) (string, error) {
	var failed error
	out := mapSecrets(typ, config, func(v string) (string, error) {
		plain, err := sealer.Open(v)
		if err != nil {
			failed = err
		}
		return plain, err
	})
	return out, failed
}

// sealedKeys are the config keys sealed at rest for a channel of type
// typ: its type's secrets, and for every type the proxy, whose URL may
// carry a password (channel_proxy.go).
func sealedKeys(typ int) []string {
	return append(slices.Clip(channeltype.SecretConfig(typ)), configProxyKey)
}

// mapSecrets applies f to each sealed string value of config; config
// comes back unchanged when it names none, is not a JSON object, or f
// fails.
func mapSecrets(typ int, config string, f func(string) (string, error)) string {
	return mapKeys(sealedKeys(typ), config, f)
}

// mapKeys applies f to the string values of config's keys.
func mapKeys(keys []string, config string, f func(string) (string, error)) string {
	if len(keys) == 0 || config == "" {
		return config
	}
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(config), &m) != nil {
		return config
	}
	changed := false
	for _, k := range keys {
		var v string
		if raw, ok := m[k]; !ok || json.Unmarshal(raw, &v) != nil || v == "" {
			continue
		}
		nv, err := f(v)
		if err != nil {
			return config
		}
		if nv != v {
			m[k], _ = json.Marshal(nv)
			changed = true
		}
	}
	if !changed {
		return config
	}
	out, err := json.Marshal(m)
	if err != nil {
		return config
	}
	return string(out)
}

func init() {
	// Registered before the channel index's hook (file order), so the
	// first index is built from sealed rows; it would read clear ones too.
	onOpen(func(ctx context.Context, s *Store) error {
		if !s.Cfg.IsMaster() || !s.Sealer.Enabled() {
			return nil
		}
		return s.sealClearSecrets(ctx)
	})
}

// sealClearSecrets seals the channel keys and secret config values that
// rows hold in clear: rows written before CRYPTO_SECRET was set, before
// config secrets were sealed, or imported from One API. Each row is
// updated only if its key and config are still the ones read, so an edit
// made meanwhile on another node is not overwritten (it is sealed by its
// own write).
func (s *Store) sealClearSecrets(ctx context.Context) error {
	var rows []Channel
	if err := s.DB.WithContext(ctx).Select("id", "type", "key", "config").Find(&rows).Error; err != nil {
		return fmt.Errorf("seal channel secrets: %w", err)
	}
	n := 0
	for _, ch := range rows {
		key := ch.Key
		if !crypto.IsSealed(key) {
			key = s.Sealer.Seal(key)
		}
		config := sealSecrets(s.Sealer, ch.Type, ch.Config)
		if key == ch.Key && config == ch.Config {
			continue
		}
		res := s.DB.WithContext(ctx).Model(&Channel{}).Where(map[string]any{"id": ch.ID, "key": ch.Key, "config": ch.Config}).
			Updates(map[string]any{"key": key, "config": config})
		if res.Error != nil {
			return fmt.Errorf("seal channel %d secrets: %w", ch.ID, res.Error)
		}
		n += int(res.RowsAffected)
	}
	if n > 0 {
		logf("sealed the keys and secret config values of channels stored in clear", "channels", n)
	}
	return nil
}

// ConfigStrings reads a channel's config JSON as strings; values that are
// not strings keep their JSON text. Config that is not an object gives nil.
func ConfigStrings(config string) map[string]string {
	if strings.TrimSpace(config) == "" {
		return nil
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal([]byte(config), &raw) != nil {
		return nil
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var str string
		if json.Unmarshal(v, &str) == nil {
			out[k] = str
		} else {
			out[k] = string(v)
		}
	}
	return out
}
