package model

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchyard/common/crypto"
	"switchyard/common/errs"
)

// Multi-key modes (issue 11): how a channel holding several keys, one per
// line, spreads its calls over them. An empty mode is One API's single
// key: the whole key field is the one key.
const (
	KeyModeSingle  = ""
	KeyModeRandom  = "random"
	KeyModePolling = "polling"
)

// maxChannelKeys caps the keys of one channel.
const maxChannelKeys = 1000

// ChannelRouting holds the channel fields of issue 11, embedded in Channel:
// caps, which skip a channel for a call like a busy one when reached, and
// the multi-key mode with each key's state.
type ChannelRouting struct {
	// RPMLimit caps requests per minute sent to the channel (0: none).
	RPMLimit int64 `gorm:"column:rpm_limit;not null;default:0" json:"rpm_limit"`
	// TPMLimit caps tokens per minute the channel serves (0: none).
	TPMLimit int64 `gorm:"column:tpm_limit;not null;default:0" json:"tpm_limit"`
	// MultiKeyMode is "" (one key), "random" or "polling".
	MultiKeyMode string `gorm:"column:multi_key_mode;size:16;not null;default:''" json:"multi_key_mode"`
	// KeyStatus records the keys disabled on their own, by fingerprint
	// (so editing the key list keeps the state of the keys that stay).
	// The API shows it through ChannelView.Keys.
	KeyStatus string `gorm:"column:key_status;type:text" json:"-"`
}

// KeyState is one disabled key's record in KeyStatus.
type KeyState struct {
	Reason string `json:"reason"`
	Time   int64  `json:"time"`
}

func (r *ChannelRouting) normalize() error {
	if r.RPMLimit < 0 || r.RPMLimit > MaxLimit {
		return errs.BadRequest("rpm_limit must be between 0 (no limit) and %d", int64(MaxLimit)).WithParam("rpm_limit")
	}
	if r.TPMLimit < 0 || r.TPMLimit > MaxLimit {
		return errs.BadRequest("tpm_limit must be between 0 (no limit) and %d", int64(MaxLimit)).WithParam("tpm_limit")
	}
	switch r.MultiKeyMode {
	case KeyModeSingle, KeyModeRandom, KeyModePolling:
	default:
		return errs.BadRequest(`multi_key_mode must be "" (one key), "random" or "polling"`).WithParam("multi_key_mode")
	}
	return nil
}

func (r *ChannelRouting) disabledKeys() map[string]KeyState {
	m := map[string]KeyState{}
	if r.KeyStatus != "" {
		_ = json.Unmarshal([]byte(r.KeyStatus), &m)
	}
	return m
}

// SplitKeys returns the keys of a multi-key channel's key text: one per
// line, blanks dropped. A single-key channel's text is its one key.
func SplitKeys(text, mode string) []string {
	if mode == KeyModeSingle {
		if k := strings.TrimSpace(text); k != "" {
			return []string{k}
		}
		return nil
	}
	var out []string
	for _, k := range strings.Split(text, "\n") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

// KeyFingerprint names a key in KeyStatus without storing it.
func KeyFingerprint(key string) string { return crypto.HashKey(key)[:16] }

// KeyView is one key of a channel as the API shows it: masked, with its
// state (1 enabled, 3 disabled on its own) and why.
type KeyView struct {
	Index        int    `json:"index"`
	Key          string `json:"key"`
	Status       int    `json:"status"`
	Reason       string `json:"reason,omitempty"`
	DisabledTime int64  `json:"disabled_time,omitempty"`
}

// keyViews lists the keys of a multi-key channel, masked.
func keyViews(plain string, r *ChannelRouting) []KeyView {
	if r.MultiKeyMode == KeyModeSingle {
		return nil
	}
	dead := r.disabledKeys()
	keys := SplitKeys(plain, r.MultiKeyMode)
	out := make([]KeyView, len(keys))
	for i, k := range keys {
		out[i] = KeyView{Index: i, Key: crypto.Mask(k), Status: ChannelEnabled}
		if st, ok := dead[KeyFingerprint(k)]; ok {
			out[i].Status, out[i].Reason, out[i].DisabledTime = ChannelAutoDisabled, st.Reason, st.Time
		}
	}
	return out
}

// KeySet is the live state of a channel's keys on this node: which are
// dead, and the turn for polling. It belongs to one RelayChannel build;
// the turn is the channel's health's, so a reload does not restart it.
type KeySet struct {
	Mode string
	Keys []string
	dead []atomic.Bool
	next *atomic.Uint64
}

func newKeySet(plain string, r *ChannelRouting, turn *atomic.Uint64) *KeySet {
	ks := &KeySet{Mode: r.MultiKeyMode, Keys: SplitKeys(plain, r.MultiKeyMode), next: turn}
	ks.dead = make([]atomic.Bool, len(ks.Keys))
	if r.MultiKeyMode != KeyModeSingle {
		dead := r.disabledKeys()
		for i, k := range ks.Keys {
			if _, ok := dead[KeyFingerprint(k)]; ok {
				ks.dead[i].Store(true)
			}
		}
	}
	return ks
}

// Multi reports whether the channel rotates several keys.
func (ks *KeySet) Multi() bool { return ks != nil && ks.Mode != KeyModeSingle }

// Dead reports whether key i is disabled.
func (ks *KeySet) Dead(i int) bool { return i < len(ks.dead) && ks.dead[i].Load() }

// MarkDead disables key i on this node at once (the row follows).
func (ks *KeySet) MarkDead(i int) {
	if i < len(ks.dead) {
		ks.dead[i].Store(true)
	}
}

// Live is the number of keys not disabled.
func (ks *KeySet) Live() int {
	n := 0
	for i := range ks.dead {
		if !ks.dead[i].Load() {
			n++
		}
	}
	return n
}

// Pick chooses the key for one call: at random among the live keys, or
// the next live one in turn. It returns -1 when every key is dead.
func (ks *KeySet) Pick(intn func(int) int) int {
	n := len(ks.Keys)
	if n <= 1 {
		if n == 1 && !ks.dead[0].Load() {
			return 0
		}
		return -1
	}
	// Draw among the live keys only, so a dead key's share goes evenly to
	// the others instead of to its neighbour.
	var stack [32]int
	live := stack[:0]
	for i := range ks.dead {
		if !ks.dead[i].Load() {
			live = append(live, i)
		}
	}
	if len(live) == 0 {
		return -1
	}
	if ks.Mode == KeyModePolling {
		return live[(ks.next.Add(1)-1)%uint64(len(live))]
	}
	if intn == nil {
		intn = rand.IntN
	}
	return live[intn(len(live))]
}

// lockChannel reads the channel row FOR UPDATE where the database has it.
// Two keys of one channel dying at once must not lose one record (found on
// MariaDB, where both transactions read the old key_status): on this node
// ChannelIndex.keyMu serialises the writes, across nodes this row lock
// does on MySQL and PostgreSQL (SQLite has one writer process).
func (s *Store) lockChannel(tx *gorm.DB) *gorm.DB {
	if s.Dialect == SQLite {
		return tx
	}
	return tx.Clauses(clause.Locking{Strength: "UPDATE"})
}

// DisableChannelKey records that key (plain) of multi-key channel id is
// dead. When no key is left alive the channel is disabled automatically
// too. It reports whether the key was newly disabled and whether the
// channel was.
func (s *Store) DisableChannelKey(ctx context.Context, id int, key, reason string) (keyChanged, channelDisabled bool, err error) {
	s.Channels.keyMu.Lock()
	defer s.Channels.keyMu.Unlock()
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ch Channel
		if err := s.lockChannel(tx).First(&ch, id).Error; err != nil {
			return err
		}
		plain, err := s.Sealer.Open(ch.Key)
		if err != nil {
			return err
		}
		keys := SplitKeys(plain, ch.MultiKeyMode)
		dead := ch.disabledKeys()
		fp := KeyFingerprint(key)
		if _, ok := dead[fp]; ok {
			return nil
		}
		if len(reason) > 256 {
			reason = reason[:256]
		}
		dead[fp] = KeyState{Reason: reason, Time: time.Now().Unix()}
		// Drop records of keys no longer in the list.
		live := 0
		inList := map[string]bool{}
		for _, k := range keys {
			f := KeyFingerprint(k)
			inList[f] = true
			if _, ok := dead[f]; !ok {
				live++
			}
		}
		for f := range dead {
			if !inList[f] {
				delete(dead, f)
			}
		}
		raw, _ := json.Marshal(dead)
		fields := map[string]any{"key_status": string(raw)}
		if live == 0 && ch.Status == ChannelEnabled {
			fields["status"] = ChannelAutoDisabled
			channelDisabled = true
		}
		if err := tx.Model(&Channel{}).Where("id = ?", id).Updates(fields).Error; err != nil {
			return err
		}
		if channelDisabled {
			if err := tx.Model(&Ability{}).Where("channel_id = ?", id).Update("enabled", false).Error; err != nil {
				return err
			}
		}
		keyChanged = true
		return nil
	})
	if err != nil {
		if notFound(err) {
			return false, false, ErrChannelNotFound
		}
		return false, false, errs.Internal(err)
	}
	if keyChanged {
		s.channelsChanged(ctx)
	}
	return keyChanged, channelDisabled, nil
}

// EnableChannelKey clears the dead record of key (plain) of channel id,
// after it passed a test. It reports whether the key was disabled.
func (s *Store) EnableChannelKey(ctx context.Context, id int, key string) (bool, error) {
	s.Channels.keyMu.Lock()
	defer s.Channels.keyMu.Unlock()
	changed := false
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ch Channel
		if err := s.lockChannel(tx).First(&ch, id).Error; err != nil {
			return err
		}
		dead := ch.disabledKeys()
		fp := KeyFingerprint(key)
		if _, ok := dead[fp]; !ok {
			return nil
		}
		delete(dead, fp)
		raw, _ := json.Marshal(dead)
		changed = true
		return tx.Model(&Channel{}).Where("id = ?", id).Update("key_status", string(raw)).Error
	})
	if err != nil {
		if notFound(err) {
			return false, ErrChannelNotFound
		}
		return false, errs.Internal(err)
	}
	if changed {
		s.channelsChanged(ctx)
	}
	return changed, nil
}
