package model

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchyard/common/crypto"
	"switchyard/common/errs"
)

// afterCreateUserHooks run inside the creating transaction, after the row
// exists: starting quota and invite rewards hang here. Log rows a hook
// stages for the log database (ledger_log_outbox.go) are delivered after
// the commit.
var afterCreateUserHooks []func(ctx context.Context, s *Store, tx *gorm.DB, u *User) ([]stagedLog, error)

// CreateUser inserts u (Password already hashed) with a fresh aff code, and
// runs the after-create hooks in the same transaction: either all of it is
// written or nothing is.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	if u.Role == 0 {
		u.Role = RoleCommon
	}
	if u.Status == 0 {
		u.Status = UserEnabled
	}
	if u.Group == "" {
		u.Group = "default"
	}
	if u.DisplayName == "" {
		u.DisplayName = u.Username
	}
	u.AffCode = crypto.RandomString(4) + crypto.RandomString(4)
	u.CreatedTime = time.Now().Unix()
	var staged []stagedLog
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		staged = staged[:0] // a retried transaction stages afresh
		if err := tx.Create(u).Error; err != nil {
			return err
		}
		for _, h := range afterCreateUserHooks {
			logs, err := h(ctx, s, tx, u)
			if err != nil {
				return err
			}
			staged = append(staged, logs...)
		}
		return nil
	})
	if err != nil {
		if IsUniqueViolation(err) {
			// The translated error no longer names the index; the row
			// that is there does. An outside account taken first: the
			// caller may be the loser of two first sign-ins racing.
			if err := s.outsideTaken(ctx, 0, map[string]any{OutsideGitHub: u.GitHubID, OutsideOIDC: u.OIDCID, OutsideWeChat: u.WeChatID, OutsideLark: u.LarkID}); err != nil {
				return err
			}
			return errs.BadRequest("username %q is already taken", u.Username).WithCode("username_taken")
		}
		return errs.As(err)
	}
	s.Ledger.deliverStaged(ctx, staged)
	if err := s.rewardInviter(ctx, u); err != nil {
		slog.Error("invite reward failed", "user", u.ID, "inviter", u.InviterID, "err", err)
	}
	return nil
}

// RootStartingQuota is root's quota at first start, One API's figure
// (500,000,000,000,000 units, $1,000,000,000 at 500,000 units per dollar):
// root can relay right after setup, and every other user starts from
// QuotaForNewUser. It is credited like any top-up, with a system log row,
// so the quota sums hold from the first request on.
const RootStartingQuota int64 = 500_000_000_000_000

// bootstrapRoot creates the root user at first start. There is no default
// password: INITIAL_ROOT_PASSWORD, or a random one printed once.
func bootstrapRoot(ctx context.Context, s *Store) error {
	if !s.Cfg.IsMaster() {
		return nil
	}
	var n int64
	if err := s.DB.WithContext(ctx).Model(&User{}).Where("role >= ?", RoleRoot).Count(&n).Error; err != nil {
		return fmt.Errorf("look for root: %w", err)
	}
	if n > 0 {
		return nil
	}
	password, printed := s.Cfg.InitialRootPassword, false
	if password == "" {
		password, printed = crypto.RandomString(20), true
	}
	hash, err := crypto.HashPassword(password, s.Cfg.BcryptCost)
	if err != nil {
		return err
	}
	root := &User{Username: "root", Password: hash, Role: RoleRoot, Status: UserEnabled, DisplayName: "Root User"}
	if s.Cfg.InitialRootAccessToken != "" {
		h := crypto.HashKey(s.Cfg.InitialRootAccessToken)
		root.AccessToken = &h
	}
	if err := s.CreateUser(ctx, root); err != nil {
		return fmt.Errorf("create root: %w", err)
	}
	if key := s.Cfg.InitialRootToken; key != "" {
		if !strings.HasPrefix(key, "sk-") {
			key = "sk-" + key
		}
		t := &Token{UserID: root.ID, Name: "Initial Root Token", UnlimitedQuota: true, ExpiredTime: -1,
			KeyHash: crypto.HashKey(key), KeyPrefix: key[:min(7, len(key))], KeySuffix: key[max(0, len(key)-4):]}
		if err := s.CreateToken(ctx, t); err != nil {
			return fmt.Errorf("create INITIAL_ROOT_TOKEN: %w", err)
		}
	}
	if printed {
		// main prints it once in plain text beside the log; it is never
		// stored in clear, and kept out of the structured log, which is
		// often shipped elsewhere.
		s.FirstRootPassword = password
		slog.Warn("created user root with a random password; it is printed once on standard error, beside this log")
	} else {
		slog.Info("created user root with INITIAL_ROOT_PASSWORD")
	}
	return nil
}

func init() { onOpen(bootstrapRoot) }
