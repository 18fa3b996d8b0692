package model

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchyard/common/channeltype"
	"switchyard/common/crypto"
	"switchyard/common/errs"
)

// Channel statuses, as in One API.
const (
	ChannelEnabled          = 1
	ChannelManuallyDisabled = 2
	ChannelAutoDisabled     = 3
)

// Channel is one upstream account: a provider type, a key and the models it
// serves to the groups it lists. Key is stored sealed (see crypto.Sealer)
// and never leaves the API whole. Field names and JSON follow One API.
type Channel struct {
	ID                 int     `gorm:"primaryKey" json:"id"`
	Type               int     `gorm:"not null;default:1" json:"type"`
	Key                string  `gorm:"type:text;not null" json:"key"`
	Status             int     `gorm:"not null;default:1;index" json:"status"`
	Name               string  `gorm:"size:128;index" json:"name"`
	Weight             int     `gorm:"not null;default:0" json:"weight"`
	Priority           int64   `gorm:"not null;default:0" json:"priority"`
	CreatedTime        int64   `gorm:"not null;default:0" json:"created_time"`
	TestTime           int64   `gorm:"not null;default:0" json:"test_time"`
	ResponseTime       int     `gorm:"not null;default:0" json:"response_time"`
	BaseURL            string  `gorm:"column:base_url;size:512;not null;default:''" json:"base_url"`
	Other              string  `gorm:"size:255;not null;default:''" json:"other"`
	Balance            float64 `gorm:"not null;default:0" json:"balance"`
	BalanceUpdatedTime int64   `gorm:"not null;default:0" json:"balance_updated_time"`
	Models             string  `gorm:"type:text" json:"models"`
	Group              string  `gorm:"column:group;size:255;not null;default:default" json:"group"`
	UsedQuota          int64   `gorm:"not null;default:0" json:"used_quota"`
	ModelMapping       string  `gorm:"type:text" json:"model_mapping"`
	Config             string  `gorm:"type:text" json:"config"`
	// MaxInflight caps concurrent requests on this channel; 0 is no cap.
	MaxInflight int `gorm:"not null;default:0" json:"max_inflight"`
	// TestModel is the model channel tests send (One API's test_model);
	// empty means the first chat model of Models.
	TestModel string `gorm:"size:255;not null;default:''" json:"test_model"`
	// ChannelRouting holds the caps and multi-key fields (channel_keys.go).
	ChannelRouting `gorm:"embedded"`
}

func init() { registerModels(&Channel{}, &Ability{}) }

// nonChatMarks are name parts of models that a chat completion cannot
// test: embeddings, moderation, images, speech and transcription.
var nonChatMarks = []string{"embed", "moderation", "dall-e", "gpt-image", "image", "tts", "whisper", "transcribe", "audio", "speech", "rerank", "realtime"}

// IsChatModel guesses from its name whether model answers chat
// completions; the channel test uses it to avoid sending a chat call to
// an image or embedding model.
func IsChatModel(name string) bool {
	n := strings.ToLower(name)
	for _, m := range nonChatMarks {
		if strings.Contains(n, m) {
			return false
		}
	}
	return true
}

// TestModelFor is the model a channel test sends: the channel's test_model
// when set, else the first chat model of its list in the order saved, else
// "" when the channel lists none.
func TestModelFor(testModel string, models []string) string {
	if testModel != "" {
		return testModel
	}
	for _, m := range models {
		if IsChatModel(m) {
			return m
		}
	}
	return ""
}

// ErrChannelNotFound is returned when no channel matches.
var ErrChannelNotFound = errs.NotFound("channel not found")

// splitList splits a comma list, trimming blanks and dropping duplicates
// while keeping the first order.
func splitList(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// ModelList is the channel's models.
func (c *Channel) ModelList() []string { return splitList(c.Models) }

// GroupList is the channel's groups.
func (c *Channel) GroupList() []string { return splitList(c.Group) }

// Mapping parses ModelMapping (requested name → upstream name).
func (c *Channel) Mapping() (map[string]string, error) {
	if strings.TrimSpace(c.ModelMapping) == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(c.ModelMapping), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// Normalize trims and validates the editable fields, filling defaults. It
// does not touch the key.
func (c *Channel) Normalize() error {
	if c.Type == 0 {
		c.Type = 1
	}
	t, ok := channeltype.Get(c.Type)
	if !ok {
		return errs.BadRequest("channel type %d is not supported; supported types: %s", c.Type, supportedTypes())
	}
	c.Name = strings.TrimSpace(c.Name)
	if len(c.Name) > 128 {
		return errs.BadRequest("name is longer than 128 characters")
	}
	c.BaseURL = strings.TrimRight(strings.TrimSpace(c.BaseURL), "/")
	if c.BaseURL == "" && t.BaseURLRequired {
		return errs.BadRequest("a %s channel needs a base_url", t.Name)
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errs.BadRequest("base_url must be an http or https URL")
		}
	}
	c.Models = strings.Join(splitList(c.Models), ",")
	if c.Models == "" {
		return errs.BadRequest("a channel needs at least one model")
	}
	c.TestModel = strings.TrimSpace(c.TestModel)
	if c.TestModel != "" && !slices.Contains(c.ModelList(), c.TestModel) {
		return errs.BadRequest("test_model %q is not one of the channel's models", c.TestModel).WithParam("test_model").WithCode("test_model_not_listed")
	}
	c.Group = strings.Join(splitList(c.Group), ",")
	if c.Group == "" {
		c.Group = "default"
	}
	for _, g := range c.GroupList() {
		if len(g) > 32 {
			return errs.BadRequest("group %q is longer than 32 characters", g)
		}
	}
	if c.Weight < 0 {
		return errs.BadRequest("weight must not be negative")
	}
	if c.MaxInflight < 0 {
		return errs.BadRequest("max_inflight must not be negative")
	}
	if err := c.ChannelRouting.normalize(); err != nil {
		return err
	}
	if _, err := c.Mapping(); err != nil {
		return errs.BadRequest("model_mapping must be a JSON object of model name to model name")
	}
	if s := strings.TrimSpace(c.Config); s != "" && !json.Valid([]byte(s)) {
		return errs.BadRequest("config must be JSON")
	}
	if _, err := ConfigHeaders(c.Config); err != nil {
		return err
	}
	if _, err := ConfigProxy(c.Config); err != nil {
		return err
	}
	if c.Status == 0 {
		c.Status = ChannelEnabled
	}
	if c.Status < ChannelEnabled || c.Status > ChannelAutoDisabled {
		return errs.BadRequest("status must be 1, 2 or 3")
	}
	return nil
}

func supportedTypes() string {
	all := channeltype.All()
	parts := make([]string, len(all))
	for i, t := range all {
		parts[i] = fmt.Sprintf("%d (%s)", t.Number, t.Name)
	}
	return strings.Join(parts, ", ")
}

// EffectiveBaseURL is the channel's base URL or its type's default.
func (c *Channel) EffectiveBaseURL() string {
	if c.BaseURL != "" {
		return c.BaseURL
	}
	if t, ok := channeltype.Get(c.Type); ok && !t.BaseURLRequired {
		return t.BaseURL
	}
	return ""
}

// ChannelView is a channel as the API shows it: the key masked, and the
// channel's current in-flight count from this node.
type ChannelView struct {
	Channel
	Inflight int64 `json:"inflight"`
	// Keys lists a multi-key channel's keys, masked, with their state.
	Keys []KeyView `json:"keys,omitempty"`
	// Demoted is set while the channel serves below every tier on this
	// node (ChannelDemoteEnabled).
	Demoted bool `json:"demoted"`
}

// View masks the key of ch and adds its live figures.
func (s *Store) View(ch *Channel) ChannelView {
	v := ChannelView{Channel: *ch}
	v.Config = maskProxy(openProxy(s.Sealer, hideSecrets(ch.Type, ch.Config)))
	if key, err := s.Sealer.Open(ch.Key); err == nil {
		v.Key = crypto.Mask(key)
		v.Keys = keyViews(key, &ch.ChannelRouting)
	} else {
		v.Key = "(sealed)"
	}
	if s.Channels != nil {
		v.Inflight = s.Channels.Health(ch.ID).Inflight()
		v.Demoted = s.Channels.Health(ch.ID).Demoted()
	}
	return v
}

// ChannelByID reads one channel (key still sealed).
func (s *Store) ChannelByID(ctx context.Context, id int) (*Channel, error) {
	var ch Channel
	if err := s.DB.WithContext(ctx).First(&ch, id).Error; err != nil {
		if notFound(err) {
			return nil, ErrChannelNotFound
		}
		return nil, errs.Internal(err)
	}
	return &ch, nil
}

// ChannelKey returns the plain key of ch.
func (s *Store) ChannelKey(ch *Channel) (string, error) { return s.Sealer.Open(ch.Key) }

// ListChannels returns one page of channels, highest id first, and the total.
func (s *Store) ListChannels(ctx context.Context, offset, limit int) ([]Channel, int64, error) {
	var out []Channel
	var total int64
	q := s.DB.WithContext(ctx).Model(&Channel{})
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, errs.Internal(err)
	}
	if err := q.Order("id desc").Offset(offset).Limit(limit).Find(&out).Error; err != nil {
		return nil, 0, errs.Internal(err)
	}
	return out, total, nil
}

// SearchChannels matches keyword against id, name and base URL.
func (s *Store) SearchChannels(ctx context.Context, keyword string, limit int) ([]Channel, error) {
	var out []Channel
	q := s.DB.WithContext(ctx).Model(&Channel{})
	pat := likePattern(keyword)
	if id, err := strconv.Atoi(strings.TrimSpace(keyword)); err == nil {
		q = q.Where("id = ? OR name LIKE ? ESCAPE '!' OR base_url LIKE ? ESCAPE '!'", id, pat, pat)
	} else {
		q = q.Where("name LIKE ? ESCAPE '!' OR base_url LIKE ? ESCAPE '!'", pat, pat)
	}
	if err := q.Order("id desc").Limit(limit).Find(&out).Error; err != nil {
		return nil, errs.Internal(err)
	}
	return out, nil
}

// AllChannels reads every channel (keys sealed), by id.
func (s *Store) AllChannels(ctx context.Context) ([]Channel, error) {
	var out []Channel
	if err := s.DB.WithContext(ctx).Order("id").Find(&out).Error; err != nil {
		return nil, errs.Internal(err)
	}
	return out, nil
}

// CreateChannels inserts channels (keys and secret config values in plain
// text; they are sealed here) with their abilities in one transaction: all or none.
func (s *Store) CreateChannels(ctx context.Context, chans []*Channel) error {
	now := time.Now().Unix()
	for _, ch := range chans {
		if err := ch.Normalize(); err != nil {
			return err
		}
		if strings.TrimSpace(ch.Key) == "" {
			return errs.BadRequest("a channel needs a key")
		}
		if n := len(SplitKeys(ch.Key, ch.MultiKeyMode)); n > maxChannelKeys {
			return errs.BadRequest("a channel holds at most %d keys, got %d", maxChannelKeys, n).WithParam("key")
		}
		ch.Key = s.Sealer.Seal(strings.TrimSpace(ch.Key))
		ch.Config = sealSecrets(s.Sealer, ch.Type, ch.Config)
		ch.KeyStatus = ""
		ch.CreatedTime = now
		ch.ID, ch.UsedQuota, ch.Balance, ch.BalanceUpdatedTime, ch.TestTime, ch.ResponseTime = 0, 0, 0, 0, 0, 0
	}
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, ch := range chans {
			if err := tx.Create(ch).Error; err != nil {
				return err
			}
			if err := rebuildAbilities(tx, ch); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return errs.Internal(err)
	}
	s.channelsChanged(ctx)
	return nil
}

// CopyChannel makes a new channel from channel id (new-api's copy): the
// same type, key, base URL, models, groups, mapping, config, limits and
// status, named with suffix appended, with no usage, tests or disabled
// keys of its own; the balance comes along unless resetBalance. It returns
// the copy.
func (s *Store) CopyChannel(ctx context.Context, id int, suffix string, resetBalance bool) (*Channel, error) {
	src, err := s.ChannelByID(ctx, id)
	if err != nil {
		return nil, err
	}
	cp := *src
	// CreateChannels seals what it stores: hand it the plain values.
	if cp.Key, err = s.ChannelKey(src); err != nil {
		return nil, errs.Internal(err)
	}
	if cp.Config, err = openSecrets(s.Sealer, src.Type, src.Config); err != nil {
		return nil, errs.Internal(err)
	}
	cp.Name = src.Name + suffix
	if err := s.CreateChannels(ctx, []*Channel{&cp}); err != nil {
		return nil, err
	}
	if !resetBalance && src.BalanceUpdatedTime != 0 {
		if err := s.DB.WithContext(ctx).Model(&Channel{}).Where("id = ?", cp.ID).
			Updates(map[string]any{"balance": src.Balance, "balance_updated_time": src.BalanceUpdatedTime}).Error; err != nil {
			return nil, errs.Internal(err)
		}
		cp.Balance, cp.BalanceUpdatedTime = src.Balance, src.BalanceUpdatedTime
	}
	return &cp, nil
}

// UpdateChannel saves the editable fields of ch (by ch.ID). An empty key
// keeps the stored one, as in One API; used_quota, balance and test figures
// are the system's and are not taken from the caller.
func (s *Store) UpdateChannel(ctx context.Context, ch *Channel) (*Channel, error) {
	if err := ch.Normalize(); err != nil {
		return nil, err
	}
	var saved Channel
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.First(&saved, ch.ID).Error; err != nil {
			return err
		}
		ch.Config = sealSecrets(s.Sealer, ch.Type, keepSecrets(ch.Type, keepProxyPassword(ch.Config, openProxy(s.Sealer, saved.Config)), saved.Config))
		fields := map[string]any{
			"type": ch.Type, "status": ch.Status, "name": ch.Name, "weight": ch.Weight,
			"priority": ch.Priority, "base_url": ch.BaseURL, "other": ch.Other, "models": ch.Models,
			"group": ch.Group, "model_mapping": ch.ModelMapping, "config": ch.Config, "max_inflight": ch.MaxInflight,
			"test_model": ch.TestModel,
			"rpm_limit":  ch.RPMLimit, "tpm_limit": ch.TPMLimit, "multi_key_mode": ch.MultiKeyMode,
		}
		if k := strings.TrimSpace(ch.Key); k != "" {
			if n := len(SplitKeys(k, ch.MultiKeyMode)); n > maxChannelKeys {
				return errs.BadRequest("a channel holds at most %d keys, got %d", maxChannelKeys, n).WithParam("key")
			}
			fields["key"] = s.Sealer.Seal(k)
			// New keys start alive; so do all keys of a channel enabled by hand.
			fields["key_status"] = ""
		}
		if ch.Status == ChannelEnabled && saved.Status != ChannelEnabled {
			fields["key_status"] = ""
		}
		if err := tx.Model(&Channel{}).Where("id = ?", ch.ID).Updates(fields).Error; err != nil {
			return err
		}
		if err := tx.First(&saved, ch.ID).Error; err != nil {
			return err
		}
		return rebuildAbilities(tx, &saved)
	})
	if err != nil {
		if notFound(err) {
			return nil, ErrChannelNotFound
		}
		if e, ok := err.(*errs.Error); ok {
			return nil, e
		}
		return nil, errs.Internal(err)
	}
	s.channelsChanged(ctx)
	return &saved, nil
}

// SetChannelStatus changes a channel's status and its abilities' enabled
// flag together. It reports whether the status changed.
func (s *Store) SetChannelStatus(ctx context.Context, id, status int) (bool, error) {
	changed := false
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Channel{}).Where("id = ? AND status <> ?", id, status).Update("status", status)
		if res.Error != nil {
			return res.Error
		}
		changed = res.RowsAffected > 0
		return tx.Model(&Ability{}).Where("channel_id = ?", id).Update("enabled", status == ChannelEnabled).Error
	})
	if err != nil {
		return false, errs.Internal(err)
	}
	if changed {
		s.channelsChanged(ctx)
	}
	return changed, nil
}

// DeleteChannel removes a channel and its abilities.
func (s *Store) DeleteChannel(ctx context.Context, id int) error {
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Delete(&Channel{}, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrChannelNotFound
		}
		return tx.Where("channel_id = ?", id).Delete(&Ability{}).Error
	})
	if err != nil {
		if err == ErrChannelNotFound {
			return ErrChannelNotFound
		}
		return errs.Internal(err)
	}
	s.channelsChanged(ctx)
	return nil
}

// DeleteDisabledChannels removes every channel disabled by hand or
// automatically, and returns how many went.
func (s *Store) DeleteDisabledChannels(ctx context.Context) (int64, error) {
	return s.deleteChannelsWhere(ctx, "status <> ?", ChannelEnabled)
}

// DeleteChannels removes the channels of ids that exist, with their
// abilities, and returns how many went.
func (s *Store) DeleteChannels(ctx context.Context, ids []int) (int64, error) {
	return s.deleteChannelsWhere(ctx, "id IN ?", ids)
}

// deleteChannelsWhere removes the channels matching the condition and
// their abilities in one transaction.
func (s *Store) deleteChannelsWhere(ctx context.Context, cond string, args ...any) (int64, error) {
	var n int64
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ids []int
		if err := tx.Model(&Channel{}).Where(cond, args...).Pluck("id", &ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		res := tx.Where("id IN ?", ids).Delete(&Channel{})
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected
		return tx.Where("channel_id IN ?", ids).Delete(&Ability{}).Error
	})
	if err != nil {
		return 0, errs.Internal(err)
	}
	if n > 0 {
		s.channelsChanged(ctx)
	}
	return n, nil
}

// RecordChannelTest stores a test's response time (ms) and when it ran.
func (s *Store) RecordChannelTest(ctx context.Context, id int, responseTime time.Duration) error {
	err := s.DB.WithContext(ctx).Model(&Channel{}).Where("id = ?", id).
		Updates(map[string]any{"response_time": int(responseTime.Milliseconds()), "test_time": time.Now().Unix()}).Error
	if err != nil {
		return errs.Internal(err)
	}
	return nil
}

// RecordChannelBalance stores a balance read from the provider.
func (s *Store) RecordChannelBalance(ctx context.Context, id int, balance float64) error {
	err := s.DB.WithContext(ctx).Model(&Channel{}).Where("id = ?", id).
		Updates(map[string]any{"balance": balance, "balance_updated_time": time.Now().Unix()}).Error
	if err != nil {
		return errs.Internal(err)
	}
	return nil
}

// channelsChanged reloads this node's channel index at once and tells the
// other nodes to reload theirs.
func (s *Store) channelsChanged(ctx context.Context) {
	if s.Channels != nil {
		if err := s.Channels.Reload(context.WithoutCancel(ctx)); err != nil {
			logf("channel index reload failed", "err", err)
		}
	}
	s.Bus.Publish(ctx, TopicChannels, "*")
}
