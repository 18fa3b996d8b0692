package model

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"switchyard/common/crypto"
	"switchyard/common/errs"
)

// Token statuses, as in One API.
const (
	TokenEnabled   = 1
	TokenDisabled  = 2
	TokenExpired   = 3
	TokenExhausted = 4
)

// TokenKeyLen is the number of random characters after "sk-".
const TokenKeyLen = 48

// Token is a relay key. The key itself is never stored: KeyHash is its
// SHA-256 and KeyPrefix/KeySuffix are shown so owners can tell keys apart.
// RemainQuota and UsedQuota are kept by the ledger.
type Token struct {
	ID             int    `gorm:"primaryKey" json:"id"`
	UserID         int    `gorm:"index;not null" json:"user_id"`
	KeyHash        string `gorm:"uniqueIndex;size:64;not null" json:"-"`
	KeyPrefix      string `gorm:"size:16" json:"-"`
	KeySuffix      string `gorm:"size:8" json:"-"`
	Name           string `gorm:"index;size:64" json:"name"`
	Status         int    `gorm:"not null;default:1" json:"status"`
	CreatedTime    int64  `json:"created_time"`
	AccessedTime   int64  `json:"accessed_time"`
	ExpiredTime    int64  `gorm:"not null;default:-1" json:"expired_time"`
	RemainQuota    int64  `gorm:"not null;default:0" json:"remain_quota"`
	UnlimitedQuota bool   `gorm:"not null;default:false" json:"unlimited_quota"`
	UsedQuota      int64  `gorm:"not null;default:0" json:"used_quota"`
	Models         string `gorm:"type:text" json:"models"`
	Subnet         string `gorm:"size:1024" json:"subnet"`
	Group          string `gorm:"size:32;default:''" json:"group"`
	// Limits are the token's rate limits (model/limits.go).
	Limits `gorm:"embedded"`
	// Period is the token's period quota (model/ledger_period.go).
	Period `gorm:"embedded"`
}

func init() {
	registerModels(&Token{})
	deleteUserHooks = append(deleteUserHooks, func(tx *gorm.DB, userID int) error {
		return tx.Where("user_id = ?", userID).Delete(&Token{}).Error
	})
}

// DisplayKey is the key as lists show it: prefix, stars, suffix.
func (t *Token) DisplayKey() string { return t.KeyPrefix + "**********" + t.KeySuffix }

// NewTokenKey makes a fresh "sk-" key and fills t's hash and display parts.
func NewTokenKey(t *Token) string {
	key := "sk-" + crypto.RandomString(TokenKeyLen)
	t.KeyHash = crypto.HashKey(key)
	t.KeyPrefix = key[:7]
	t.KeySuffix = key[len(key)-4:]
	return key
}

// ErrTokenNotFound answers for missing tokens and other users' tokens alike.
var ErrTokenNotFound = errs.NotFound("token not found")

// CreateToken inserts t and registers its balance with the ledger.
func (s *Store) CreateToken(ctx context.Context, t *Token) error {
	t.CreatedTime = time.Now().Unix()
	if t.Status == 0 {
		t.Status = TokenEnabled
	}
	if err := s.DB.WithContext(ctx).Create(t).Error; err != nil {
		return errs.Internal(err)
	}
	return nil
}

// TokenOf reads user userID's token id (admins pass userID 0 for any).
func (s *Store) TokenOf(ctx context.Context, userID, id int) (*Token, error) {
	var t Token
	q := s.DB.WithContext(ctx).Where("id = ?", id)
	if userID != 0 {
		q = q.Where("user_id = ?", userID)
	}
	if err := q.First(&t).Error; err != nil {
		if notFound(err) {
			return nil, ErrTokenNotFound
		}
		return nil, errs.Internal(err)
	}
	s.Ledger.overlayToken(&t)
	return &t, nil
}

// ListTokens pages through a user's tokens, newest first, with the total.
func (s *Store) ListTokens(ctx context.Context, userID, offset, limit int) ([]Token, int64, error) {
	var out []Token
	var total int64
	q := s.DB.WithContext(ctx).Model(&Token{}).Where("user_id = ?", userID)
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, errs.Internal(err)
	}
	if err := q.Order("id desc").Offset(offset).Limit(limit).Find(&out).Error; err != nil {
		return nil, 0, errs.Internal(err)
	}
	for i := range out {
		s.Ledger.overlayToken(&out[i])
	}
	return out, total, nil
}

// SearchTokens matches a user's tokens by name, ignoring case on every
// database (PostgreSQL's LIKE alone would not).
func (s *Store) SearchTokens(ctx context.Context, userID int, keyword string, offset, limit int) ([]Token, error) {
	var out []Token
	err := s.DB.WithContext(ctx).Where("user_id = ? AND LOWER(name) LIKE ? ESCAPE '!'", userID, strings.ToLower(likePattern(keyword))).
		Order("id desc").Offset(offset).Limit(limit).Find(&out).Error
	if err != nil {
		return nil, errs.Internal(err)
	}
	for i := range out {
		s.Ledger.overlayToken(&out[i])
	}
	return out, nil
}

// UpdateToken writes the given columns of a user's token. remain_quota is
// the ledger's: pass it as quota to SetTokenQuota instead.
func (s *Store) UpdateToken(ctx context.Context, userID, id int, fields map[string]any) error {
	res := s.DB.WithContext(ctx).Model(&Token{}).Where("id = ? AND user_id = ?", id, userID).Updates(fields)
	if res.Error != nil {
		return errs.Internal(res.Error)
	}
	if res.RowsAffected == 0 {
		if _, err := s.TokenOf(ctx, userID, id); err != nil {
			return err
		}
	}
	s.Bus.Publish(ctx, TopicToken, strconv.Itoa(id))
	return nil
}

// DeleteToken removes a user's token.
func (s *Store) DeleteToken(ctx context.Context, userID, id int) error {
	res := s.DB.WithContext(ctx).Where("id = ? AND user_id = ?", id, userID).Delete(&Token{})
	if res.Error != nil {
		return errs.Internal(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrTokenNotFound
	}
	s.Bus.Publish(ctx, TopicToken, strconv.Itoa(id))
	return nil
}

// DeleteTokens removes those of ids that are user's tokens and returns how
// many went; the others are left alone.
func (s *Store) DeleteTokens(ctx context.Context, userID int, ids []int) (int64, error) {
	var gone []int
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&Token{}).Where("user_id = ? AND id IN ?", userID, ids).Pluck("id", &gone).Error; err != nil {
			return err
		}
		if len(gone) == 0 {
			return nil
		}
		return tx.Where("id IN ?", gone).Delete(&Token{}).Error
	})
	if err != nil {
		return 0, errs.Internal(err)
	}
	for _, id := range gone {
		s.Bus.Publish(ctx, TopicToken, strconv.Itoa(id))
	}
	return int64(len(gone)), nil
}

// CachedToken is what the relay's auth needs to know of a token.
type CachedToken struct {
	ID             int
	UserID         int
	Name           string
	Status         int
	ExpiredTime    int64
	UnlimitedQuota bool
	// Models is the allow-list; nil allows every model.
	Models map[string]bool
	// Subnets are the allowed client networks; nil allows any.
	Subnets []netip.Prefix
	// Group overrides the owner's group when not empty.
	Group string
	// Limits are the token's rate limits.
	Limits Limits
}

// AllowsModel reports whether the token may call model.
func (t *CachedToken) AllowsModel(model string) bool { return t.Models == nil || t.Models[model] }

// AllowsIP reports whether a client at ip may use the token.
func (t *CachedToken) AllowsIP(ip string) bool {
	if t.Subnets == nil {
		return true
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range t.Subnets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Expired reports whether the token's expiry has passed at now (unix s).
func (t *CachedToken) Expired(now int64) bool { return t.ExpiredTime != -1 && t.ExpiredTime <= now }

// TokenCache maps key hashes to CachedToken, invalidated through the bus.
type TokenCache struct {
	db *gorm.DB

	mu     sync.RWMutex
	byHash map[string]*CachedToken
}

func newTokenCache(db *gorm.DB, bus *Bus) *TokenCache {
	c := &TokenCache{db: db, byHash: map[string]*CachedToken{}}
	bus.Subscribe(TopicToken, func(key string) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if key == "*" {
			c.byHash = map[string]*CachedToken{}
			return
		}
		id, _ := strconv.Atoi(key)
		for h, t := range c.byHash {
			if t.ID == id {
				delete(c.byHash, h)
			}
		}
	})
	return c
}

// ByKey finds the token whose key is key; unknown keys are ErrTokenNotFound.
func (c *TokenCache) ByKey(ctx context.Context, key string) (*CachedToken, error) {
	h := crypto.HashKey(key)
	c.mu.RLock()
	t, ok := c.byHash[h]
	c.mu.RUnlock()
	if ok {
		return t, nil
	}
	var row Token
	if err := c.db.WithContext(ctx).Where("key_hash = ?", h).First(&row).Error; err != nil {
		if notFound(err) {
			return nil, ErrTokenNotFound
		}
		return nil, errs.Internal(err)
	}
	t = cacheToken(&row)
	c.mu.Lock()
	c.byHash[h] = t
	c.mu.Unlock()
	return t, nil
}

// Flush empties the cache (the SYNC_FREQUENCY safety net).
func (c *TokenCache) Flush() {
	c.mu.Lock()
	c.byHash = map[string]*CachedToken{}
	c.mu.Unlock()
}

func cacheToken(row *Token) *CachedToken {
	t := &CachedToken{ID: row.ID, UserID: row.UserID, Name: row.Name, Status: row.Status,
		ExpiredTime: row.ExpiredTime, UnlimitedQuota: row.UnlimitedQuota, Group: row.Group, Limits: row.Limits}
	if list := SplitList(row.Models); len(list) > 0 {
		t.Models = make(map[string]bool, len(list))
		for _, m := range list {
			t.Models[m] = true
		}
	}
	for _, s := range SplitList(row.Subnet) {
		if p, err := ParseSubnet(s); err == nil {
			t.Subnets = append(t.Subnets, p)
		}
	}
	if row.Subnet != "" && t.Subnets == nil {
		// Every listed subnet was unreadable: allow nobody rather than all.
		t.Subnets = []netip.Prefix{}
	}
	return t
}

// ParseSubnet reads a CIDR or a bare IP (a one-address network).
func ParseSubnet(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, err
	}
	return p.Masked(), nil
}

// SplitList splits a comma-separated list, trimming blanks and dropping
// empty items.
func SplitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// MarkTokenStatus sets a token's status (expiry and exhaustion flip it on
// their own) only if it is still enabled, and invalidates its cache entry.
func (s *Store) MarkTokenStatus(ctx context.Context, id, status int) {
	res := s.DB.WithContext(ctx).Model(&Token{}).Where("id = ? AND status = ?", id, TokenEnabled).Update("status", status)
	if res.Error == nil && res.RowsAffected > 0 {
		s.Bus.Publish(ctx, TopicToken, strconv.Itoa(id))
	}
}
