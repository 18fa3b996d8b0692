package model

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gorm.io/gorm"

	"switchyard/common/crypto"
	"switchyard/common/errs"
)

// Roles, as in One API.
const (
	RoleGuest  = 0
	RoleCommon = 1
	RoleAdmin  = 10
	RoleRoot   = 100
)

// User statuses, as in One API.
const (
	UserEnabled  = 1
	UserDisabled = 2
)

// User is one account. Password and AccessToken hold hashes and are never
// serialised. Quota is what is left to spend and UsedQuota what was spent;
// both are kept by the ledger, whose figures win over a stale row.
type User struct {
	ID          int    `gorm:"primaryKey" json:"id"`
	Username    string `gorm:"uniqueIndex;size:64;not null" json:"username"`
	Password    string `gorm:"size:128;not null" json:"-"`
	DisplayName string `gorm:"index;size:64" json:"display_name"`
	Role        int    `gorm:"not null;default:1" json:"role"`
	Status      int    `gorm:"not null;default:1" json:"status"`
	Email       string `gorm:"index;size:128" json:"email"`
	// GitHubID is GitHub's number for the account bound to this one;
	// unbound is "" here and NULL in the row (OutsideID).
	GitHubID OutsideID `gorm:"column:github_id;uniqueIndex:uidx_users_github_id;size:64" json:"github_id"`
	// OIDCID is the OpenID Connect provider's sub for the account
	// (at most 255 characters, as OpenID Connect allows); unbound as
	// GitHubID.
	OIDCID OutsideID `gorm:"column:oidc_id;uniqueIndex:uidx_users_oidc_id;size:255" json:"oidc_id"`
	// WeChatID is the openid of the WeChat account bound to this one
	// (through the operator's WeChat Server); LarkID is Lark's open_id.
	// Unbound as GitHubID.
	WeChatID     OutsideID `gorm:"column:wechat_id;uniqueIndex:uidx_users_wechat_id;size:64" json:"wechat_id"`
	LarkID       OutsideID `gorm:"column:lark_id;uniqueIndex:uidx_users_lark_id;size:64" json:"lark_id"`
	AccessToken  *string   `gorm:"uniqueIndex;size:64" json:"-"`
	Quota        int64     `gorm:"not null;default:0" json:"quota"`
	UsedQuota    int64     `gorm:"not null;default:0" json:"used_quota"`
	RequestCount int64     `gorm:"not null;default:0" json:"request_count"`
	Group        string    `gorm:"size:32;not null;default:default" json:"group"`
	AffCode      string    `gorm:"uniqueIndex;size:32" json:"aff_code"`
	InviterID    int       `gorm:"index" json:"inviter_id"`
	CreatedTime  int64     `json:"created_time"`
	// SessionGen is the generation of the user's console sessions: a
	// session cookie carries the generation it was issued under and is
	// refused once the row moved on. Logout, a password change and a
	// disable move it (issue 13, defect 6).
	SessionGen int64 `gorm:"not null;default:0" json:"-"`
	// QuotaNoticed is set once the user has been told their quota fell
	// below QuotaRemindThreshold, and cleared by a credit
	// (model/quota_notice.go).
	QuotaNoticed bool `gorm:"not null;default:false" json:"-"`
	// Limits are the user's rate limits over all their tokens
	// (model/limits.go).
	Limits `gorm:"embedded"`
	// Period is the user's period quota (model/ledger_period.go).
	Period `gorm:"embedded"`
}

func init() { registerModels(&User{}) }

// ErrUserNotFound is returned when no user matches.
var ErrUserNotFound = errs.NotFound("user not found")

// UserByID reads one user from the database.
// Quota figures are the ledger's current ones.
func (s *Store) UserByID(ctx context.Context, id int) (*User, error) {
	u, err := s.userRow(ctx, id)
	if err != nil {
		return nil, err
	}
	s.Ledger.overlayUser(u)
	return u, nil
}

// userRow reads the users row as stored.
func (s *Store) userRow(ctx context.Context, id int) (*User, error) {
	var u User
	if err := s.DB.WithContext(ctx).First(&u, id).Error; err != nil {
		if notFound(err) {
			return nil, ErrUserNotFound
		}
		return nil, errs.Internal(err)
	}
	return &u, nil
}

// UserByUsername reads one user by name.
func (s *Store) UserByUsername(ctx context.Context, username string) (*User, error) {
	return s.userWhere(ctx, "username", username)
}

// UserByEmail reads one user by email.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	return s.userWhere(ctx, "email", email)
}

// Outside sign-ins: the users column that binds each provider's accounts.
const (
	OutsideGitHub = "github_id"
	OutsideOIDC   = "oidc_id"
	OutsideWeChat = "wechat_id"
	OutsideLark   = "lark_id"
)

// outsideColumns are every column that binds an outside account.
var outsideColumns = []string{OutsideGitHub, OutsideOIDC, OutsideWeChat, OutsideLark}

// UserByOutsideID reads the user bound to an outside account: column is
// one of the Outside columns, id the provider's id for the account.
func (s *Store) UserByOutsideID(ctx context.Context, column, id string) (*User, error) {
	if !slices.Contains(outsideColumns, column) {
		return nil, errs.Internal(fmt.Errorf("UserByOutsideID: %q binds no outside account", column))
	}
	return s.userWhere(ctx, column, id)
}

// SetOutsideID binds u, not yet created, to an outside account (see
// UserByOutsideID).
func (u *User) SetOutsideID(column, id string) {
	switch column {
	case OutsideGitHub:
		u.GitHubID = OutsideID(id)
	case OutsideOIDC:
		u.OIDCID = OutsideID(id)
	case OutsideWeChat:
		u.WeChatID = OutsideID(id)
	case OutsideLark:
		u.LarkID = OutsideID(id)
	}
}

// UserByAffCode finds the inviter behind an aff code.
func (s *Store) UserByAffCode(ctx context.Context, code string) (*User, error) {
	return s.userWhere(ctx, "aff_code", code)
}

// userWhere reads the user whose column holds value; an empty value
// matches nobody (many rows hold an empty email).
func (s *Store) userWhere(ctx context.Context, column, value string) (*User, error) {
	if value == "" {
		return nil, ErrUserNotFound
	}
	var u User
	if err := s.DB.WithContext(ctx).Where(column+" = ?", value).First(&u).Error; err != nil {
		if notFound(err) {
			return nil, ErrUserNotFound
		}
		return nil, errs.Internal(err)
	}
	return &u, nil
}

// UserIDByAccessToken resolves a management access token (its SHA-256 is
// what the users table holds) through the cache.
func (s *Store) UserIDByAccessToken(ctx context.Context, token string) (int, error) {
	return s.Users.idByAccessToken(ctx, crypto.HashKey(token))
}

// ListUsers returns one page of users, newest first, and the total.
func (s *Store) ListUsers(ctx context.Context, offset, limit int) ([]User, int64, error) {
	var users []User
	var total int64
	q := s.DB.WithContext(ctx).Model(&User{})
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, errs.Internal(err)
	}
	if err := q.Order("id desc").Offset(offset).Limit(limit).Find(&users).Error; err != nil {
		return nil, 0, errs.Internal(err)
	}
	for i := range users {
		s.Ledger.overlayUser(&users[i])
	}
	return users, total, nil
}

// SearchUsers matches keyword against id, username, display name and email.
func (s *Store) SearchUsers(ctx context.Context, keyword string, offset, limit int) ([]User, error) {
	var users []User
	// LOWER on both sides: PostgreSQL's LIKE is case-sensitive where
	// SQLite's and MySQL's are not, and an admin's search should find the
	// same users on every database.
	like := strings.ToLower(likePattern(keyword))
	q := s.DB.WithContext(ctx).Where("LOWER(username) LIKE ? ESCAPE '!' OR LOWER(display_name) LIKE ? ESCAPE '!' OR LOWER(email) LIKE ? ESCAPE '!'", like, like, like)
	if id, err := strconv.Atoi(keyword); err == nil {
		q = s.DB.WithContext(ctx).Where("id = ?", id).Or(q)
	}
	if err := q.Order("id desc").Offset(offset).Limit(limit).Find(&users).Error; err != nil {
		return nil, errs.Internal(err)
	}
	for i := range users {
		s.Ledger.overlayUser(&users[i])
	}
	return users, nil
}

// UpdateUserFields writes the given columns of one user and invalidates
// its cache entry everywhere. Quota columns are the ledger's: never here.
func (s *Store) UpdateUserFields(ctx context.Context, id int, fields map[string]any) error {
	for k := range fields {
		if k == "quota" || k == "used_quota" || k == "request_count" {
			return errs.Internal(fmt.Errorf("UpdateUserFields: %s belongs to the ledger", k))
		}
	}
	for _, col := range outsideColumns {
		// A plain string would be written as is: "" must unbind (NULL),
		// not take the one '' the unique index allows.
		if v, ok := fields[col].(string); ok {
			fields[col] = OutsideID(v)
		}
	}
	_, newPassword := fields["password"]
	if st, ok := fields["status"]; newPassword || (ok && st != UserEnabled) {
		// A new password or a disable ends every session of the user.
		fields["session_gen"] = gorm.Expr("session_gen + 1")
	}
	res := s.DB.WithContext(ctx).Model(&User{}).Where("id = ?", id).Updates(fields)
	if res.Error != nil {
		if IsUniqueViolation(res.Error) {
			if err := s.outsideTaken(ctx, id, fields); err != nil {
				return err
			}
			return errs.BadRequest("username, email or access token already taken")
		}
		return errs.Internal(res.Error)
	}
	if res.RowsAffected == 0 {
		// Updates reports 0 when nothing changed as well; tell the two apart.
		if _, err := s.UserByID(ctx, id); err != nil {
			return err
		}
	}
	s.Bus.Publish(ctx, TopicUser, strconv.Itoa(id))
	return nil
}

// EndSessions ends every console session of the user, on every node: the
// generation moves on, and the invalidation reaches every user cache.
func (s *Store) EndSessions(ctx context.Context, id int) error {
	if err := s.DB.WithContext(ctx).Model(&User{}).Where("id = ?", id).Update("session_gen", gorm.Expr("session_gen + 1")).Error; err != nil {
		return errs.Internal(err)
	}
	s.Bus.Publish(ctx, TopicUser, strconv.Itoa(id))
	return nil
}

// SetAccessToken stores the hash of a new management access token.
func (s *Store) SetAccessToken(ctx context.Context, id int, token string) error {
	h := crypto.HashKey(token)
	return s.UpdateUserFields(ctx, id, map[string]any{"access_token": h})
}

// DeleteUserHooks run inside the deleting transaction (tokens go with the
// user); files that own per-user rows register one from init.
var deleteUserHooks []func(tx *gorm.DB, userID int) error

// DeleteUser removes a user and what belongs to them in one transaction.
func (s *Store) DeleteUser(ctx context.Context, id int) error {
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Delete(&User{}, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrUserNotFound
		}
		for _, h := range deleteUserHooks {
			if err := h(tx, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		var e *errs.Error
		if errors.As(err, &e) {
			return e
		}
		return errs.Internal(err)
	}
	s.Ledger.forget(id)
	s.Bus.Publish(ctx, TopicUser, strconv.Itoa(id))
	s.Bus.Publish(ctx, TopicToken, "*")
	return nil
}

// CachedUser is what the hot path needs to know of a user.
type CachedUser struct {
	ID         int
	Username   string
	Role       int
	Status     int
	Group      string
	SessionGen int64
	// Limits are the user's rate limits.
	Limits Limits
}

// UserCache keeps CachedUser entries and access-token lookups in memory,
// dropped on invalidation and refilled on the next read.
type UserCache struct {
	db *gorm.DB

	mu     sync.RWMutex
	byID   map[int]*CachedUser
	byHash map[string]int
}

func newUserCache(db *gorm.DB, bus *Bus) *UserCache {
	c := &UserCache{db: db, byID: map[int]*CachedUser{}, byHash: map[string]int{}}
	bus.Subscribe(TopicUser, func(key string) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if key == "*" {
			c.byID = map[int]*CachedUser{}
			c.byHash = map[string]int{}
			return
		}
		id, _ := strconv.Atoi(key)
		delete(c.byID, id)
		for h, uid := range c.byHash {
			if uid == id {
				delete(c.byHash, h)
			}
		}
	})
	return c
}

// Get returns the cached view of user id, reading the row on a miss.
func (c *UserCache) Get(ctx context.Context, id int) (*CachedUser, error) {
	c.mu.RLock()
	u, ok := c.byID[id]
	c.mu.RUnlock()
	if ok {
		return u, nil
	}
	var row User
	if err := c.db.WithContext(ctx).Select("id", "username", "role", "status", "group", "session_gen", "rpm_limit", "tpm_limit", "rpd_limit", "max_parallel_requests").First(&row, id).Error; err != nil {
		if notFound(err) {
			return nil, ErrUserNotFound
		}
		return nil, errs.Internal(err)
	}
	u = &CachedUser{ID: row.ID, Username: row.Username, Role: row.Role, Status: row.Status, Group: row.Group, SessionGen: row.SessionGen, Limits: row.Limits}
	c.mu.Lock()
	c.byID[id] = u
	c.mu.Unlock()
	return u, nil
}

func (c *UserCache) idByAccessToken(ctx context.Context, hash string) (int, error) {
	c.mu.RLock()
	id, ok := c.byHash[hash]
	c.mu.RUnlock()
	if ok {
		return id, nil
	}
	var row User
	if err := c.db.WithContext(ctx).Select("id").Where("access_token = ?", hash).First(&row).Error; err != nil {
		if notFound(err) {
			return 0, ErrUserNotFound
		}
		return 0, errs.Internal(err)
	}
	c.mu.Lock()
	c.byHash[hash] = row.ID
	c.mu.Unlock()
	return row.ID, nil
}

// Flush empties the cache (the SYNC_FREQUENCY safety net).
func (c *UserCache) Flush() {
	c.mu.Lock()
	c.byID = map[int]*CachedUser{}
	c.byHash = map[string]int{}
	c.mu.Unlock()
}
