package model

import (
	"context"

	"gorm.io/gorm"
)

// SetUserQuota sets a user's quota to quota through the ledger and logs
// the change as a manage record by adminID.
func (s *Store) SetUserQuota(ctx context.Context, userID int, quota int64, adminID int) error {
	current, _, ok := s.Ledger.UserFigures(userID)
	if !ok {
		u, err := s.userRow(ctx, userID)
		if err != nil {
			return err
		}
		current = u.Quota
	}
	delta := quota - current
	if delta == 0 {
		return nil
	}
	u, err := s.userRow(ctx, userID)
	if err != nil {
		return err
	}
	_, err = s.Ledger.Credit(ctx, userID, 0, delta, (&Log{
		UserID: userID, Username: u.Username, Type: LogManage,
	}).describe("admin_set_quota", map[string]any{"admin": adminID, "from": current, "to": quota}), nil)
	return err
}

// creditNewUser gives a new user QuotaForNewUser and, when invited,
// QuotaForInvitee, and the inviter QuotaForInviter, each with a log row.
// The new user's credits go in the creating transaction; the inviter's
// through the ledger once the user exists.
func creditNewUser(ctx context.Context, s *Store, tx *gorm.DB, u *User) ([]stagedLog, error) {
	snap := s.Options.Get()
	var logs []*Log
	add := func(q int64, code string) {
		if q > 0 {
			u.Quota += q
			logs = append(logs, (&Log{UserID: u.ID, Username: u.Username, Type: LogSystem, Quota: q}).describe(code, nil))
		}
	}
	if u.Role >= RoleRoot {
		add(RootStartingQuota, "root_starting_quota")
	}
	add(snap.Int("QuotaForNewUser"), "new_user_quota")
	if u.InviterID != 0 {
		add(snap.Int("QuotaForInvitee"), "invitee_reward")
	}
	if u.Quota == 0 {
		return nil, nil
	}
	if err := tx.Model(&User{}).Where("id = ?", u.ID).Update("quota", u.Quota).Error; err != nil {
		return nil, err
	}
	return s.logIn(tx, logs...)
}

// rewardInviter credits QuotaForInviter after an invited user is created.
func (s *Store) rewardInviter(ctx context.Context, u *User) error {
	q := s.Options.Get().Int("QuotaForInviter")
	if u.InviterID == 0 || q <= 0 {
		return nil
	}
	inviter, err := s.userRow(ctx, u.InviterID)
	if err != nil {
		return err
	}
	_, err = s.Ledger.Credit(ctx, inviter.ID, 0, q, (&Log{
		UserID: inviter.ID, Username: inviter.Username, Type: LogSystem,
	}).describe("inviter_reward", map[string]any{"username": u.Username}), nil)
	return err
}

func init() { afterCreateUserHooks = append(afterCreateUserHooks, creditNewUser) }
